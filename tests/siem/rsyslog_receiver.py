"""A real rsyslogd for tests and benchmarks: TCP and UDP inputs on free loopback ports, every
message through rsyslog's strict RFC 5424 parser, the parsed fields written as JSON lines."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

CONF = """
global(workDirectory="{dir}" maxMessageSize="64k")
module(load="imtcp")
module(load="imudp")
template(name="fields" type="list" option.jsonf="on") {{
  property(outname="input" name="inputname" format="jsonf")
  property(outname="version" name="protocol-version" format="jsonf")
  property(outname="pri" name="pri" format="jsonf")
  property(outname="timestamp" name="timereported" dateFormat="rfc3339" format="jsonf")
  property(outname="hostname" name="hostname" format="jsonf")
  property(outname="app" name="app-name" format="jsonf")
  property(outname="msgid" name="msgid" format="jsonf")
  property(outname="sd" name="structured-data" format="jsonf")
  property(outname="msg" name="msg" format="jsonf")
}}
ruleset(name="geniot" parser=["rsyslog.rfc5424"]) {{
  action(type="omfile" file="{out}" template="fields")
}}
input(type="imtcp" port="{tcp}" address="127.0.0.1" ruleset="geniot")
input(type="imudp" port="{udp}" address="127.0.0.1" ruleset="geniot" rcvbufSize="8m")
"""


def _free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Rsyslog:
    """rsyslogd -n with a test config, started and stopped by PID."""

    def __init__(self, exe: str, folder: Path) -> None:
        self.exe, self.folder = exe, folder
        self.out, self.log = folder / "received.jsonl", folder / "rsyslogd.log"
        self.tcp_port, self.udp_port = _free_port(socket.SOCK_STREAM), _free_port(socket.SOCK_DGRAM)
        self.conf = folder / "rsyslog.conf"
        self.conf.write_text(CONF.format(dir=folder, out=self.out, tcp=self.tcp_port, udp=self.udp_port))
        self.proc: subprocess.Popen | None = None
        self._probes = 0

    def start(self) -> None:
        cmd = [self.exe, "-n", "-f", str(self.conf), "-i", str(self.folder / "rsyslogd.pid")]
        self.proc = subprocess.Popen(cmd, stdout=self.log.open("a"), stderr=subprocess.STDOUT)
        deadline = time.time() + 20
        while time.time() < deadline:  # TCP listening, and a UDP probe written: both inputs run
            assert self.proc.poll() is None, f"rsyslogd exited: {self.log.read_text()[-2000:]}"
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.tcp_port)) == 0:
                    break
            time.sleep(0.05)
        self._probes += 1
        probe = f"<134>1 - test probe - probe{self._probes} - ready".encode()
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            while time.time() < deadline:
                s.sendto(probe, ("127.0.0.1", self.udp_port))
                if any(r["msgid"] == f"probe{self._probes}" for r in self.records(app="probe")):
                    return
                time.sleep(0.1)
        raise AssertionError(f"rsyslogd did not come up: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        self.proc = None

    def records(self, app: str = "geniot") -> list[dict]:
        if not self.out.exists():
            return []
        text = self.out.read_text(encoding="utf-8")
        # rsyslog may be writing the last line as we read: only whole lines (ending in a newline)
        lines = text.split("\n")[:-1]
        return [r for r in map(json.loads, lines) if r["app"] == app]

    def wait_for(self, n: int, timeout: float = 30.0) -> list[dict]:
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.records()) < n:
            time.sleep(0.1)
        time.sleep(0.3)  # and nothing more comes in after
        return self.records()


def find_rsyslogd() -> str | None:
    exe = shutil.which("rsyslogd") or "/usr/sbin/rsyslogd"
    return exe if os.path.exists(exe) else None
