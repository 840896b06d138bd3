"""An event record as the line or syslog message that leaves geniot, in either format.

A file gets the payload itself, one event a line (CEF lines, or ECS JSON lines); syslog carries
the same payload as the MSG of an RFC 5424 message whose MSGID is the event's kind and whose
structured data repeats the fields a receiver routes on (id, asset, kind, state).
"""

from __future__ import annotations

from geniot.core.exceptions import DataError
from geniot.siem.cef import format_cef
from geniot.siem.ecs import ecs_line
from geniot.siem.record import EventRecord, severity_of
from geniot.siem.syslog5424 import (
    FACILITIES,
    SD_ID,
    format_syslog,
    structured_data,
    syslog_severity,
)

FORMATS = ("cef", "ecs")


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise DataError(f"event format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    return fmt


def event_line(record: EventRecord, fmt: str, *, hostname: str) -> str:
    """The payload of one event: a CEF line or an ECS JSON line (without the newline)."""
    return format_cef(record) if check_format(fmt) == "cef" else ecs_line(record, observer=hostname)


def event_syslog(record: EventRecord, fmt: str, *, hostname: str, facility: int = FACILITIES["local0"]) -> bytes:
    """One RFC 5424 message carrying the event's payload (unframed)."""
    sd = structured_data({SD_ID: [("id", record.id), ("asset", record.asset), ("kind", record.kind), ("state", record.state)]})
    return format_syslog(
        event_line(record, fmt, hostname=hostname),
        timestamp=record.time,
        hostname=hostname,
        msgid=record.kind,
        severity=syslog_severity(severity_of(record)),
        facility=facility,
        sd=sd,
    )
