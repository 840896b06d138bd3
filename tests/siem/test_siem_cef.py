"""CEF escaping, the header and extensions of an event, and severity from the score."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pandas as pd
import pytest
from siem.siem_reader import parse_cef

from geniot import __version__
from geniot.core.exceptions import DataError
from geniot.siem.cef import escape_extension, escape_header, format_cef
from geniot.siem.record import MAX_REASON_CHARS, MAX_SENSORS, event_record, score_severity

HOSTILE = 'pipe| back\\slash eq= new\nline cr\r end] quote" tab\t bell\x07 Öl 温度'
T0 = datetime(2026, 3, 1, 12, 0, 0)


def _event(**over):
    event = {"id": "P-1@2026-03-01T12:00:00", "asset": "P-1", "start_ts": T0, "end_ts": T0 + timedelta(minutes=5),
             "peak_ts": T0 + timedelta(minutes=2), "peak_score": 30.0, "threshold": 10.0,
             "top_sensors": "flow_m3h;temp_c", "is_open": False}  # fmt: skip
    event.update(over)
    return event


def test_header_escapes_pipe_and_backslash_and_never_breaks_the_line():
    assert escape_header("a|b\\c") == "a\\|b\\\\c"
    assert escape_header("one\ntwo\r\nthree\rfour") == "one two three four"
    assert escape_header("x=y") == "x=y"  # '=' needs no escape in the header


def test_extension_escapes_backslash_equals_and_line_breaks_but_not_pipe():
    assert escape_extension("a=b\\c|d") == "a\\=b\\\\c|d"
    assert escape_extension("one\ntwo\rthree") == "one\\ntwo\\rthree"
    # an escape sequence in the input stays the literal text it was
    assert escape_extension("\\n") == "\\\\n"
    assert escape_extension("tab\there\x1b[31m") == "tab\ufffdhere\ufffd[31m"


def test_a_hostile_event_round_trips_through_an_independent_cef_parser():
    line = format_cef(event_record(_event(top_sensors=f"s1;{HOSTILE}", reason=HOSTILE, id=f"id {HOSTILE}",
                                          kind="integrity", attack="fdi|x")))  # fmt: skip
    assert "\n" not in line and "\r" not in line
    header, ext = parse_cef(line)
    assert header[:4] == ["CEF:0", "geniot", "geniot", __version__]
    assert header[4] == "integrity:fdi|x" and header[5] == "Data-integrity attack (fdi|x) closed on P-1"
    visible = HOSTILE.replace("\t", "\ufffd").replace("\x07", "\ufffd")
    assert ext["reason"] == visible
    assert ext["cs2Label"] == "sensors" and ext["cs2"] == f"s1;{visible}"
    assert ext["externalId"] == f"id {visible}"
    assert ext["cat"] == "integrity" and ext["cs4Label"] == "attack" and ext["cs4"] == "fdi|x"


def test_extensions_hold_asset_times_sensors_state_and_scores():
    header, ext = parse_cef(format_cef(event_record(_event())))
    assert header[6] == "8"  # 30 is 200 % above a threshold of 10
    start_ms = round(T0.replace(tzinfo=UTC).timestamp() * 1000)
    assert ext["start"] == str(start_ms) and ext["end"] == str(start_ms + 300_000)
    assert ext["deviceCustomDate1Label"] == "peak" and ext["deviceCustomDate1"] == str(start_ms + 120_000)
    assert (ext["cs1Label"], ext["cs1"]) == ("asset", "P-1")
    assert (ext["cs2"], ext["cs3"]) == ("flow_m3h;temp_c", "closed")
    assert float(ext["cfp1"]) == 30.0 and float(ext["cfp2"]) == 10.0
    assert ext["cat"] == "process" and "reason" not in ext and "cs4" not in ext


def test_times_keep_their_zone_and_naive_times_are_utc():
    cet = timezone(timedelta(hours=1))
    aware = event_record(_event(start_ts=T0.replace(tzinfo=cet), end_ts=pd.Timestamp(T0, tz="UTC")))
    assert aware.start == datetime(2026, 3, 1, 11, 0, tzinfo=UTC) and aware.end == T0.replace(tzinfo=UTC)
    iso = event_record(_event(start_ts="2026-03-01T12:00:00Z", end_ts="2026-03-01T12:05:00+00:00"))
    assert iso.start == T0.replace(tzinfo=UTC)


@pytest.mark.parametrize(("score", "threshold", "severity"), [
    (9.0, 10.0, 3), (10.0, 10.0, 5), (12.4, 10.0, 5), (12.5, 10.0, 7), (19.9, 10.0, 7), (20.0, 10.0, 8),
    (40.0, 10.0, 9), (math.inf, 10.0, 10), (-5.0, -10.0, 7), (None, 10.0, None), (5.0, None, None),
])  # fmt: skip
def test_severity_from_the_score_relative_to_the_threshold(score, threshold, severity):
    assert score_severity(score, threshold) == severity


def test_unknown_score_says_unknown_and_a_given_severity_wins():
    header, ext = parse_cef(format_cef(event_record(_event(peak_score=float("nan")))))
    assert header[6] == "Unknown" and "cfp1" not in ext
    header, _ = parse_cef(format_cef(event_record(_event(severity=10))))
    assert header[6] == "10" and event_record(_event(severity="8")).severity == 8  # a CSV cell
    header, ext = parse_cef(format_cef(event_record(_event(peak_score=math.inf))))
    assert header[6] == "10" and ext["cfp1"] == "Infinity"


def test_open_events_are_said_to_be_open():
    header, ext = parse_cef(format_cef(event_record(_event(is_open=True))))
    assert header[5] == "Process anomaly open on P-1" and ext["cs3"] == "open"
    assert event_record(_event(is_open="True")).is_open and not event_record(_event(is_open="false")).is_open
    with pytest.raises(DataError, match="field 'is_open' must be true or false"):
        event_record(_event(is_open="maybe"))


def test_long_sensor_lists_and_reasons_are_cut_and_say_so():
    record = event_record(_event(top_sensors=";".join(f"s{i}" for i in range(50)), reason="x" * 5000))
    assert len(record.sensors) == MAX_SENSORS + 1 and record.sensors[-1] == f"(+{50 - MAX_SENSORS} more)"
    assert record.reason.endswith(f"(+{5000 - MAX_REASON_CHARS} characters cut)")


@pytest.mark.parametrize(("change", "message"), [
    ({"asset": None}, "field 'asset' is missing"),
    ({"start_ts": "yesterday"}, "field 'start_ts' is not an ISO time"),
    ({"end_ts": T0 - timedelta(minutes=1)}, "is before start_ts"),
    ({"peak_score": "high"}, "field 'peak_score' must be a number"),
    ({"kind": "Process Fault"}, "field 'kind' must be a short lower-case word"),
    ({"severity": 11}, "field 'severity' must be a whole number 0-10"),
])  # fmt: skip
def test_bad_records_name_the_event_and_the_field(change, message):
    with pytest.raises(DataError, match=message) as info:
        event_record(_event(**change))
    assert "P-1@2026-03-01T12:00:00" in str(info.value)


def test_a_security_event_record_passes_through_as_it_is():
    from geniot.security.events import SecurityEvent

    start = T0.replace(tzinfo=UTC).timestamp()
    event = SecurityEvent(asset="P-2", start=start, end=start + 60, kind="traffic", attack="flood",
                          reason="rate 40x the learned traffic model", detected_at=start + 5,
                          signal="", source="plant/pumps/P-2|rogue-client")  # fmt: skip
    record = event_record(event.record())
    assert record.id == "P-2@2026-03-01T12:00:00" and record.kind == "traffic" and record.attack == "flood"
    assert record.start == T0.replace(tzinfo=UTC) and record.detected == T0.replace(tzinfo=UTC) + timedelta(seconds=5)
    header, ext = parse_cef(format_cef(record))
    assert header[4] == "traffic:flood" and header[5] == "Traffic anomaly (flood) closed on P-2"
    assert header[6] == "Unknown"  # no score: the producer may give a severity, geniot does not guess
    assert ext["reason"] == "rate 40x the learned traffic model" and ext["cs5"] == "plant/pumps/P-2|rogue-client"
    assert ext["cs2"] == "" and ext["deviceCustomDate2"] == str(round((start + 5) * 1000))
