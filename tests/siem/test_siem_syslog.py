"""RFC 5424 messages, structured data, RFC 6587 framing, targets and the ECS document."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from siem.siem_reader import parse_cef, parse_sd, read_frames

from geniot.core.exceptions import DataError
from geniot.siem import SyslogTarget, event_line, event_record, event_syslog
from geniot.siem.syslog5424 import (
    FACILITIES,
    format_syslog,
    header_field,
    octet_frame,
    structured_data,
)

T0 = datetime(2026, 3, 1, 12, 0, 0)
# RFC 5424 section 6, for the header as a whole
HEADER = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{1,6}[+-]\d\d:\d\d) (?P<host>[!-~]{1,255}) "
    r"(?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) (?P<msgid>[!-~]{1,32}) (?P<rest>.*)$", re.S,
)


def _event(**over):
    event = {"id": "e1", "asset": "P-1", "start_ts": T0, "end_ts": T0 + timedelta(minutes=5), "peak_ts": T0,
             "peak_score": 30.0, "threshold": 10.0, "top_sensors": "flow_m3h", "is_open": False}  # fmt: skip
    return event | over


def test_a_message_has_every_rfc5424_header_field():
    message = event_syslog(event_record(_event()), "cef", hostname="plant-gw.example")
    m = HEADER.match(message.decode())
    assert m, message
    assert int(m["pri"]) == FACILITIES["local0"] * 8 + 3  # CEF severity 8 -> syslog error
    assert m["ts"] == "2026-03-01T12:05:00.000000+00:00"  # a closed event: its end
    assert (m["host"], m["app"], m["msgid"]) == ("plant-gw.example", "geniot", "process")
    sd_text, msg = m["rest"].split("] ", 1)
    assert parse_sd(sd_text + "]") == {"geniot@32473": {"id": "e1", "asset": "P-1", "kind": "process", "state": "closed"}}
    assert msg.startswith("CEF:0|geniot|") and parse_cef(msg)[1]["externalId"] == "e1"


def test_open_events_carry_their_start_and_facility_comes_from_the_target():
    target = SyslogTarget.from_url("udp://127.0.0.1:5514?facility=authpriv")
    message = event_syslog(event_record(_event(is_open=True, peak_score=None)), "cef", hostname="h", facility=target.facility)
    m = HEADER.match(message.decode())
    assert m["ts"] == "2026-03-01T12:00:00.000000+00:00" and int(m["pri"]) == 10 * 8 + 5  # unknown -> notice


def test_timestamps_keep_an_offset():
    cet = timezone(timedelta(hours=1))
    raw = format_syslog("x", timestamp=datetime(2026, 3, 1, 13, 0, tzinfo=cet), hostname="h", msgid="m", severity=5)
    assert b" 2026-03-01T13:00:00.000000+01:00 " in raw


def test_structured_data_escapes_quote_backslash_and_bracket():
    sd = structured_data({"geniot@32473": [("asset", 'a"b\\c]d'), ("kind", "process")]})
    assert sd == '[geniot@32473 asset="a\\"b\\\\c\\]d" kind="process"]'
    assert parse_sd(sd) == {"geniot@32473": {"asset": 'a"b\\c]d', "kind": "process"}}
    assert structured_data({}) == "-"


def test_header_fields_are_printable_ascii_without_spaces():
    assert header_field("my host", 255) == "my_host" and header_field("", 48) == "-"
    assert header_field("ä" * 40, 32) == "_" * 32
    event = _event(asset='odd "asset" ]', kind="traffic")
    message = event_syslog(event_record(event), "cef", hostname="host with space")
    m = HEADER.match(message.decode())
    assert m["host"] == "host_with_space" and m["msgid"] == "traffic"
    assert parse_sd(m["rest"][: m["rest"].index("] CEF:") + 1])["geniot@32473"]["asset"] == 'odd "asset" ]'


def test_octet_counting_counts_bytes_not_characters():
    frame = octet_frame("Öl 温度".encode())
    assert frame.startswith(b"10 ")  # 2 + 1 + 1 + 3 + 3 bytes for 5 characters
    assert read_frames(frame + octet_frame(b"x")) == ["Öl 温度".encode(), b"x"]


@pytest.mark.parametrize(("url", "message"), [
    ("syslog://h:514", "scheme must be tcp:// or udp://"),
    ("tcp://:514", "no host"),
    ("tcp://h:99999", "port must be a number"),
    ("udp://h:514/x", "only udp://host:port"),
    ("tcp://h:514?facility=local9", "facility 'local9' is not one of"),
    ("tcp://h:514?tls=1", "unknown option"),
])  # fmt: skip
def test_bad_targets_say_what_is_wrong(url, message):
    with pytest.raises(DataError, match=message):
        SyslogTarget.from_url(url)


def test_targets():
    assert SyslogTarget.from_url("tcp://siem.example") == SyslogTarget("tcp", "siem.example", 514, 16)
    assert SyslogTarget.from_url("udp://[::1]:5514").url == "udp://[::1]:5514"


def test_ecs_document_fields():
    record = event_record(_event(kind="integrity", attack="replay", reason="too perfect a repeat", peak_score=float("inf")))
    doc = json.loads(event_line(record, "ecs", hostname="gw"))
    assert doc["@timestamp"] == "2026-03-01T12:05:00.000000Z"
    assert doc["event"]["kind"] == "alert" and doc["event"]["category"] == ["intrusion_detection"]
    assert doc["event"]["start"] == "2026-03-01T12:00:00.000000Z" and doc["event"]["end"] == "2026-03-01T12:05:00.000000Z"
    assert doc["event"]["severity"] == 10 and doc["event"]["reason"] == "too perfect a repeat"
    assert doc["host"]["name"] == "P-1" and doc["observer"]["hostname"] == "gw"
    assert doc["geniot"]["event"]["attack"] == "replay" and doc["geniot"]["event"]["peak_score"] is None
    assert doc["geniot"]["event"]["unscorable"] is True
    process = json.loads(event_line(event_record(_event()), "ecs", hostname="gw"))
    assert process["event"]["category"] == ["host"] and process["geniot"]["event"]["sensors"] == ["flow_m3h"]


def test_unknown_format_is_refused():
    with pytest.raises(DataError, match="event format must be one of cef, ecs"):
        event_line(event_record(_event()), "leef", hostname="h")


def test_utc_is_written_as_plus_zero():
    raw = format_syslog("x", timestamp=datetime(2026, 3, 1, tzinfo=UTC), hostname="h", msgid="m", severity=5)
    assert b"2026-03-01T00:00:00.000000+00:00" in raw
