"""What ingest/messages.py makes of good messages: topic shapes, time formats, quality, batches."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from geniot.ingest.messages import (
    IngestError,
    Reading,
    parse_json_batch,
    parse_mqtt_message,
    parse_record,
    parse_ts,
)

NOW = datetime(2026, 3, 1, 12, 0, 0)


def test_a_single_value_topic_names_asset_and_signal():
    out = parse_mqtt_message("plant/hall-2/P-3/flow_m3h", json.dumps({"ts": "2026-03-01T10:00:00", "value": 41.5}).encode(), now=NOW)
    assert out == [Reading(datetime(2026, 3, 1, 10, 0), "P-3", "flow_m3h", 41.5, 1.0)]


def test_a_per_asset_object_takes_the_last_level_as_the_asset():
    payload = json.dumps({"ts": 1772359200, "values": {"flow": 1, "temp": 2.5}, "quality": 0.5}).encode()
    out = parse_mqtt_message("plant/hall-2/P-3", payload, now=NOW)
    assert [(r.asset, r.signal, r.value, r.quality) for r in out] == [("P-3", "flow", 1.0, 0.5), ("P-3", "temp", 2.5, 0.5)]
    assert out[0].ts == datetime(2026, 3, 1, 10, 0)
    # the same object on a deeper topic: still one asset named by the last level
    deeper = parse_mqtt_message("plant/hall-2/P-3/extra", payload, now=NOW)
    assert {r.asset for r in deeper} == {"extra"}


@pytest.mark.parametrize("value, expected", [
    ("2026-03-01T11:00:00+01:00", datetime(2026, 3, 1, 10, 0)),  # a zone is converted to UTC
    ("2026-03-01T10:00:00Z", datetime(2026, 3, 1, 10, 0)),
    ("2026-03-01 10:00:00", datetime(2026, 3, 1, 10, 0)),  # no zone means UTC
    (1772359200, datetime(2026, 3, 1, 10, 0)),  # Unix seconds
    (1772359200500, datetime(2026, 3, 1, 10, 0, 0, 500000)),  # above 1e11: milliseconds
])  # fmt: skip
def test_timestamps_in_every_accepted_form(value, expected):
    assert parse_ts(value, now=NOW) == expected


@pytest.mark.parametrize("value", [True, None, "yesterday", float("nan"), [1]])
def test_timestamps_that_are_not_times_are_refused_by_name(value):
    with pytest.raises(IngestError, match="ts"):
        parse_ts(value, now=NOW)


def test_record_fields_are_checked():
    with pytest.raises(IngestError, match="missing field 'value'"):
        parse_record({"ts": 1772359200}, "P-1", "flow", now=NOW)
    with pytest.raises(IngestError, match=r"unknown field\(s\) \['unit'\]"):
        parse_record({"ts": 1772359200, "value": 1, "unit": "bar"}, "P-1", "flow", now=NOW)
    with pytest.raises(IngestError, match="quality must be between 0 and 1"):
        parse_record({"ts": 1772359200, "value": 1, "quality": 2}, "P-1", "flow", now=NOW)
    with pytest.raises(IngestError, match="value must be a number"):
        parse_record({"ts": 1772359200, "value": "1"}, "P-1", "flow", now=NOW)
    with pytest.raises(IngestError, match="needs <asset>/<signal>"):
        parse_mqtt_message("P-1", b'{"ts": 1772359200, "value": 1}', now=NOW)


def test_a_batch_keeps_good_records_and_names_bad_ones_by_index():
    body = [
        {"asset": "P-1", "signal": "flow", "ts": 1772359200, "value": 3},
        {"asset": "P-2", "ts": 1772359200, "values": {"a": 1, "b": 2}},
        {"asset": 7, "signal": "flow", "ts": 1772359200, "value": 3},
        {"asset": "P-1", "signal": "flow", "ts": 1772359200, "value": float("inf")},
    ]
    good, bad = parse_json_batch(body, now=NOW)
    assert [(r.asset, r.signal, r.value) for r in good] == [("P-1", "flow", 3.0), ("P-2", "a", 1.0), ("P-2", "b", 2.0)]
    assert [i for i, _ in bad] == [2, 3] and "asset" in bad[0][1] and "finite" in bad[1][1]
