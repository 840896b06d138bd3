"""Reliability under hostile input and crashes: the plant service as an attacker and a careless
integrator would feed it, on loopback.

One run, all real processes: a Mosquitto broker with persistence (``deploy/mosquitto``-style
settings: saved after every change), ``geniot serve --mqtt`` as a subprocess with its own home, a
publisher sending valid per-asset readings (QoS 1, each reading a unique asset/signal/time key)
mixed with hostile MQTT messages of many classes, hostile HTTP requests and files, and — mid-stream
— ``kill -9`` of the service and of the broker, each restarted. At the end every valid reading the
broker acknowledged must be in the store exactly once (with its value), nothing hostile may be
stored, no HTTP answer may be 5xx, nothing may be written outside the service's home, and
``/api/health`` must have been truthful (never "ok" while the service was not storing).

    .venv/bin/python benchmarks/reliability.py --valid 20000 --hostile 10000 --kills 2

The integration test ``tests/integration/test_hostile_inputs.py`` runs the same harness small.
"""

from __future__ import annotations

import argparse
import functools
import gzip
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "reliability-token"
ASSETS = ("P-1", "P-2", "P-3")
SIGNALS = ("speed_rpm", "flow_m3h", "pressure_bar", "bearing_temp_c")


# ------------------------------------------------------------------------------------ processes
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before port {port} opened")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


