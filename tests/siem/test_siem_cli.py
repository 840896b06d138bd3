"""`geniot events`: files, stdout, refusals and failures it must not hide."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime, timedelta

import pytest
from siem.siem_reader import parse_cef
from typer.testing import CliRunner

from geniot.cli.main import app as cli
from geniot.data.store import SensorStore

T0 = datetime(2026, 3, 1, 6, 0)


@pytest.fixture()
def store(tmp_path):
    path = tmp_path / "plant.duckdb"
    with SensorStore(path) as db:
        for i in range(6):
            start = T0 + timedelta(hours=i)
            db.upsert_event({"id": f"{'AB'[i % 2]}@{i}", "asset": "AB"[i % 2], "start_ts": start, "end_ts": start + timedelta(minutes=9),
                             "peak_ts": start, "peak_score": 12.0, "threshold": 10.0, "top_sensors": "flow|x=1", "is_open": False})  # fmt: skip
    return path


def _run(*args):
    return CliRunner().invoke(cli, ["events", *map(str, args)])


def test_cef_to_a_file_oldest_first(store, tmp_path):
    out = tmp_path / "events.cef"
    result = _run("--store", store, "--out", out)
    assert result.exit_code == 0, result.output
    assert f"wrote 6 event(s) as cef to {out}" in result.output
    lines = out.read_text().splitlines()
    assert [parse_cef(line)[1]["externalId"] for line in lines] == [f"{'AB'[i % 2]}@{i}" for i in range(6)]
    assert parse_cef(lines[0])[1]["cs2"] == "flow|x=1"


def test_ecs_to_stdout_filtered_by_asset_and_time(store):
    result = _run("--store", store, "--format", "ecs", "--asset", "B", "--since", "2026-03-01T08:00")
    assert result.exit_code == 0, result.output
    docs = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [d["event"]["id"] for d in docs] == ["B@3", "B@5"] and docs[0]["host"]["name"] == "B"


@pytest.mark.parametrize(("args", "message"), [
    (("--format", "leef"), "event format must be one of cef, ecs"),
    (("--out", "x.cef", "--syslog", "tcp://127.0.0.1:514"), "not both"),
    (("--syslog", "http://siem"), "scheme must be tcp:// or udp://"),
    (("--since", "soon"), "--since 'soon' is not a date and time"),
])  # fmt: skip
def test_refusals_say_what_is_wrong(store, args, message):
    result = _run("--store", store, *args)
    assert result.exit_code == 2 and message in result.output


def test_an_unreachable_receiver_fails_the_export_and_says_how_many(store):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nobody listens there
    result = _run("--store", store, "--syslog", f"tcp://127.0.0.1:{port}", "--timeout", "0.5")
    assert result.exit_code == 1
    assert "sent 0 of 6 event(s)" in result.output and "unsent at close: 6" in result.output
    assert "Connection refused" in result.output


def test_an_event_that_cannot_be_formatted_is_named_and_the_rest_still_leave(store, tmp_path):
    with SensorStore(store) as db:
        db.upsert_event({"id": "broken", "asset": "A", "start_ts": T0, "end_ts": T0 - timedelta(minutes=1), "peak_ts": T0,
                         "peak_score": 1.0, "threshold": 1.0, "top_sensors": "", "is_open": False})  # fmt: skip
    out = tmp_path / "events.cef"
    result = _run("--store", store, "--out", out)
    assert result.exit_code == 1 and "event 'broken': end_ts" in result.output
    assert len(out.read_text().splitlines()) == 6


def test_a_security_events_file_leaves_as_it_was_written(tmp_path):
    """The CSV `geniot security detect --out` writes (its own writer), read back and exported."""
    from geniot.security import SecurityEvent, events_frame

    start = T0.replace(tzinfo=UTC).timestamp()
    events = [SecurityEvent(asset="P-1", start=start + 600 * i, end=start + 600 * i + 60, kind=kind, attack=attack,
                            reason=f"why {i}: a=b|c", detected_at=start + 600 * i + 5)
              for i, (kind, attack) in enumerate([("integrity", "fdi"), ("traffic", "flood"), ("process", "fault")])]  # fmt: skip
    path = tmp_path / "events.csv"
    events_frame(events).to_csv(path, index=False)
    out = tmp_path / "events.cef"
    result = _run("--events", path, "--out", out, "--since", "2026-03-01T06:10")
    assert result.exit_code == 0, result.output
    parsed = [parse_cef(line) for line in out.read_text().splitlines()]
    assert [h[4] for h, _ in parsed] == ["traffic:flood", "process:fault"]
    assert [e["reason"] for _, e in parsed] == ["why 1: a=b|c", "why 2: a=b|c"]
    assert parsed[0][1]["externalId"] == "P-1@2026-03-01T06:10:00"


def test_an_events_file_row_that_is_wrong_is_named(tmp_path):
    path = tmp_path / "events.csv"
    path.write_text("asset,start,end,kind\nP-1,2026-03-01T06:00,2026-03-01T06:01,integrity\nP-1,later,2026-03-01T06:01,traffic\n")
    result = _run("--events", path, "--out", tmp_path / "x.cef")
    assert result.exit_code == 1 and "row 2" in result.output and "'start_ts' is not an ISO time" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("asset,begin\nP-1,2026-03-01\n")
    result = _run("--events", bad)
    assert result.exit_code == 2 and "missing start, end" in result.output
