"""One pool of worker processes per process, for CPU-bound work on big batches (parsing RDF
pages, rendering records). On a two-core machine this roughly halves imports and harvests.

Workers are forked, not spawned (spawn would re-run the caller's main script), and only from a
process that runs a single thread, so no lock held by another thread can be inherited: the CLI
(imports, harvests, the scheduler) gets workers, the threaded web server and test servers do
the work in line. ``ODAPP_WORKERS=0`` turns them off.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import multiprocessing
import os
import signal
import threading
from concurrent.futures import ProcessPoolExecutor

_pool: ProcessPoolExecutor | None = None
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_count() -> int:
    configured = os.environ.get("ODAPP_WORKERS")
    if configured is not None:
        return max(0, int(configured))
    return os.cpu_count() or 1


def _die_with_parent(parent: int) -> None:
    """A worker ends when the process that forked it ends, also by SIGKILL (a killed harvest
    left its workers waiting for ever): Linux sends it SIGTERM then."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: workers end with the pool as before
        return
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(0)


def pool() -> ProcessPoolExecutor | None:
    """The shared pool, or None where work must stay in this process."""
    global _pool
    if _pool is not None:
        return _pool
    if worker_count() < 2 or threading.active_count() != 1:
        return None
    _pool = ProcessPoolExecutor(
        worker_count(),
        mp_context=multiprocessing.get_context("fork"),
        initializer=_die_with_parent,
        initargs=(os.getpid(),),
    )
    atexit.register(_pool.shutdown, cancel_futures=True)
    return _pool
