"""Events leave geniot for a real rsyslog (Debian's package), over TCP and UDP, as CEF and ECS:
`geniot events --syslog`, the sender across a receiver restart, and the live service with
GENIOT_SYSLOG. rsyslog parses every message with its strict RFC 5424 parser and writes the
parsed fields as JSON lines; the tests compare them with the store, event by event."""

from __future__ import annotations

import io
import json
import math
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from siem.siem_reader import parse_cef, parse_sd
from typer.testing import CliRunner

from geniot.cli.main import app as cli
from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.siem import (
    SyslogSender,
    SyslogTarget,
    event_line,
    event_record,
    event_syslog,
    local_hostname,
)

pytestmark = pytest.mark.integration
HOSTILE = 'a|b \\ c=d "q" ]x[ \n line2 \r\n tab\t bell\x07 Öl 温度 CEF:0|evil|'


def _hostile_events(n: int = 150) -> list[dict]:
    """Process, integrity and traffic events, open and closed, unscorable and unknown scores,
    and sensor names and reasons full of characters that CEF and syslog must escape."""
    t0 = datetime(2026, 3, 1, 6, 0)
    events = []
    for i in range(n):
        kind = ("process", "integrity", "traffic")[i % 3]
        start = t0 + timedelta(minutes=7 * i)
        score = math.inf if i % 17 == 0 else float("nan") if i % 19 == 0 else 10.0 + i % 40
        events.append({
            "id": f"P-{i % 4}@{start.isoformat()}", "asset": f"P-{i % 4}", "start_ts": start,
            "end_ts": start + timedelta(minutes=i % 5), "peak_ts": start, "peak_score": score, "threshold": 10.0,
            "top_sensors": f"flow_m3h;{HOSTILE}{i}" if i % 2 else "temp_c", "is_open": i % 10 == 0,
            "kind": kind, "attack": {"integrity": "fdi", "traffic": "flood"}.get(kind),
            "reason": f"reason {i}: {HOSTILE}" if kind != "process" else None,
        })  # fmt: skip
    return events


def _stored(path: Path, events: list[dict]) -> list[dict]:
    """The events through a real store (which keeps its columns only: kind, attack and reason
    are not among them yet), as read back."""
    with SensorStore(path) as store:
        for event in events:
            store.upsert_event(event)
        return store.events(limit=10_000).to_dict("records")


def _visible(text: str) -> str:
    return text.replace("\t", "\ufffd").replace("\x07", "\ufffd")


def _check_cef_message(received: dict, record, *, hostname: str) -> None:
    assert received["version"] == "1" and received["app"] == "geniot" and received["hostname"] == hostname
    assert received["msgid"] == record.kind
    assert datetime.fromisoformat(received["timestamp"]) == record.time
    assert parse_sd(received["sd"]) == {"geniot@32473": {"id": record.id, "asset": record.asset, "kind": record.kind, "state": record.state}}
    header, ext = parse_cef(received["msg"])
    assert header[:3] == ["CEF:0", "geniot", "geniot"] and header[4] == record.signature
    assert ext["externalId"] == record.id and ext["cs1"] == record.asset and ext["cat"] == record.kind
    assert ext["cs2"] == _visible(";".join(record.sensors)) and ext["cs3"] == record.state
    assert int(ext["start"]) == round(record.start.timestamp() * 1000) and int(ext["end"]) == round(record.end.timestamp() * 1000)
    assert ext.get("reason") == (None if record.reason is None else _visible(record.reason))


@pytest.mark.parametrize(("transport", "fmt"), [("tcp", "cef"), ("udp", "cef"), ("tcp", "ecs")])
def test_every_stored_event_reaches_rsyslog_parsed(rsyslog, tmp_path, transport, fmt):
    store = tmp_path / "events.duckdb"
    stored = _stored(store, _hostile_events())
    port = rsyslog.tcp_port if transport == "tcp" else rsyslog.udp_port
    result = CliRunner().invoke(cli, ["events", "--format", fmt, "--store", str(store), "--syslog", f"{transport}://127.0.0.1:{port}"])
    assert result.exit_code == 0, result.output
    assert f"sent {len(stored)} of {len(stored)} event(s)" in result.output and "failed 0" in result.output
    received = rsyslog.wait_for(len(stored))
    assert len(received) == len(stored), f"{len(stored) - len(received)} of {len(stored)} lost over {transport}"
    assert {r["input"] for r in received} == {f"im{transport}"}
    by_id = {parse_sd(r["sd"])["geniot@32473"]["id"]: r for r in received}
    assert len(by_id) == len(stored)
    hostname = local_hostname()
    for event in stored:
        record = event_record(event)
        message = by_id[record.id]
        if fmt == "cef":
            _check_cef_message(message, record, hostname=hostname)
        else:
            assert message["msgid"] == record.kind
            assert json.loads(message["msg"]) == json.loads(event_line(record, "ecs", hostname=hostname))


def test_hostile_kinds_reasons_and_sensors_arrive_intact(rsyslog):
    """The fields the store has no columns for yet (kind, attack, reason) as a security event
    carries them, over both transports."""
    events = _hostile_events(30)
    hostname = "geniot-test"
    for transport, port in (("tcp", rsyslog.tcp_port), ("udp", rsyslog.udp_port)):
        sender = SyslogSender(SyslogTarget(transport, "127.0.0.1", port))
        for event in events:
            assert sender.send(event_syslog(event_record(event), "cef", hostname=hostname))
        sender.close(10)
        assert sender.status()["sent"] == len(events) and sender.status()["failed"] == 0
    received = rsyslog.wait_for(2 * len(events))
    assert len(received) == 2 * len(events)
    for transport in ("imtcp", "imudp"):
        got = [r for r in received if r["input"] == transport]
        assert len(got) == len(events)
        for message, event in zip(sorted(got, key=lambda r: r["timestamp"]), events, strict=True):
            record = event_record(event)
            _check_cef_message(message, record, hostname=hostname)
            if record.attack:
                assert parse_cef(message["msg"])[1]["cs4"] == record.attack