class Process:
    """A process started in its own session, stopped (TERM, then KILL) or killed by its group."""

    proc: subprocess.Popen | None = None

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Broker(Process):
    folder: Path
    port: int
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        conf = self.folder / "mosquitto.conf"
        # Persistence saved after every change, so a kill -9 loses nothing the broker acknowledged
        # (the settings geniot's deploy/mosquitto config uses); no queue limit for the service.
        conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.folder}/\nautosave_interval 1\nautosave_on_changes true\n"
            "max_queued_messages 0\nmax_queued_bytes 0\nmax_inflight_messages 1000\n"
        )
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([exe, "-c", str(conf)], stdout=(self.folder / "broker.log").open("a"),
                                     stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        wait_port(self.port, 15, self.proc)



@dataclass
class Service(Process):
    home: Path
    port: int
    broker_url: str
    log: Path
    proc: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "GENIOT_HOME": str(self.home), "GENIOT_TOKEN": TOKEN, "OMP_NUM_THREADS": "1",
               "PYTHONPATH": str(ROOT / "src")}  # fmt: skip
        cmd = [sys.executable, "-m", "geniot.cli.main", "serve", "--mqtt", self.broker_url, "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, env=env, stdout=self.log.open("a"), stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, 60, self.proc)



# ------------------------------------------------------------------------------------ inputs
def hostile_mqtt(k: int, now: datetime) -> tuple[str, str, bytes]:
    """(class, topic, payload) of the k-th hostile MQTT message; classes rotate."""
    ts = now.isoformat()
    classes = [
        ("nested_json", "plant/a/P-1", b"[" * 30_000 + b"]" * 30_000),
        ("nested_object", "plant/a/P-1", b'{"ts":' * 8_000 + b"1" + b"}" * 8_000),
        ("extreme_values", "plant/a/P-1", json.dumps({"ts": ts, "values": {s: 1e308 for s in SIGNALS}}).encode()),
        ("nan_literal", "plant/a/P-2", f'{{"ts": "{ts}", "values": {{"flow_m3h": NaN}}}}'.encode()),
        ("not_json", "plant/a/P-2", bytes(range(256)) * 4),
        ("oversize", "plant/a/P-2", b'{"ts": "' + ts.encode() + b'", "values": {"x": 1}, "pad": "' + b"x" * 70_000 + b'"}'),
        ("dot_dot_asset", "plant/a/..", json.dumps({"ts": ts, "values": {"flow_m3h": 1.0}}).encode()),
        ("control_chars", "plant/a/P-1", json.dumps({"ts": ts, "values": {"flow\n\x00": 1.0}}).encode()),
        ("long_name", "plant/a/" + "A" * 10_000, json.dumps({"ts": ts, "values": {"flow_m3h": 1.0}}).encode()),
        ("future_ts", "plant/a/P-3", json.dumps({"ts": "9999-01-01T00:00:00", "values": {"flow_m3h": 1.0}}).encode()),
        ("ancient_ts", "plant/a/P-3", json.dumps({"ts": "1000-01-01T00:00:00", "values": {"flow_m3h": 1.0}}).encode()),
        ("wrong_types", "plant/a/P-3", json.dumps({"ts": ts, "values": {"flow_m3h": "12.5"}}).encode()),
        ("unknown_fields", "plant/a/P-3", json.dumps({"ts": ts, "values": {"flow_m3h": 1}, "admin": True}).encode()),
        ("many_signals", "plant/a/P-3", json.dumps({"ts": ts, "values": {f"s{i}": i for i in range(3000)}}).encode()),
        ("empty", "plant/a/P-1", b""),
        ("out_of_range", "plant/a/P-2", json.dumps({"ts": ts, "values": {"speed_rpm": -5e12}}).encode()),
    ]
    name, topic, payload = classes[k % len(classes)]
    return name, topic, payload


@functools.cache
def gzip_bomb() -> bytes:
    """200 MB of zeros in about 200 kB."""
    gz = io.BytesIO()
    with gzip.GzipFile(fileobj=gz, mode="wb") as f:
        for _ in range(200):
            f.write(b"0" * 1_000_000)
    return gz.getvalue()


def hostile_http(k: int) -> tuple[str, str, str, dict]:
    """(class, method, path, httpx request kwargs) of the k-th hostile HTTP request."""
    now = datetime.now(UTC).replace(microsecond=0).isoformat()
    auth = {"Authorization": f"Bearer {TOKEN}"}
    classes = [
        ("delete_dotdot_model", "DELETE", "/api/models/%2E%2E", {"headers": auth}),
        ("train_dotdot_model", "POST", "/api/models/train", {"headers": auth, "json": {"model": "..", "asset": "P-1"}}),
        ("nested_body", "POST", "/api/ingest", {"headers": {**auth, "content-type": "application/json"}, "content": b"[" * 50_000}),
        ("no_token_big_body", "POST", "/api/ingest", {"content": b"x" * 5_000_000, "headers": {"content-type": "application/json"}}),
        ("upload_year_9999", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.csv", b"ts,flow_m3h\n9999-01-01T00:00:00,1\n")}, "data": {"asset": "P-9"}}),
        ("upload_bad_asset", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.csv", f"ts,flow\n{now},1\n".encode())}, "data": {"asset": "../../x"}}),
        ("upload_gzip_bomb", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.csv.gz", gzip_bomb())}, "data": {"asset": "P-9"}}),
        ("upload_garbage", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.parquet", bytes(range(256)) * 8)}, "data": {"asset": "P-9"}}),
        ("upload_empty", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.csv", b"")}, "data": {"asset": "P-9"}}),
        ("upload_header_only", "POST", "/api/ingest/file", {"headers": auth, "files": {"file": ("x.csv", b"ts,flow_m3h\n")}, "data": {"asset": "P-9"}}),
        ("readings_bad_name", "GET", "/api/assets/%2E%2E/readings", {}),
        ("readings_bad_time", "GET", "/api/assets/P-1/readings?start=notatime", {}),
        ("ask_long", "POST", "/api/ask", {"json": {"question": "average flow " * 5000}}),
        ("json_extreme", "POST", "/api/ingest", {"headers": auth, "json": [{"asset": "P-1", "ts": now, "values": {"flow_m3h": 1e308}}]}),
    ]
    return classes[k % len(classes)]


def valid_messages(n_readings: int, start: datetime) -> list[tuple[str, bytes, list[tuple]]]:
    """Per-asset messages (one reading per signal) with unique keys, one second apart per asset."""
    out = []
    step = 0
    while sum(len(m[2]) for m in out) < n_readings:
        ts = start + timedelta(seconds=step)
        for asset in ASSETS:
            values = {s: round(100.0 + 10 * ((step * 7 + i) % 13) + 0.001 * step, 6) for i, s in enumerate(SIGNALS)}
            keys = [(asset, s, ts.replace(tzinfo=None), v) for s, v in values.items()]
            out.append((f"plant/a/{asset}", json.dumps({"ts": ts.isoformat(), "values": values}).encode(), keys))
        step += 1
    return out


# ------------------------------------------------------------------------------------ the run
@dataclass
class Outcome:
    valid_sent: int = 0
    valid_acked: int = 0
    hostile_mqtt: Counter = field(default_factory=Counter)
    hostile_http: Counter = field(default_factory=Counter)
    http_5xx: list = field(default_factory=list)
    lost: int = 0
    doubled: int = 0
    wrong_value: int = 0
    hostile_stored: int = 0
    outside_home: list = field(default_factory=list)
    health_lies: list = field(default_factory=list)
    kills: list = field(default_factory=list)
    seconds: float = 0.0

    def table(self) -> str:
        rows = [f"| MQTT {name} | {n} | 0 | 0 | - | - |" for name, n in sorted(self.hostile_mqtt.items())]
        rows += [f"| HTTP {name} | {n} | - | - | {sum(1 for c, _ in self.http_5xx if c == name)} | - |" for name, n in sorted(self.hostile_http.items())]
        rows.append(f"| valid readings (QoS 1, acknowledged by the broker) | {self.valid_acked} | {self.lost} | {self.doubled} | - | - |")
        rows.append(f"| kill -9 mid-stream | {len(self.kills)} ({', '.join(self.kills)}) | {self.lost} | {self.doubled} | - | health lies: {len(self.health_lies)} |")
        return "| class | tried | lost | doubled | 5xx | down |\n|---|---|---|---|---|---|\n" + "\n".join(rows)


def run(n_valid: int = 2000, n_hostile: int = 1000, kills: int = 1, work: Path | None = None, say=print) -> Outcome:
    import duckdb
    import httpx
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    started = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="geniot-reliability-", dir="/tmp")) if work is None else Path(work)
    tmp.chmod(0o777)  # mosquitto started as root drops to its own user and must write here
    root = tmp / "root"
    home = root / "home"
    home.mkdir(parents=True)
    broker = Broker(tmp, free_port())
    service = Service(home, free_port(), f"mqtt://127.0.0.1:{broker.port}", tmp / "service.log")
    out = Outcome()
    broker.start()
    service.start()
    base = f"http://127.0.0.1:{service.port}"
    http = httpx.Client(base_url=base, timeout=30)

    acked: dict[int, list[tuple]] = {}
    pending: dict[int, list[tuple]] = {}
    lock = threading.Lock()

    def on_publish(client, userdata, mid, reason_code, properties):
        with lock:
            if mid in pending:
                acked[mid] = pending.pop(mid)

    pub = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="reliability-pub", clean_session=False)
    pub.on_publish = on_publish
    pub.max_inflight_messages_set(100)
    pub.reconnect_delay_set(0.1, 1)
    pub.connect_async("127.0.0.1", broker.port)
    pub.loop_start()

    messages = valid_messages(n_valid, datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6))
    kill_at = {int(len(messages) * (i + 1) / (2 * kills + 1)): ("service" if i % 2 == 0 else "broker") for i in range(2 * kills)}
    trained = False
    k_hostile = k_http = 0
    try:
        for i, (topic, payload, keys) in enumerate(messages):
            if i in kill_at:
                victim = kill_at[i]
                out.kills.append(victim)
                say(f"kill -9 {victim} at message {i}")
                if victim == "service":
                    service.kill()
                    check_health_down(http, out)
                    time.sleep(0.5)
                    service.start()
                else:
                    broker.kill()
                    time.sleep(0.5)
                    broker.start()
            info = pub.publish(topic, payload, qos=1)
            with lock:
                pending[info.mid] = keys
            out.valid_sent += len(keys)
            while k_hostile < round((i + 1) * n_hostile / len(messages)):  # spread evenly over the stream
                name, htopic, hpayload = hostile_mqtt(k_hostile, datetime.now(UTC))
                pub.publish(htopic, hpayload, qos=1)
                out.hostile_mqtt[name] += 1
                k_hostile += 1
            if i % 10 == 0:
                k_http = hostile_http_round(http, k_http, out)
                check_health(http, out)
            if not trained and i == len(messages) // 4:
                trained = train_detector(http, out)  # a live detector makes extreme values reach scoring
            if i % 200 == 0:
                time.sleep(0.01)  # a realistic publisher, not a flood: the flood is its own class
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with lock:
                if not pending:
                    break
            time.sleep(0.2)
        wait_stored(http, expected=len({k[:3] for keys in acked.values() for k in keys}), say=say)
    finally:
        pub.loop_stop()
        pub.disconnect()
        service.stop()
        broker.stop()
        http.close()
    accepted = {k[:3]: k[3] for keys in acked.values() for k in keys}
    out.valid_acked = len(accepted)
    con = duckdb.connect(str(home / "plant.duckdb"), read_only=True)
    rows = con.execute("SELECT asset, signal, ts, value FROM readings").fetchall()
    counts = Counter((a, s, ts) for a, s, ts, _ in rows)
    values = {(a, s, ts): v for a, s, ts, v in rows}
    con.close()
    sent_keys = {k[:3] for _, _, keys in messages for k in keys}
    out.lost = sum(1 for key in accepted if counts.get(key, 0) == 0)
    out.doubled = sum(1 for key, c in counts.items() if c > 1)
    out.wrong_value = sum(1 for key, v in accepted.items() if key in values and abs(values[key] - v) > 1e-9)
    out.hostile_stored = sum(1 for key in counts if key not in sent_keys)
    out.outside_home = sorted(str(p.relative_to(root)) for p in root.rglob("*") if home not in (p, *p.parents))
    out.seconds = time.monotonic() - started
    if work is None:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def hostile_http_round(http, k: int, out: Outcome) -> int:
    name, method, path, kwargs = hostile_http(k)
    out.hostile_http[name] += 1
    try:
        response = http.request(method, path, **kwargs)
        if response.status_code >= 500:
            out.http_5xx.append((name, f"{response.status_code} {response.text[:200]}"))
    except httpx_errors() as exc:  # the server closing early on a refused body is fine
        if "no_token_big_body" not in name:
            out.http_5xx.append((name, f"connection error {exc!r}"))
    return k + 1


def httpx_errors():
    import httpx

    return (httpx.TransportError,)


def check_health(http, out: Outcome) -> None:
    try:
        body = http.get("/api/health").json()
    except Exception as exc:  # noqa: BLE001 - the service may be restarting
        out.health_lies.append(f"health unreachable while up: {exc!r}")
        return
    writer = (body.get("components") or {}).get("writer") or {}
    if body.get("status") == "ok" and writer and not writer.get("alive", True):
        out.health_lies.append(f"status ok with a dead writer: {writer}")


def check_health_down(http, out: Outcome) -> None:
    try:
        http.get("/api/health", timeout=2)
        out.health_lies.append("health answered from a killed service")
    except Exception:  # noqa: BLE001 - it must not answer
        pass


def train_detector(http, out: Outcome) -> bool:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    response = http.post("/api/models/train", headers=auth, json={"model": "P-1-gaussian", "asset": "P-1", "generator": "gaussian", "window": 8})
    if response.status_code >= 500:
        out.http_5xx.append(("train", response.text[:200]))
        return False
    if response.status_code >= 400:
        return False
    job = response.json().get("id")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        state = http.get(f"/api/jobs/{job}").json()
        if state.get("status") in ("done", "failed"):
            return state.get("status") == "done"
        time.sleep(0.5)
    return False


def wait_stored(http, *, expected: int, say, timeout: float = 120.0) -> None:
    """Wait until the store holds at least ``expected`` rows (the service drains the broker)."""
    deadline = time.monotonic() + timeout
    last = -1
    while time.monotonic() < deadline:
        try:
            n = int(http.get("/api/health").json().get("readings", 0))
        except Exception:  # noqa: BLE001
            n = last
        if n >= expected:
            return
        if n != last:
            last = n
        time.sleep(0.5)
    say(f"store holds {last} readings after {timeout:.0f} s, expected at least {expected}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--valid", type=int, default=20_000, help="valid readings to publish")
    parser.add_argument("--hostile", type=int, default=10_000, help="hostile MQTT messages to mix in")
    parser.add_argument("--kills", type=int, default=2, help="kill -9 rounds (each: the service, then the broker)")
    parser.add_argument("--work", type=Path, default=None, help="keep the run's files here")
    args = parser.parse_args()
    out = run(args.valid, args.hostile, args.kills, args.work)
    print(out.table())
    print(json.dumps({"valid_acked": out.valid_acked, "lost": out.lost, "doubled": out.doubled, "wrong_value": out.wrong_value,
                      "hostile_stored": out.hostile_stored, "http_5xx": out.http_5xx[:10], "outside_home": out.outside_home[:10],
                      "health_lies": out.health_lies[:10], "seconds": round(out.seconds, 1)}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
