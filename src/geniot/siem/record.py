"""One event as it leaves geniot: a plain mapping with the stored event fields, checked once.

The stored fields (``data.store.EVENT_COLUMNS``: id, asset, start_ts, end_ts, peak_ts,
peak_score, threshold, top_sensors, is_open) are read by name; the optional ``kind``
(process | integrity | traffic | another short word), ``attack`` (the attack type),
``reason`` (a sentence), ``severity`` (0-10), ``source`` (topic|publisher) and ``detected_at``
pass through when a producer sets them. A security event's own record
(``security.events.SecurityEvent.record()``: start, end, signal, no id) is read as it is:
``start``/``end`` stand for ``start_ts``/``end_ts``, ``signal`` for the sensors, and the id is
the project's ``asset@start``. Times without a zone are UTC, as the store keeps them; numbers
are Unix seconds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from geniot.core.events import event_id
from geniot.core.exceptions import DataError

MAX_SENSORS = 32  # sensors named in one message (the rest are counted in the text)
MAX_REASON_CHARS = 1024  # a longer reason is cut, and says how much was cut
_KIND = re.compile(r"[a-z][a-z0-9_-]{0,31}")
KIND_NAMES = {"process": "Process anomaly", "integrity": "Data-integrity attack", "traffic": "Traffic anomaly"}


@dataclass(frozen=True)
class EventRecord:
    id: str
    asset: str
    start: datetime  # aware, UTC
    end: datetime
    peak: datetime | None
    peak_score: float | None  # None: the window could not be scored (stored as NaN or null)
    threshold: float | None
    sensors: tuple[str, ...]
    is_open: bool
    kind: str = "process"
    attack: str | None = None
    reason: str | None = None
    severity: int | None = None  # 0-10 as the CEF header has it; None: unknown
    source: str | None = None  # where a traffic-level event came from (topic|publisher)
    detected: datetime | None = None  # when geniot raised it

    @property
    def state(self) -> str:
        return "open" if self.is_open else "closed"

    @property
    def title(self) -> str:
        name = KIND_NAMES.get(self.kind, f"{self.kind.capitalize()} event")
        return f"{name} ({self.attack})" if self.attack else name

    @property
    def signature(self) -> str:
        """A stable id of the kind of event (CEF Signature ID): ``process``, ``integrity:replay``."""
        return f"{self.kind}:{self.attack}" if self.attack else self.kind

    @property
    def time(self) -> datetime:
        """When this state of the event began: its start while open, its end once closed."""
        return self.start if self.is_open else self.end


def event_record(event: Mapping) -> EventRecord:
    """An :class:`EventRecord` from a stored event mapping; a missing or bad field raises a
    ``DataError`` naming the field and the event."""
    if not isinstance(event, Mapping):
        raise DataError(f"an event record must be a mapping of its fields, got {type(event).__name__}")
    event = dict(event)
    for stored, alias in (("start_ts", "start"), ("end_ts", "end"), ("top_sensors", "signal")):
        if _missing(event.get(stored)) and not _missing(event.get(alias)):
            event[stored] = event[alias]
    where = f"event {event.get('id')!r}" if not _missing(event.get("id")) else f"the event of {event.get('asset')!r}"
    for name in ("asset", "start_ts", "end_ts"):
        if _missing(event.get(name)):
            raise DataError(f"{where}: field {name!r} is missing")
    kind = event.get("kind")
    kind = "process" if _missing(kind) else str(kind)
    if _KIND.fullmatch(kind) is None:
        raise DataError(f"{where}: field 'kind' must be a short lower-case word (process, integrity, traffic), got {kind!r}")
    start, end = _time(event["start_ts"], "start_ts", where), _time(event["end_ts"], "end_ts", where)
    if end < start:
        raise DataError(f"{where}: end_ts {end.isoformat()} is before start_ts {start.isoformat()}")
    peak = None if _missing(event.get("peak_ts")) else _time(event["peak_ts"], "peak_ts", where)
    return EventRecord(
        id=event_id(str(event["asset"]), start) if _missing(event.get("id")) else str(event["id"]),
        asset=str(event["asset"]),
        start=start,
        end=end,
        peak=peak,
        peak_score=_number(event.get("peak_score"), "peak_score", where),
        threshold=_number(event.get("threshold"), "threshold", where),
        sensors=_sensors(event.get("top_sensors")),
        is_open=_flag(event.get("is_open"), where),
        kind=kind,
        attack=None if _missing(event.get("attack")) else str(event["attack"]),
        reason=None if _missing(event.get("reason")) else _bounded(str(event["reason"])),
        severity=_given_severity(event.get("severity"), where),
        source=None if _missing(event.get("source")) or event["source"] == "" else str(event["source"]),
        detected=None if _missing(event.get("detected_at")) else _time(event["detected_at"], "detected_at", where),
    )


def score_severity(peak_score: float | None, threshold: float | None) -> int | None:
    """CEF severity (0-10) from how far the peak score went past the threshold, relative to the
    threshold's size: below it 3, up to +25 % 5, up to +100 % 7, up to +300 % 8, beyond 9, an
    unscorable (infinite) window 10. No score or no threshold: None (unknown)."""
    if peak_score is None or threshold is None:
        return None
    if math.isinf(peak_score):
        return 10 if peak_score > 0 else 3
    excess = (peak_score - threshold) / max(abs(threshold), 1e-9)
    for limit, severity in ((0.0, 3), (0.25, 5), (1.0, 7), (3.0, 8)):
        if excess < limit:
            return severity
    return 9


def severity_of(record: EventRecord) -> int | None:
    """The producer's own severity if it gave one, else the one from the score."""
    return record.severity if record.severity is not None else score_severity(record.peak_score, record.threshold)


