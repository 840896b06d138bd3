"""ArcSight Common Event Format (CEF:0) for one event.

    CEF:0|geniot|geniot|<version>|<signature>|<name>|<severity>|<key=value ...>

Escaping follows the CEF specification: in the header ``\\`` and ``|`` are escaped with a
backslash; in extension values ``\\`` and ``=`` are, and a line break becomes ``\\n`` or ``\\r``.
A message is always one line. Other control characters (tab, escape, bell, ...) have no CEF
escape and would be mangled by receivers (rsyslog writes them as ``#011``), so they become
U+FFFD and a header line break becomes a space; both are rare enough to be a sign of hostile
input, and the text around them stays readable.
"""

from __future__ import annotations

import re
from datetime import datetime

from geniot import __version__
from geniot.siem.record import EventRecord, severity_of

VENDOR = PRODUCT = "geniot"
_CONTROL = re.compile(r"[\x00-\x09\x0b\x0c\x0e-\x1f\x7f]")


def escape_header(value: str) -> str:
    """A CEF header field: ``\\`` -> ``\\\\``, ``|`` -> ``\\|``, line breaks -> space."""
    value = _CONTROL.sub("\ufffd", str(value))
    return value.replace("\\", "\\\\").replace("|", "\\|").replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def escape_extension(value: str) -> str:
    """A CEF extension value: ``\\`` -> ``\\\\``, ``=`` -> ``\\=``, CR/LF -> ``\\r``/``\\n``."""
    value = _CONTROL.sub("\ufffd", str(value))
    return value.replace("\\", "\\\\").replace("=", "\\=").replace("\r", "\\r").replace("\n", "\\n")


def cef_time(value: datetime) -> str:
    """Milliseconds since the epoch, the CEF form that needs no time zone."""
    return str(round(value.timestamp() * 1000))


def format_cef(record: EventRecord) -> str:
    """The event as one CEF line (no syslog header)."""
    severity = severity_of(record)
    header = [
        "CEF:0",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(__version__),
        escape_header(record.signature),
        escape_header(f"{record.title} {record.state} on {record.asset}"),
        "Unknown" if severity is None else str(severity),
    ]
    return "|".join(header) + "|" + " ".join(f"{k}={escape_extension(v)}" for k, v in cef_extensions(record))


def cef_extensions(record: EventRecord) -> list[tuple[str, str]]:
    """The extension fields in order: standard CEF keys first, then labelled custom ones."""
    ext = [
        ("externalId", record.id),
        ("cat", record.kind),
        ("start", cef_time(record.start)),
        ("end", cef_time(record.end)),
        ("cs1Label", "asset"),
        ("cs1", record.asset),
        ("cs2Label", "sensors"),
        ("cs2", ";".join(record.sensors)),
        ("cs3Label", "state"),
        ("cs3", record.state),
    ]
    if record.attack:
        ext += [("cs4Label", "attack"), ("cs4", record.attack)]
    if record.source:
        ext += [("cs5Label", "source"), ("cs5", record.source)]
    if record.detected is not None:
        ext += [("deviceCustomDate2Label", "detected"), ("deviceCustomDate2", cef_time(record.detected))]
    if record.peak is not None:
        ext += [("deviceCustomDate1Label", "peak"), ("deviceCustomDate1", cef_time(record.peak))]
    if record.peak_score is not None:
        ext += [("cfp1Label", "peakScore"), ("cfp1", _number(record.peak_score))]
    if record.threshold is not None:
        ext += [("cfp2Label", "threshold"), ("cfp2", _number(record.threshold))]
    if record.reason:
        ext.append(("reason", record.reason))
    return ext


def _number(value: float) -> str:
    return "Infinity" if value == float("inf") else "-Infinity" if value == float("-inf") else repr(float(value))
