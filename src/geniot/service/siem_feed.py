"""Live forwarding of stored events to a SIEM (``GENIOT_SYSLOG=tcp://host:514`` or ``udp://``).

The store calls :meth:`SiemFeed.on_event` with every event it upserts, whoever stored it (live
scoring, a history scan, security detection). An event leaves as CEF in RFC 5424 syslog once
when it is first seen and once when it closes; the upserts of a running event in between (a
longer end, a higher peak) stay local, and the closing message carries their final values. An
event stored already closed (a history scan) leaves once. A record that cannot be formatted is
counted and its error kept for health; nothing here raises into the store's caller.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from geniot.core.settings import Settings
from geniot.data.store import SensorStore
from geniot.siem import SyslogSender, SyslogTarget, event_record, event_syslog, local_hostname

REMEMBERED_EVENTS = 100_000  # ids whose last forwarded state is kept (oldest forgotten first)


class SiemFeed:
    def __init__(self, sender: SyslogSender, *, hostname: str | None = None, fmt: str = "cef") -> None:
        self.sender = sender
        self.hostname = hostname or local_hostname()
        self.fmt = fmt
        self._forwarded: OrderedDict[str, str] = OrderedDict()  # event id -> state last sent
        self._lock = threading.Lock()
        self.events_seen = 0
        self.messages = 0
        self.format_errors = 0
        self.last_format_error: str | None = None

    def on_event(self, event: Mapping) -> None:
        """Forward one stored event if its state is new; never raises."""
        try:
            with self._lock:
                self.events_seen += 1
                record = event_record(event)
                if self._forwarded.get(record.id) == record.state:
                    return
                message = event_syslog(record, self.fmt, hostname=self.hostname, facility=self.sender.target.facility)
                self._forwarded[record.id] = record.state
                self._forwarded.move_to_end(record.id)
                while len(self._forwarded) > REMEMBERED_EVENTS:
                    self._forwarded.popitem(last=False)
                self.messages += 1
            self.sender.send(message)  # a message it cannot queue is counted there
        except Exception as exc:  # noqa: BLE001 - a bad record must not fail the store's caller
            with self._lock:
                self.format_errors += 1
                self.last_format_error = f"{type(exc).__name__}: {exc}"[:500]

    def status(self) -> dict:
        with self._lock:
            own = {"format": self.fmt, "events_seen": self.events_seen, "messages": self.messages,
                   "format_errors": self.format_errors, "last_format_error": self.last_format_error}  # fmt: skip
        return {**self.sender.status(), **own}

    def problems(self) -> list[str]:
        out = self.sender.problems()
        if self.format_errors:
            out.append(f"{self.format_errors} event(s) could not be formatted for the SIEM (last: {self.last_format_error})")
        return out

    def stop(self, timeout: float = 5.0) -> None:
        """Send what is queued (up to ``timeout`` seconds), then close the connection."""
        self.sender.close(timeout)


def start_siem_feed(settings: Settings, store: SensorStore) -> SiemFeed | None:
    """The feed for ``settings.syslog``, listening to ``store``'s events; None when not set."""
    if not settings.syslog:
        return None
    feed = SiemFeed(SyslogSender(SyslogTarget.from_url(settings.syslog)))
    store.event_listeners.append(feed.on_event)
    return feed
