"""Where syslog messages go: ``tcp://host:514`` or ``udp://host:514`` (``?facility=local4``)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from geniot.core.exceptions import DataError
from geniot.siem.syslog5424 import FACILITIES

TRANSPORTS = ("tcp", "udp")
DEFAULT_PORT = 514


@dataclass(frozen=True)
class SyslogTarget:
    transport: str  # "tcp" (RFC 6587 octet counting) or "udp" (one datagram per message)
    host: str
    port: int = DEFAULT_PORT
    facility: int = FACILITIES["local0"]

    @classmethod
    def from_url(cls, url: str) -> SyslogTarget:
        """Parse a target URL; anything it cannot use is an error that says what and why."""
        parts = urlsplit(url.strip())
        if parts.scheme not in TRANSPORTS:
            raise DataError(f"syslog target {url!r}: the scheme must be tcp:// or udp://, got {parts.scheme or 'none'!r}")
        try:
            port = parts.port or DEFAULT_PORT
        except ValueError:
            raise DataError(f"syslog target {url!r}: the port must be a number 1-65535") from None
        if not parts.hostname:
            raise DataError(f"syslog target {url!r}: no host (write {parts.scheme}://host:port)")
        if parts.path not in ("", "/") or parts.username or parts.password:
            raise DataError(f"syslog target {url!r}: only {parts.scheme}://host:port[?facility=NAME] is understood")
        query = parse_qs(parts.query, keep_blank_values=True)
        unknown = sorted(set(query) - {"facility"})
        if unknown:
            raise DataError(f"syslog target {url!r}: unknown option(s) {', '.join(unknown)} (only facility)")
        facility = FACILITIES["local0"]
        if "facility" in query:
            name = query["facility"][-1]
            if name not in FACILITIES:
                raise DataError(f"syslog target {url!r}: facility {name!r} is not one of {', '.join(FACILITIES)}")
            facility = FACILITIES[name]
        return cls(parts.scheme, parts.hostname, port, facility)

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.transport}://{host}:{self.port}"
