"""Live security events: the service's readings (and, where known, their traffic side) through a
:class:`~geniot.security.SecurityStream`, one message at a time.

Two entry points: ``on_stored(readings)`` (the readings the writer stored: the physical
consistency and replay checks) and ``on_message(...)`` (an MQTT message with its topic, client,
arrival time and size: the traffic, whitelist and clock checks too). Events go to ``on_event``
(store, alert, SIEM) and stay in a bounded list for the dashboard. Containment as for live
scoring: a failure is kept in ``status()`` and never reaches the writer thread.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from datetime import datetime

from geniot.ingest.messages import Reading
from geniot.security import Message, SecurityDetector, SecurityEvent


def _seconds(ts: datetime) -> float:
    return (ts - datetime(1970, 1, 1)).total_seconds()  # naive UTC, as readings carry it


def _by_row(readings: list[Reading]) -> list[tuple[str, datetime, dict[str, float]]]:
    rows: dict[tuple[str, datetime], dict[str, float]] = {}
    for r in readings:
        rows.setdefault((r.asset, r.ts), {})[r.signal] = r.value
    return [(a, ts, vals) for (a, ts), vals in sorted(rows.items(), key=lambda kv: kv[0][1])]


class SecurityFeed:
    def __init__(self, detector: SecurityDetector, on_event: Callable[[SecurityEvent], None] | None = None, *, keep: int = 500) -> None:
        self.detector = detector
        self.stream = detector.stream()
        self.on_event = on_event
        self.recent: deque = deque(maxlen=keep)
        self.errors = 0
        self.last_error: str | None = None
        self._lock = threading.Lock()

    def on_stored(self, readings: list[Reading]) -> None:
        """Readings as stored (no traffic side): one message per asset and time stamp."""
        with self._lock:
            for asset, ts, values in _by_row(readings):
                self._feed(Message(asset, _seconds(ts), values))

    def on_message(self, topic: str, publisher: str, received_at: float, payload_bytes: int, readings: list[Reading]) -> None:
        """One MQTT message with its traffic side (``received_at``: Unix seconds)."""
        with self._lock:
            rows = _by_row(readings)
            if not rows:  # a message with no readings still counts as traffic
                self._feed(Message("", received_at, {}, topic, publisher, received_at, payload_bytes))
            for asset, ts, values in rows:
                self._feed(Message(asset, _seconds(ts), values, topic, publisher, received_at, payload_bytes))

    def tick(self, now: float | None = None) -> None:
        """Close idle traffic events (call now and then; silences are found here)."""
        with self._lock:
            self._emit_all(lambda: self.stream.tick(time.time() if now is None else now))

    def close(self) -> None:
        """At shutdown: close what is still open (an event of a forgery that has not stopped, a
        silence growing), so it is stored, not lost with the process."""
        with self._lock:
            self._emit_all(self.stream.flush)

    def _feed(self, message: Message) -> None:
        self._emit_all(lambda: self.stream.update(message))

    def _emit_all(self, produce) -> None:
        try:
            events = produce()
        except Exception as exc:  # noqa: BLE001 - contained: counted and shown, ingest goes on
            self.errors += 1
            self.last_error = f"{type(exc).__name__}: {exc}"[:500]
            traceback.print_exc()
            return
        for ev in events:
            self.recent.append(ev)
            if self.on_event is not None:
                try:
                    self.on_event(ev)
                except Exception:  # noqa: BLE001 - an alert that cannot go out does not lose the event
                    traceback.print_exc()

    def events(self) -> list[dict]:
        """Recent security events, newest first, as plain records (for the API and dashboard)."""
        with self._lock:
            return [e.record() for e in reversed(self.recent)]

    def status(self) -> dict:
        with self._lock:
            return {"events": len(self.recent), "errors": self.errors, "last_error": self.last_error, **self.stream.counts}
