"""A real Mosquitto broker on a free loopback port, started and stopped by PID."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
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
    tls_port: int | None = None  # the secure broker: TLS listener, users in a password file
    ca_file: Path | None = None
    passwords: dict[str, str] = field(default_factory=dict)
    folder: Path | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def tls_url(self, user: str | None = None, password: str | None = None, host: str = "localhost") -> str:
        """``mqtts://user:password@host:port``; the password defaults to the user's own."""
        if user is None:
            return f"mqtts://{host}:{self.tls_port}"
        return f"mqtts://{user}:{self.passwords[user] if password is None else password}@{host}:{self.tls_port}"

    def start(self) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)], stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        _wait_port(self.port)
        if self.tls_port is not None:
            _wait_port(self.tls_port)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)  # mosquitto writes its persistence file on SIGTERM
            self.proc.wait(timeout=10)
        self.proc = None

    def kill(self) -> None:
        """kill -9: no chance to save; only what the last autosave wrote survives."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
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


# ------------------------------------------------------------------ the secure broker
DEPLOY_CONF = Path(__file__).resolve().parents[2] / "deploy" / "mosquitto"
USERS = {"geniot": "service-secret", "sensor": "sensor-secret", "alerts-reader": "reader-secret"}


def _openssl(*args: str, cwd: Path) -> None:
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)} failed: {result.stderr[-800:]}")


def make_test_pki(folder: Path) -> dict[str, Path]:
    """A test CA, a broker certificate for localhost/127.0.0.1 and a client certificate, made
    with openssl as deploy/mosquitto/README.md shows."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=geniot test CA", cwd=folder)
    (folder / "broker.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, cn in (("broker", "localhost"), ("client", "geniot-client")):
        _openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={cn}", cwd=folder)
        extra = ["-extfile", "broker.ext"] if name == "broker" else []
        _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                 "-out", f"{name}.crt", "-days", "2", *extra, cwd=folder)  # fmt: skip
    for path in folder.iterdir():
        path.chmod(0o644)  # the broker runs as the mosquitto user and must read its key
    return {"ca": folder / "ca.crt", "client": folder / "client.crt", "client_key": folder / "client.key"}


def secure_conf(folder: Path, port: int, tls_port: int, *, require_certificate: bool = False) -> str:
    """deploy/mosquitto/mosquitto.conf with this folder's files and these ports (each replaced
    line must be in the documented file: the test runs what the README tells people to run)."""
    text = (DEPLOY_CONF / "mosquitto.conf").read_text()
    for old, new in (
        ("/etc/mosquitto/geniot/", f"{folder}/"),
        ("/var/lib/mosquitto/", f"{folder}/"),
        ("listener 8883\n", f"listener {tls_port} 127.0.0.1\n"),
        ("listener 1883 127.0.0.1\n", f"listener {port} 127.0.0.1\n"),
        ("sys_interval 10\n", "sys_interval 1\n"),  # the tests wait for $SYS updates
        ("require_certificate false\n", f"require_certificate {str(require_certificate).lower()}\n"),
    ):
        assert old in text, f"deploy/mosquitto/mosquitto.conf no longer has {old!r}"
        text = text.replace(old, new)
    return text


@pytest.fixture(scope="session")
def test_pki(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    folder = Path(tempfile.mkdtemp(prefix="geniot-pki-", dir="/tmp"))
    folder.chmod(0o755)
    yield make_test_pki(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _secure_broker(test_pki, *, require_certificate: bool = False):
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not os.path.exists(exe) or not os.path.exists(passwd):
        pytest.skip("mosquitto (with mosquitto_passwd) is not installed")
    data = Path(tempfile.mkdtemp(prefix="geniot-mosquitto-tls-", dir="/tmp"))
    data.chmod(0o777)
    for name in ("ca.crt", "broker.crt", "broker.key"):
        shutil.copy(test_pki["ca"].parent / name, data / name)
        (data / name).chmod(0o644)
    shutil.copy(DEPLOY_CONF / "acl", data / "acl")
    for i, (user, secret) in enumerate(USERS.items()):
        subprocess.run([passwd, "-b", *(["-c"] if i == 0 else []), str(data / "passwd"), user, secret], check=True, timeout=30)
    for name in ("passwd", "acl"):
        (data / name).chmod(0o644)
    port, tls_port = free_port(), free_port()
    conf = data / "mosquitto.conf"
    conf.write_text(secure_conf(data, port, tls_port, require_certificate=require_certificate))
    b = Broker(exe, conf, port, data / "broker.log", tls_port=tls_port, ca_file=data / "ca.crt", passwords=dict(USERS), folder=data)
    b.start()
    return b


@pytest.fixture()
def secure_broker(test_pki):
    """Mosquitto with deploy/mosquitto's config: TLS (a test CA), users from a mosquitto_passwd
    file, the documented ACL, persistence every second."""
    b = _secure_broker(test_pki)
    yield b
    b.stop()
    shutil.rmtree(b.folder, ignore_errors=True)


@pytest.fixture()
def cert_broker(test_pki):
    """The same broker with require_certificate true (clients need a certificate of the CA)."""
    b = _secure_broker(test_pki, require_certificate=True)
    yield b
    b.stop()
    shutil.rmtree(b.folder, ignore_errors=True)


@pytest.fixture()
def stock_broker(tmp_path):
    """Mosquitto with its default limits (as `mosquitto -p PORT`), $SYS every second."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not os.path.exists(exe):
        pytest.skip("mosquitto is not installed")
    port = free_port()
    conf = tmp_path / "stock.conf"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\n")
    b = Broker(exe, conf, port, tmp_path / "stock.log")
    b.start()
    yield b
    b.stop()


@pytest.fixture()
def rsyslog(tmp_path):
    """A real rsyslogd receiving on loopback (tests/siem/rsyslog_receiver.py)."""
    from siem.rsyslog_receiver import Rsyslog, find_rsyslogd

    exe = find_rsyslogd()
    if exe is None:
        pytest.skip("rsyslogd is not installed (.ci/run installs Debian's rsyslog package)")
    receiver = Rsyslog(exe, tmp_path)
    receiver.start()
    yield receiver
    receiver.stop()
