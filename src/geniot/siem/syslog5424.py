"""RFC 5424 syslog messages and RFC 6587 octet-counting frames.

    <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD-ID PARAM="VALUE" ...] MSG

The header fields are printable US-ASCII without spaces, cut to the RFC's lengths (a character
outside that set becomes ``_``, an empty field ``-``). The message is sent without a BOM
(RFC 5424's MSG-ANY): CEF collectors expect ``CEF:`` as its first bytes.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

APP_NAME = "geniot"
# RFC 5612's documentation enterprise number: geniot has no IANA number of its own, so its
# structured data element is named as RFC 5424's own examples name theirs.
SD_ID = "geniot@32473"
FACILITIES = {
    "kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5, "lpr": 6, "news": 7, "uucp": 8,
    "cron": 9, "authpriv": 10, "ftp": 11, **{f"local{i}": 16 + i for i in range(8)},
}  # fmt: skip
_NOT_PRINTUSASCII = re.compile(r"[^\x21-\x7e]")
_NOT_SD_NAME = re.compile(r'[^\x21-\x7e]|[= \]"]')


def syslog_severity(cef_severity: int | None) -> int:
    """RFC 5424 severity from a CEF one: 9-10 critical, 7-8 error, 4-6 warning, else notice."""
    if cef_severity is None:
        return 5
    return 2 if cef_severity >= 9 else 3 if cef_severity >= 7 else 4 if cef_severity >= 4 else 5


def header_field(value: str | None, max_len: int) -> str:
    """One header field: printable US-ASCII, no space, at most ``max_len`` characters, or ``-``."""
    text = _NOT_PRINTUSASCII.sub("_", str(value or ""))[:max_len]
    return text or "-"


def sd_value(value: str) -> str:
    """An SD-PARAM value: ``\\``, ``"`` and ``]`` escaped with a backslash (RFC 5424 6.3.3)."""
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def structured_data(elements: Mapping[str, Sequence[tuple[str, str]]]) -> str:
    """``[id name="value" ...]...`` or ``-`` when there is none."""
    parts = []
    for sd_id, params in elements.items():
        body = "".join(f' {_sd_name(k)}="{sd_value(v)}"' for k, v in params)
        parts.append(f"[{_sd_name(sd_id)}{body}]")
    return "".join(parts) or "-"


def rfc3339(value: datetime) -> str:
    """``2026-12-02T07:12:42.123456+00:00``: microseconds at most (TIME-SECFRAC) and an offset."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value
    return value.isoformat(timespec="microseconds")


def format_syslog(
    msg: str,
    *,
    timestamp: datetime,
    hostname: str,
    msgid: str,
    severity: int,
    facility: int = FACILITIES["local0"],
    sd: str = "-",
    procid: str | None = None,
) -> bytes:
    """One RFC 5424 message as UTF-8 bytes (no framing)."""
    if not 0 <= facility <= 23 or not 0 <= severity <= 7:
        raise ValueError(f"syslog facility {facility} / severity {severity} out of range (0-23 / 0-7)")
    head = " ".join([
        f"<{facility * 8 + severity}>1",
        rfc3339(timestamp),
        header_field(hostname, 255),
        header_field(APP_NAME, 48),
        header_field(procid if procid is not None else str(os.getpid()), 128),
        header_field(msgid, 32),
        sd,
    ])  # fmt: skip
    return f"{head} {msg}".encode()


def octet_frame(message: bytes) -> bytes:
    """RFC 6587 octet counting: ``<length in bytes> <message>``, for syslog over TCP."""
    return b"%d %s" % (len(message), message)


def local_hostname() -> str:
    """This machine's name as syslog HOSTNAME wants it."""
    return header_field(socket.gethostname(), 255)


def _sd_name(name: str) -> str:
    return _NOT_SD_NAME.sub("_", name)[:32] or "_"
