"""Worker processes end with the process that forked them, also when it is killed (a killed
harvest used to leave its workers waiting for ever)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

CODE = """
import os, time
from catalog.workers import pool
print(pool().submit(os.getpid).result(), flush=True)
time.sleep(120)
"""


def running(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_workers_die_with_a_killed_parent() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", CODE],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "ODAPP_WORKERS": "2"},
    )
    assert parent.stdout is not None
    worker = int(parent.stdout.readline())
    assert worker != parent.pid and running(worker)
    parent.send_signal(signal.SIGKILL)
    parent.wait(10)
    deadline = time.monotonic() + 10
    while running(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not running(worker)
