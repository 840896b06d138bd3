"""The message parser bounds size and nesting before parsing and lets nothing but IngestError out."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from geniot.ingest.checks import ReadingChecks
from geniot.ingest.messages import (
    MAX_DEPTH,
    IngestError,
    nesting_over,
    parse_json_batch,
    parse_mqtt_message,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


def _msg(**obj) -> bytes:
    return json.dumps({"ts": "2026-06-01T11:59:00Z", **obj}).encode()


@pytest.mark.parametrize("opener", [b"[", b"{\"a\":"])
def test_deep_nesting_is_a_reason_not_a_recursion_error(opener):
    payload = opener * 50_000
    with pytest.raises(IngestError, match="nested deeper"):
        parse_mqtt_message("site/area/P-1/temp", payload, now=NOW, limit=10**7)


def test_nesting_scan_counts_only_structure():
    assert not nesting_over(b'{"ts": 1, "value": 2}')
    inside_string = json.dumps({"note": "[" * 100, "x": "{\\\"" * 50}).encode()
    assert not nesting_over(inside_string)
    assert nesting_over(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert not nesting_over(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    # many shallow brackets are fine
    assert not nesting_over(json.dumps([[i] for i in range(1000)]).encode())


def test_size_is_checked_before_parsing():
    with pytest.raises(IngestError, match="over the 100-byte limit"):
        parse_mqtt_message("s/a/P-1/temp", _msg(value=1.0) + b" " * 200, now=NOW, limit=100)


@pytest.mark.parametrize(
    "payload",
    [b"\xff\xfe\x00", b"not json", b"NaN", b'{"ts": "2026-06-01T11:59:00Z", "value": NaN}', b"1e999999", b""],
)
def test_garbage_gives_ingest_error(payload):
    with pytest.raises(IngestError):
        parse_mqtt_message("s/a/P-1/temp", payload, now=NOW)


def test_timestamps_before_1970_and_in_the_future_are_rejected():
    with pytest.raises(IngestError, match="before 1970"):
        parse_mqtt_message("s/a/P-1/temp", json.dumps({"ts": "1969-12-31T23:59:59Z", "value": 1}).encode(), now=NOW)
    with pytest.raises(IngestError, match="in the future"):
        future = (NOW + timedelta(minutes=6)).isoformat()
        parse_mqtt_message("s/a/P-1/temp", json.dumps({"ts": future, "value": 1}).encode(), now=NOW)
    ok = parse_mqtt_message("s/a/P-1/temp", json.dumps({"ts": (NOW + timedelta(minutes=4)).isoformat(), "value": 1}).encode(), now=NOW)
    assert ok[0].ts == (NOW + timedelta(minutes=4)).replace(tzinfo=None)


@pytest.mark.parametrize("topic", ["s/a/../temp", "s/a/P-1/tem\np", "s/a/P-1/..", "s/a/" + "x" * 200 + "/temp", "s/a/.hidden/temp"])
def test_topic_levels_pass_the_name_rule(topic):
    with pytest.raises(IngestError, match="not a valid name"):
        parse_mqtt_message(topic, _msg(value=1.0), now=NOW)


def test_signal_names_in_values_pass_the_name_rule():
    with pytest.raises(IngestError, match="signal"):
        parse_mqtt_message("s/a/P-1", _msg(values={"a/b": 1.0}), now=NOW)


def test_ranges_apply_when_checks_are_given():
    checks = ReadingChecks({"temp": [-50, 400]})
    assert parse_mqtt_message("s/a/P-1/temp", _msg(value=1e308), now=NOW)[0].value == 1e308  # no checks: the writer's gate checks
    with pytest.raises(IngestError, match="outside its physical range"):
        parse_mqtt_message("s/a/P-1/temp", _msg(value=500.0), now=NOW, checks=checks)
    with pytest.raises(IngestError, match="outside"):
        parse_mqtt_message("s/a/P-1", _msg(values={"pressure": 1e308}), now=NOW, checks=checks)


def test_json_batch_reports_each_bad_record_by_index():
    now = NOW.isoformat()
    body = [
        {"asset": "P-1", "signal": "temp", "ts": now, "value": 1.0},
        {"asset": "..", "signal": "temp", "ts": now, "value": 1.0},
        {"asset": "P-1", "signal": "temp", "ts": now, "value": 1e308},
        {"asset": "P-1", "ts": "1900-01-01T00:00:00Z", "values": {"temp": 1.0}},
        {"asset": "P-1", "ts": now, "values": {"x": [[[1]]]}},
    ]
    good, bad = parse_json_batch(body, now=NOW, checks=ReadingChecks())
    assert [r.value for r in good] == [1.0]
    reasons = dict(bad)
    assert set(reasons) == {1, 2, 3, 4}
    assert "not a valid name" in reasons[1] and "physical range" in reasons[2]
    assert "before 1970" in reasons[3] and "must be a number" in reasons[4]


def test_a_record_with_thousands_of_signals_is_refused():
    import json

    import pytest

    from geniot.ingest.messages import MAX_SIGNALS_PER_RECORD, IngestError, parse_mqtt_message

    payload = json.dumps({"ts": "2026-01-01T00:00:00Z", "values": {f"s{i}": i for i in range(MAX_SIGNALS_PER_RECORD + 1)}})
    with pytest.raises(IngestError, match="too many signals"):
        parse_mqtt_message("plant/a/P-1", payload.encode())
    ok = json.dumps({"ts": "2026-01-01T00:00:00Z", "values": {f"s{i}": i for i in range(10)}})
    assert len(parse_mqtt_message("plant/a/P-1", ok.encode())) == 10
