"""Security detection in the running plant service, against a real Mosquitto broker whose ACL
vouches for each publisher (``pattern write pub/%u/#``) and a real DuckDB store.

The parity test sends one attacked stream (2 pumps; fdi, replay, flood; 8.4 plant hours) both
ways: live through the broker into the service (``geniot simulate --attacks --mqtt --rate``), and
offline through ``geniot security detect`` on the log the simulator wrote of what it sent. Both
use the same security detector, fitted on the clean history on the same clock, and must raise the
same events.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from siem.siem_reader import parse_cef, parse_sd
from typer.testing import CliRunner
from waiting import wait_until

from geniot.cli.main import app as cli
from geniot.core.settings import Settings
from geniot.data.sim_attacks import scaled_log
from geniot.ingest.mqtt_target import MQTTTarget, connect_blocking, make_client
from geniot.security import SecurityDetector, messages_from_frame
from geniot.security.lagged import LAG_MINUTES
from geniot.service.app import create_app
from tests.integration.conftest import _wait_port, free_port

pytestmark = pytest.mark.integration

TOKEN = "security-admin-token"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}
SERVICE_PW, GATEWAY_PW = "service-secret", "gateway-secret"
GATEWAYS = ("gw-P-1", "gw-P-2", "intruder")  # every gateway has its own account; "intruder" is a valid but foreign one
ACL = """user geniot
topic read pub/#
topic readwrite geniot/alerts/#
topic read $SYS/broker/publish/messages/dropped

