"""A real Mosquitto broker on a free loopback port, started and stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"broker did not open port {port}")


@dataclass
class Broker:
    exe: str
    conf: Path
    port: int
    log: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        _wait_port(self.port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # mosquitto writes its persistence file on SIGTERM
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture()
def unused_port() -> int:
    return free_port()


@pytest.fixture()
def broker():
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(exe):
        pytest.skip("mosquitto is not installed (.ci/run installs the Debian package)")
    port = free_port()
    # Mosquitto started as root drops to its own user, which must reach and write this folder
    # (pytest's tmp_path sits under a 0700 folder), or it cannot save its persistence file.
    data = Path(tempfile.mkdtemp(prefix="geniot-mosquitto-", dir="/tmp"))
    data.chmod(0o777)
    conf = data / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
        f"persistence_location {data}/\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n"
    )
    b = Broker(exe, conf, port, data / "broker.log")
    b.start()
    yield b
    b.stop()
    shutil.rmtree(data, ignore_errors=True)
