"""A Mosquitto broker of a test's own: a free port, its config and persistence in a folder of
the test, restartable with the same state (never the system's broker on 1883)."""

from __future__ import annotations

import getpass
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO = os.environ.get("ODAPP_MOSQUITTO", "/usr/sbin/mosquitto")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def available() -> bool:
    return Path(MOSQUITTO).is_file() or shutil.which("mosquitto") is not None


class Mosquitto:
    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or _free_port()
        self.url = f"mqtt://127.0.0.1:{self.port}"
        self.config = folder / "mosquitto.conf"
        self.log = folder / "mosquitto.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.config.write_text(
            "\n".join(
                [
                    f"listener {self.port} 127.0.0.1",
                    "allow_anonymous true",
                    "persistence true",
                    f"persistence_location {folder}/",
                    "autosave_interval 1",
                    # queued QoS 1 messages of an offline persistent session: keep them all
                    "max_queued_messages 0",
                    "max_queued_bytes 0",
                    "message_size_limit 0",
                    "max_packet_size 33554432",  # a 10 MB test payload fits
                    "persistent_client_expiration 1d",
                    f"user {getpass.getuser()}",  # as root: keep writing our folder
                    f"log_dest file {self.log}",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                    "log_type information",
                    "log_type subscribe",
                    "",
                ]
            )
        )

    def start(self, timeout: float = 10) -> Mosquitto:
        binary = MOSQUITTO if Path(MOSQUITTO).is_file() else shutil.which("mosquitto")
        self.process = subprocess.Popen(
            [str(binary), "-c", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start:\n{self.log_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """SIGTERM: mosquitto saves its state and ends; SIGKILL: it just dies."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=20)
        self.process = None

    def restart(self, pause: float = 0.5) -> None:
        self.stop()
        time.sleep(pause)
        self.start()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""