# each gateway writes only under its own user name: the topic says who published
pattern write pub/%u/#
"""
RATE = 16.0  # rows per second per asset: the plant's 60 s clock runs 960 times faster
SPEEDUP = RATE * 60.0
SIM = ["--assets", "2", "--days", "0.35", "--interval", "60", "--seed", "2", "--attacks", "fdi,replay,flood", "--history-days", "1"]
# A traffic event starts at the arrival of its first message: live the service's clock, offline
# the time the simulator scheduled it; they differ by the sending delay (pacing plus loopback),
# well under 0.5 s. Integrity and process events start at a message's own time stamp, the same
# both ways to the microsecond the payload carries.
TRAFFIC_TOLERANCE_S, STAMP_TOLERANCE_S = 0.5, 0.001
LIVE_JITTER_S = 0.25  # delivery delay the detector learns as normal (see the stream fixture)


@pytest.fixture(scope="module")
def acl_broker():
    """Mosquitto with a password file (one account per gateway) and the per-user pattern ACL."""
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    passwd = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
    if not os.path.exists(exe) or not os.path.exists(passwd):
        pytest.skip("mosquitto (with mosquitto_passwd) is not installed")
    data = Path(tempfile.mkdtemp(prefix="geniot-mosquitto-acl-", dir="/tmp"))
    data.chmod(0o777)
    users = {"geniot": SERVICE_PW, **{g: GATEWAY_PW for g in GATEWAYS}}
    for i, (user, secret) in enumerate(users.items()):
        subprocess.run([passwd, "-b", *(["-c"] if i == 0 else []), str(data / "passwd"), user, secret], check=True, timeout=30)
    (data / "acl").write_text(ACL)
    for name in ("passwd", "acl"):
        (data / name).chmod(0o644)
    port = free_port()
    (data / "mosquitto.conf").write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous false\npassword_file {data}/passwd\nacl_file {data}/acl\n"
        "persistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\nsys_interval 1\n"
    )
    proc = subprocess.Popen([exe, "-c", str(data / "mosquitto.conf")], stdout=(data / "broker.log").open("a"), stderr=subprocess.STDOUT)
    _wait_port(port)
    yield port
    os.kill(proc.pid, signal.SIGTERM)
    proc.wait(timeout=10)
    shutil.rmtree(data, ignore_errors=True)


@pytest.fixture(scope="module")
def stream(tmp_path_factory):
    """The attacked stream and its clean history (the plant's clock), and a security detector
    fitted on the history on the live clock (the detector sees time only as differences)."""
    folder = tmp_path_factory.mktemp("security-stream")
    result = CliRunner().invoke(cli, ["simulate", *SIM, "--out", str(folder / "attacked.csv"), "--normal-out", str(folder / "normal.csv"),
                                      "--labels", str(folder / "labels.csv")])  # fmt: skip
    assert result.exit_code == 0, result.output
    origin = pd.read_csv(folder / "attacked.csv", usecols=["received_at"])["received_at"].min()
    normal = scaled_log(pd.read_csv(folder / "normal.csv"), speedup=SPEEDUP, start="2030-01-01", origin=origin)
    # the history as this live channel delivers it: scaled, the simulated network delay is a
    # fraction of a millisecond, while loopback on a busy CI machine takes up to a few hundred
    jitter = np.random.default_rng(0).uniform(0.0, LIVE_JITTER_S, normal["message"].max() + 1)
    normal["received_at"] = pd.to_datetime(normal["received_at"]) + pd.to_timedelta(jitter[normal["message"]], unit="s")
    lags = tuple(m / SPEEDUP for m in LAG_MINUTES)  # the plant's thermal lags on the replay's clock
    det = SecurityDetector(window_s=600.0 / SPEEDUP, min_silence_s=5400.0 / SPEEDUP, lag_minutes=lags).fit(messages_from_frame(normal)[0])
    det.save(folder / "detector")
    return folder


def _settings(home: Path, port: int, **more) -> Settings:
    return Settings(home=home, token=TOKEN, mqtt_url=f"mqtt://geniot:{SERVICE_PW}@127.0.0.1:{port}", mqtt_topics="pub/#", **more)


def _service(home: Path, port: int, **more) -> TestClient:
    return TestClient(create_app(_settings(home, port, **more), publisher_prefix="pub"))


def _connected(client: TestClient) -> bool:
    mqtt = client.get("/api/health").json()["components"]["mqtt"]
    return mqtt is not None and mqtt["state"] == "connected"


def _home_with_detector(tmp_path: Path, stream: Path) -> Path:
    home = tmp_path / "home"
    shutil.copytree(stream / "detector", home / "security" / "plant")
    return home


def _events_key(records) -> list[tuple]:
    return sorted((r["asset"], r["kind"], r["attack"]) for r in records)


def _why(record) -> str:
    return re.sub(r"[0-9.]+", "#", record["reason"])


def _paired(records) -> list[dict]:
    """In a stable order both ways: two events of one kind may start at the same step."""
    return sorted(records, key=lambda e: (e["asset"], e["kind"], e["attack"], _why(e), e["start"]))


def _said(records) -> list[str]:
    return [f"{r['asset']} {r['kind']} {r['attack']} {r['start']} {r['end']}: {r['reason'][:90]}" for r in records]


# ------------------------------------------------------------------ parity
def test_the_live_service_raises_the_events_offline_detection_raises(acl_broker, stream, tmp_path):
    home = _home_with_detector(tmp_path, stream)
    sent = tmp_path / "sent.csv"
    runner = CliRunner()
    with _service(home, acl_broker) as client:
        assert client.post("/api/security/activate", json={"name": "plant"}).status_code == 401  # write credentials needed
        r = client.post("/api/security/activate", json={"name": "plant"}, headers=ADMIN)
        assert r.status_code == 200, r.text
        assert r.json()["active"] == "plant"
        assert wait_until(lambda: _connected(client))
        t0 = time.time()
        result = runner.invoke(cli, ["simulate", *SIM, "--mqtt", f"mqtt://127.0.0.1:{acl_broker}", "--rate", str(RATE),
                                     "--publisher-prefix", "pub", "--out", str(sent)], env={"GENIOT_MQTT_PASSWORD": GATEWAY_PW})  # fmt: skip
        assert result.exit_code == 0, result.output
        published = pd.read_csv(sent)
        n_messages = published["message"].nunique()
        assert f"published {n_messages} messages (0 not sent" in result.output
        assert wait_until(lambda: client.get("/api/security").json()["counts"].get("messages", 0) >= n_messages, timeout=30)
        time.sleep(600.0 / SPEEDUP + 2.0)  # open traffic events close once idle for the traffic window (ticked each second)
        live = client.get("/api/security").json()
        health = client.get("/api/health").json()
        elapsed = time.time() - t0
    assert live["counts"]["messages"] == n_messages and live["errors"] == 0, live
    security = health["components"]["security"]
    assert security["active"] == "plant" and security["errors"] == 0 and security["events"] == len(live["recent"])
    ingest = health["ingest"]
    assert ingest["received"] == len(published) and ingest["stored"] + ingest["duplicates"] == len(published)  # stored besides (a flood repeats)

    out = tmp_path / "offline.csv"
    result = runner.invoke(cli, ["security", "detect", str(home / "security" / "plant"), str(sent), "--out", str(out)])
    assert result.exit_code == 0, result.output
    offline = pd.read_csv(out, keep_default_na=False).to_dict(orient="records")
    last_arrival = pd.Timestamp(published["received_at"].max())
    # after the stream ends the service sees its silence grow; offline ends at the last arrival
    live_events = [e for e in live["recent"] if not (e["attack"] == "silence" and pd.Timestamp(e["start"]) >= last_arrival - pd.Timedelta(seconds=1))]
    # a sequential FDI event may still be open when the stream ends (it closes up to five fdi_gaps
    # after its last alarm, four of them waiting for rebuilding evidence): offline closes it at the
    # end of the file, live it stays open (the stream goes on); neither side is judged on those
    fdi_gap_s = SecurityDetector().fdi_gap * 60.0 / SPEEDUP  # the stream fixture's detector: default gap, 60 s plant clock
    still_open = pd.Timestamp(published["ts"].max()) - pd.Timedelta(seconds=5 * fdi_gap_s)
    live_events, offline = ([e for e in events if e["attack"] != "fdi" or pd.Timestamp(e["end"]) < still_open] for events in (live_events, offline))
    kinds = {(e["kind"], e["attack"]) for e in offline}
    assert {("integrity", "replay"), ("traffic", "flood")} <= kinds, offline  # the stream does hold attacks
    assert _events_key(live_events) == _events_key(offline), (_said(live_events), _said(offline))
    for a, b in zip(_paired(live_events), _paired(offline), strict=True):
        tol = TRAFFIC_TOLERANCE_S if a["kind"] == "traffic" else STAMP_TOLERANCE_S
        gap = abs((pd.Timestamp(a["start"]) - pd.Timestamp(b["start"])).total_seconds())
        assert gap <= tol, (a, b)
        assert _why(a) == _why(b), (a, b)  # the same reason, up to its numbers (a flood's count may differ)
    assert elapsed < 90, f"the live run took {elapsed:.0f} s"


# ------------------------------------------------------------------ publisher identity, storage, restart
def _publish(port: int, user: str, topic: str, flows: list[float]) -> None:
    """Readings stamped as they are sent (the detector's clock check allows a fraction of a second)."""
    c = make_client(f"{user}-{time.time_ns()}", clean=True)
    connect_blocking(c, MQTTTarget.from_url(f"mqtt://{user}:{GATEWAY_PW}@127.0.0.1:{port}", env={}))
    try:
        for flow in flows:
            ts = pd.Timestamp.now(tz="UTC").tz_localize(None).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
            payload = {"ts": ts, "values": {"speed_rpm": 1450.0, "flow_m3h": flow}}
            c.publish(topic, json.dumps(payload), qos=1).wait_for_publish(timeout=10)
            time.sleep(60.0 / SPEEDUP)  # one plant interval
    finally:
        c.disconnect()
        c.loop_stop()


def test_unknown_publishers_and_topics_are_security_events_stored_sent_to_the_siem_and_kept(acl_broker, stream, tmp_path, rsyslog):
    home = _home_with_detector(tmp_path, stream)
    with _service(home, acl_broker, syslog=f"tcp://127.0.0.1:{rsyslog.tcp_port}") as client:
        assert client.post("/api/security/activate", json={"name": "plant"}, headers=ADMIN).status_code == 200
        assert wait_until(lambda: _connected(client))
        alerts: list = []
        listener = make_client(f"alerts-{time.time_ns()}", clean=True)
        listener.on_message = lambda c, u, m: alerts.append((m.topic, json.loads(m.payload)))
        connect_blocking(listener, MQTTTarget.from_url(f"mqtt://geniot:{SERVICE_PW}@127.0.0.1:{acl_broker}", env={}))
        listener.subscribe("geniot/alerts/security/#", qos=1)
        time.sleep(0.3)
        _publish(acl_broker, "intruder", "pub/intruder/plant/pumps/P-1", [50.0])  # a valid account, never a gateway of P-1
        _publish(acl_broker, "gw-P-2", "pub/gw-P-2/plant/pumps-x/P-2", [50.0])  # a known gateway on a topic never seen
        _publish(acl_broker, "intruder", "pub/gw-P-1/plant/pumps/P-1", [50.0])  # forging a gateway's name: the broker refuses
        assert wait_until(lambda: client.get("/api/health").json()["components"]["mqtt"]["messages"] >= 2)
        time.sleep(1.0)  # the refused message would have arrived by now
        assert client.get("/api/health").json()["components"]["mqtt"]["messages"] == 2
        # spoof events stay open while the stream goes on; a tick closes them once idle for the window
        assert wait_until(lambda: len(client.get("/api/events", params={"kind": "security"}).json()) == 2, timeout=10)
        stored = client.get("/api/events", params={"kind": "security"}).json()
        assert client.get("/api/events", params={"kind": "process"}).json() == []
        assert wait_until(lambda: len(alerts) >= 2, timeout=10)
        listener.disconnect()
        listener.loop_stop()
    assert sorted(t for t, _ in alerts) == ["geniot/alerts/security/P-1", "geniot/alerts/security/P-2"]  # published on MQTT too
    assert {a["id"] for _, a in alerts} == {e["id"] for e in stored} and {a["attack"] for _, a in alerts} == {"spoof"}
    received = rsyslog.wait_for(2)  # the SIEM forwarder took them from the store's event hook
    cef = {parse_sd(r["sd"])["geniot@32473"]["id"]: parse_cef(r["msg"])[1] for r in received}
    assert set(cef) == {e["id"] for e in stored}
    assert {(ext["cat"], ext["cs4"]) for ext in cef.values()} == {("integrity", "spoof")}
    assert any("publisher 'intruder' never seen" in ext["reason"] for ext in cef.values())
    by_asset = {e["asset"]: e for e in stored}
    assert set(by_asset) == {"P-1", "P-2"}
    assert by_asset["P-1"]["kind"] == "integrity" and by_asset["P-1"]["attack"] == "spoof"
    assert "publisher 'intruder' never seen on topic 'plant/pumps/P-1'" in by_asset["P-1"]["reason"]
    assert by_asset["P-1"]["source"] == "plant/pumps/P-1|intruder"
    assert "topic 'plant/pumps-x/P-2' never seen" in by_asset["P-2"]["reason"]

    with _service(home, acl_broker) as client:  # a restart: the detector is active again, the events are kept
        sec = client.get("/api/health").json()["components"]["security"]
        assert sec["active"] == "plant" and sec["restore_error"] is None
        again = client.get("/api/events", params={"kind": "security"}).json()
        assert sorted(e["id"] for e in again) == sorted(e["id"] for e in stored)
        assert client.post("/api/security/deactivate", headers=ADMIN).json() == {"deactivated": True}
    with _service(home, acl_broker) as client:
        assert client.get("/api/health").json()["components"]["security"]["active"] is None


def test_a_failing_detector_is_contained_and_counted_while_readings_are_stored(acl_broker, stream, tmp_path):
    home = _home_with_detector(tmp_path, stream)
    state = home / "security" / "plant" / "security.json"
    spec = json.loads(state.read_text())
    spec["assets"]["P-1"]["channels"].append("not_a_sensor")  # a detector that does not fit this plant's data
    state.write_text(json.dumps(spec))
    with _service(home, acl_broker) as client:
        assert client.post("/api/security/activate", json={"name": "plant"}, headers=ADMIN).status_code == 200
        assert wait_until(lambda: _connected(client))
        # rows of P-1 from its own gateway reach the generative model, which cannot score them
        _publish(acl_broker, "gw-P-1", "pub/gw-P-1/plant/pumps/P-1", [50.0 + i for i in range(12)])
        assert wait_until(lambda: client.get("/api/health").json()["ingest"]["stored"] == 24)
        health = client.get("/api/health").json()
        assert client.post("/api/security/activate", json={"name": "missing"}, headers=ADMIN).status_code == 404
    sec = health["components"]["security"]
    assert sec["errors"] > 0 and sec["last_error"], sec
    assert any("security detection failed" in p for p in health["problems"])
    assert health["status"] == "degraded" and health["ingest"]["stored"] == 24


# ------------------------------------------------------------------ the simulator's live publishing
def test_simulated_attacks_published_live_say_what_the_broker_refused(acl_broker, tmp_path):
    """A spoofing publisher without a broker account cannot log in: its messages are said as not
    sent; the gateways' messages go out on their guarded topics. Bad option mixes are refused."""
    runner = CliRunner()
    sent = tmp_path / "sent.csv"
    args = ["simulate", "--assets", "2", "--days", "0.2", "--seed", "1", "--attacks", "spoof", "--mqtt", f"mqtt://127.0.0.1:{acl_broker}",
            "--rate", "200", "--publisher-prefix", "pub", "--out", str(sent)]  # fmt: skip
    result = runner.invoke(cli, args, env={"GENIOT_MQTT_PASSWORD": GATEWAY_PW})
    assert result.exit_code == 0, result.output
    log = pd.read_csv(sent)
    foreign = sorted(p for p in log["publisher"].unique() if p not in GATEWAYS)
    assert foreign, "the seed no longer spoofs a publisher"
    n_foreign = log[log["publisher"].isin(foreign)]["message"].nunique()
    n_all = log["message"].nunique()
    assert f"published {n_all - n_foreign} messages ({n_foreign} not sent" in result.output
    for publisher in foreign:
        assert f"publisher {publisher}" in result.output and "Not authorized" in result.output
    arrival = pd.to_datetime(log["received_at"])
    assert abs((arrival.min() - pd.Timestamp.now(tz="UTC").tz_localize(None)).total_seconds()) < 60  # the live clock: now
    for bad, words in ((["--rate", "5"], "go with --mqtt"), (["--per-signal", "--mqtt", "mqtt://127.0.0.1:1"], "drop --per-signal"),
                       (["--publisher-prefix", "pub"], "go with --mqtt")):  # fmt: skip
        r = runner.invoke(cli, ["simulate", "--attacks", "fdi", "--days", "0.1", "--out", str(tmp_path / "x.csv"), *bad])
        assert r.exit_code != 0 and words in r.output, r.output