def test_tcp_sender_queues_while_rsyslog_restarts_and_loses_nothing(rsyslog):
    base = {"asset": "P-1", "peak_ts": None, "peak_score": 20.0, "threshold": 10.0, "top_sensors": "flow_m3h", "is_open": False}
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    messages = [
        event_syslog(event_record(base | {"id": f"r{i}", "start_ts": t0 + timedelta(minutes=i), "end_ts": t0 + timedelta(minutes=i)}),
                     "cef", hostname="h")
        for i in range(60)
    ]  # fmt: skip
    sender = SyslogSender(SyslogTarget("tcp", "127.0.0.1", rsyslog.tcp_port), retry_max_s=0.2)
    for m in messages[:20]:
        sender.send(m)
    assert len(rsyslog.wait_for(20)) == 20
    rsyslog.stop()
    for m in messages[20:40]:
        sender.send(m)  # the receiver is away: queued, never dropped
    deadline = time.time() + 10
    while time.time() < deadline and sender.status()["state"] != "disconnected":
        time.sleep(0.05)
    assert sender.status()["state"] == "disconnected" and sender.status()["queued"] > 0
    rsyslog.start()
    for m in messages[40:]:
        sender.send(m)
    assert sender.flush(30), sender.status()
    sender.close()
    received = rsyslog.wait_for(60)
    ids = [parse_sd(r["sd"])["geniot@32473"]["id"] for r in received]
    assert sorted(ids, key=lambda s: int(s[1:])) == [f"r{i}" for i in range(60)], "lost or repeated over the restart"
    status = sender.status()
    assert status["sent"] == 60 and status["failed"] == 0 and status["reconnects"] >= 1


def test_the_live_service_forwards_every_stored_event(rsyslog, tmp_path):
    from fastapi.testclient import TestClient

    from geniot.service.app import create_app

    token = {"Authorization": "Bearer siem"}
    settings = Settings(home=tmp_path / "home", token="siem", syslog=f"tcp://127.0.0.1:{rsyslog.tcp_port}")
    plant = simulate_plant(PlantConfig(n_assets=1, days=1.0, seed=5, fault_rate=4.0))
    frame = plant.readings.assign(ts=plant.readings["ts"] + (pd.Timestamp.now() - pd.Timedelta(hours=1) - plant.readings["ts"].max()))
    buf = io.BytesIO()
    frame.to_csv(buf, index=False)
    asset = plant.assets()[0]
    app = create_app(settings)
    with TestClient(app) as client:
        client.post("/api/ingest/file", files={"file": ("p.csv", buf.getvalue(), "text/csv")}, headers=token)
        job = client.post("/api/models/train", json={"model": "live", "asset": asset, "window": 8}, headers=token).json()
        deadline = time.time() + 120
        while time.time() < deadline and client.get(f"/api/jobs/{job['id']}").json()["status"] not in ("done", "failed"):
            time.sleep(0.2)
        assert client.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
        # The last real hour replayed as the next one, flow ten times too high for its first 20
        # minutes: an event that opens and closes (held-flat values would read as stuck sensors).
        last = client.get(f"/api/assets/{asset}/readings", params={"last": 60}).json()
        t_last, hour = datetime.fromisoformat(last["timestamps"][-1]), last["signals"]
        rows = [{"asset": asset, "ts": (t_last + timedelta(minutes=i + 1)).isoformat(),
                 "values": {k: v[i] * (10 if k == "flow_m3h" and i < 20 else 1) for k, v in hour.items() if v[i] is not None}}
                for i in range(60)]  # fmt: skip
        assert client.post("/api/ingest", json=rows, headers=token).status_code == 200
        deadline = time.time() + 30
        while time.time() < deadline and not any(
            e["start_ts"] > t_last.isoformat() for e in client.get("/api/events", params={"limit": 10_000}).json()
        ):
            time.sleep(0.2)
        siem = client.get("/api/health").json()["components"]["siem"]
        assert siem["target"] == f"tcp://127.0.0.1:{rsyslog.tcp_port}" and siem["sent"] > 0 and siem["failed"] == 0
    with SensorStore(settings.store_path, read_only=True) as db:
        stored = db.events(limit=10_000).to_dict("records")
    assert any(e["start_ts"] > pd.Timestamp(t_last) for e in stored), "the live stream raised no event"
    final = app.state.service.siem.status()  # after the stop, which sends what was queued
    assert final["failed"] == 0 and final["queued"] == 0 and final["format_errors"] == 0
    received = rsyslog.wait_for(final["sent"])
    assert len(received) == final["sent"] == final["messages"], "messages lost between the sender and rsyslog"
    last_state = {}
    for r in received:
        sd = parse_sd(r["sd"])["geniot@32473"]
        last_state[sd["id"]] = (sd["state"], parse_cef(r["msg"])[1])
    assert set(last_state) == {e["id"] for e in stored}, "stored events missing at the receiver"
    for event in stored:
        record = event_record(event)
        state, ext = last_state[record.id]
        assert state == record.state and int(ext["end"]) == round(record.end.timestamp() * 1000)