def _missing(value) -> bool:
    """None, NaN or pandas' NaT (the two that are unequal to themselves)."""
    return value is None or value != value  # noqa: PLR0124


def _time(value, name: str, where: str) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DataError(f"{where}: field {name!r} is not an ISO time: {value!r}") from None
    elif hasattr(value, "to_pydatetime"):  # a pandas Timestamp
        value = value.to_pydatetime()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        value = datetime.fromtimestamp(float(value), tz=UTC)  # Unix seconds
    if not isinstance(value, datetime):
        raise DataError(f"{where}: field {name!r} must be a time, got {type(value).__name__}")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _flag(value, where: str) -> bool:
    """``is_open``: a bool, or its text in a CSV (true/false, 1/0); missing is closed."""
    if _missing(value):
        return False
    if isinstance(value, str):
        text = value.strip().lower()
        if text not in ("true", "false", "1", "0"):
            raise DataError(f"{where}: field 'is_open' must be true or false, got {value!r}")
        return text in ("true", "1")
    return bool(value)


def _number(value, name: str, where: str) -> float | None:
    if _missing(value):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DataError(f"{where}: field {name!r} must be a number, got {value!r}") from None
    return None if math.isnan(number) else number


def _sensors(value) -> tuple[str, ...]:
    if _missing(value) or value == "":
        return ()
    names = value.split(";") if isinstance(value, str) else [str(v) for v in value]
    names = [n for n in names if n != ""]
    if len(names) > MAX_SENSORS:
        names = [*names[:MAX_SENSORS], f"(+{len(names) - MAX_SENSORS} more)"]
    return tuple(names)


def _bounded(text: str) -> str:
    if len(text) <= MAX_REASON_CHARS:
        return text
    return text[:MAX_REASON_CHARS] + f" (+{len(text) - MAX_REASON_CHARS} characters cut)"


def _given_severity(value, where: str) -> int | None:
    if _missing(value):
        return None
    if isinstance(value, str):  # a CSV cell
        try:
            value = float(value)
        except ValueError:
            raise DataError(f"{where}: field 'severity' must be a whole number 0-10, got {value!r}") from None
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or not 0 <= value <= 10:
        raise DataError(f"{where}: field 'severity' must be a whole number 0-10, got {value!r}")
    return int(value)
