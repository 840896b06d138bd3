"""The one set of checks a reading passes before it is stored, on every way in (MQTT, JSON, files).

* **names**: asset and signal by :func:`geniot.core.names.check_name`;
* **timestamps**: not before 1970-01-01 and not after now + 5 minutes (a clock far ahead would
  move the plant's "now"; years past 2262 overflow nanosecond time);
* **values**: finite and inside the signal's physical range: ``ranges`` maps a signal name or a
  glob (``temp_*``) to ``[min, max]`` (an exact name wins over a glob, the first matching glob
  wins), every other signal must have ``|value| <= max_abs`` (1e9 by default).

The functions return a problem text (or None) instead of raising, so that each caller turns a
problem into its own unit of rejection: a dead letter for a message, an index for a JSON record,
a row and column for a file. :func:`reason_kind` maps any rejection reason to one of a fixed set
of categories (health counts by category, never by user text, so the counters stay bounded).
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np

from geniot.core.exceptions import DataError
from geniot.core.names import NAME_RULE, is_valid_name

if TYPE_CHECKING:  # messages imports this module
    from geniot.ingest.messages import Reading

EARLIEST = datetime(1970, 1, 1)  # naive UTC, like every stored timestamp
FUTURE_TOLERANCE = timedelta(minutes=5)
DEFAULT_MAX_ABS = 1e9
_RANGE_CACHE_LIMIT = 50_000  # signals whose range was looked up (names are bounded by the name rule)

# Fixed categories of rejection reasons, in the order they are tried; anything else is "other".
_KINDS: tuple[tuple[str, re.Pattern], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("payload-too-large", r"over the .*byte limit|too large|decompress|too many signals"),
        ("too-deeply-nested", r"nested|recursion"),
        ("not-json", r"not valid JSON|JSON array|JSON object|not a number JSON allows"),
        ("bad-topic", r"^topic "),
        ("bad-name", r"not a valid name|must be text"),
        ("unknown-field", r"unknown field"),
        ("missing-field", r"missing (or non-text )?field|must be a non-empty object"),
        ("timestamp-in-future", r"in the future"),
        ("timestamp-too-old", r"before 1970"),
        ("bad-timestamp", r"ISO-8601|timestamp|\bts\b"),
        ("bad-quality", r"quality"),
        ("not-finite", r"not finite|infinite|NaN"),
        ("out-of-range", r"outside|out of range"),
        ("wrong-type", r"must be a number|must be|expected"),
        ("store-refused", r"store|writer"),
        ("parse-failure", r"could not be parsed|Error"),
    )
)
REASON_KINDS: tuple[str, ...] = tuple(k for k, _ in _KINDS) + ("other",)


def reason_kind(reason: str) -> str:
    """The fixed category of a rejection reason (at most 17 distinct values)."""
    for kind, pattern in _KINDS:
        if pattern.search(reason):
            return kind
    return "other"


_valid_names: set[str] = set()  # names seen valid (the hot path sees the same few names again and again)


def name_problem(value: object, what: str) -> str | None:
    """Why ``value`` is not a valid asset/signal name, or None (the rule of ``check_name``)."""
    if value in _valid_names:
        return None
    if is_valid_name(value):
        if len(_valid_names) >= _RANGE_CACHE_LIMIT:
            _valid_names.clear()
        _valid_names.add(value)  # type: ignore[arg-type]
        return None
    if not isinstance(value, str):
        return f"{what} must be text, got {type(value).__name__}"
    shown = value if len(value) <= 64 else value[:61] + "..."
    return f"{what} {shown!r} is not a valid name ({NAME_RULE})"


def ts_problem(ts: datetime, now: datetime | None = None, *, field: str = "ts") -> str | None:
    """Why a naive-UTC timestamp cannot be stored, or None."""
    if ts < EARLIEST:
        return f"{field} {ts.isoformat()} is before 1970-01-01"
    now = now or utc_now()
    if ts > now + FUTURE_TOLERANCE:
        return f"{field} {ts.isoformat()} is in the future (now {now.isoformat(timespec='seconds')})"
    return None


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class ReadingChecks:
    """Physical ranges per signal plus the name and timestamp rules; see the module text."""

    def __init__(self, ranges: Mapping[str, Iterable[float]] | None = None, *, max_abs: float = DEFAULT_MAX_ABS) -> None:
        if not (isinstance(max_abs, int | float) and math.isfinite(max_abs) and max_abs > 0):
            raise DataError(f"max_abs must be a positive finite number, got {max_abs!r}")
        self.max_abs = float(max_abs)
        self.exact: dict[str, tuple[float, float]] = {}
        self.globs: list[tuple[str, tuple[float, float]]] = []
        for key, bounds in (ranges or {}).items():
            pair = _bounds(key, bounds)
            if any(ch in key for ch in "*?["):
                self.globs.append((key, pair))
            else:
                self.exact[key] = pair
        self._cache: dict[str, tuple[float, float]] = {}

    @classmethod
    def from_settings(cls, settings) -> ReadingChecks:
        """From ``GENIOT_SIGNAL_RANGES`` (JSON) and ``GENIOT_MAX_ABS_VALUE``; a bad setting is an
        error at start, never a silently open door."""
        text = getattr(settings, "signal_ranges", None)
        ranges: dict = {}
        if text:
            try:
                ranges = json.loads(text)
            except json.JSONDecodeError as exc:
                raise DataError(f"GENIOT_SIGNAL_RANGES is not valid JSON: {exc}") from None
            if not isinstance(ranges, dict):
                raise DataError('GENIOT_SIGNAL_RANGES must be a JSON object {"<signal or glob>": [min, max]}')
        return cls(ranges, max_abs=getattr(settings, "max_abs_value", DEFAULT_MAX_ABS))

    def describe(self) -> dict:
        return {"max_abs": self.max_abs, "ranges": {**{k: list(v) for k, v in self.exact.items()},
                                                     **{k: list(v) for k, v in self.globs}}}  # fmt: skip

    # ------------------------------------------------------------ values
    def range_of(self, signal: str) -> tuple[float, float]:
        found = self._cache.get(signal)
        if found is not None:
            return found
        found = self.exact.get(signal)
        if found is None:
            found = next((pair for pattern, pair in self.globs if fnmatch.fnmatchcase(signal, pattern)), None)
        if found is None:
            found = (-self.max_abs, self.max_abs)
        if len(self._cache) >= _RANGE_CACHE_LIMIT:
            self._cache.clear()
        self._cache[signal] = found
        return found

    def value_problem(self, signal: str, value: float, *, what: str = "value") -> str | None:
        if not math.isfinite(value):
            return f"{what} of {signal!r} is not finite"
        lo, hi = self.range_of(signal)
        if not lo <= value <= hi:
            return f"{what} {value:.6g} of {signal!r} is outside its physical range [{lo:g}, {hi:g}]"
        return None

    def column_problem(self, signal: str, values: np.ndarray) -> tuple[int, str] | None:
        """The first bad value of a column (NaN = a gap, allowed) as (index, problem), or None."""
        lo, hi = self.range_of(signal)
        with np.errstate(invalid="ignore"):
            bad = np.isinf(values) | (values < lo) | (values > hi)
        if not bad.any():
            return None
        i = int(np.argmax(bad))
        return i, self.value_problem(signal, float(values[i])) or "bad value"

    # ------------------------------------------------------------ readings
    def reading_problem(self, r: Reading, now: datetime | None = None) -> str | None:
        return (
            name_problem(r.asset, "asset")
            or name_problem(r.signal, "signal")
            or ts_problem(r.ts, now)
            or self.value_problem(r.signal, r.value)
        )

    def split(self, readings: list[Reading], now: datetime | None = None) -> tuple[list[Reading], list[tuple[Reading, str]]]:
        """The readings that pass, and (reading, problem) of those that do not."""
        now = now or utc_now()
        latest = now + FUTURE_TOLERANCE
        good: list[Reading] = []
        bad: list[tuple[Reading, str]] = []
        names, ranges = _valid_names, self._cache
        for r in readings:
            bounds = ranges.get(r.signal)
            if bounds is not None and r.asset in names and r.signal in names and EARLIEST <= r.ts <= latest and bounds[0] <= r.value <= bounds[1]:
                good.append(r)  # the fast path: every rule holds (NaN fails the comparison)
                continue
            problem = self.reading_problem(r, now)
            if problem is None:
                good.append(r)
            else:
                bad.append((r, problem))
        return good, bad


def times_problem(times: np.ndarray, now: datetime | None = None) -> tuple[int, str] | None:
    """The first timestamp of a datetime64 column outside [1970, now + 5 min], or None."""
    times = np.asarray(times).astype("datetime64[us]")
    now = now or utc_now()
    lo = np.datetime64(EARLIEST, "us")
    hi = np.datetime64(now + FUTURE_TOLERANCE, "us")
    bad = (times < lo) | (times > hi)
    if not bad.any():
        return None
    i = int(np.argmax(bad))
    return i, ts_problem(times[i].astype(datetime), now) or "timestamp out of range"


def _bounds(key: object, bounds: object) -> tuple[float, float]:
    if not isinstance(key, str) or not key:
        raise DataError(f"a signal range needs a signal name or glob as its key, got {key!r}")
    try:
        lo, hi = (float(b) for b in bounds)  # type: ignore[union-attr]
    except (TypeError, ValueError):
        raise DataError(f"the range of {key!r} must be [min, max], got {bounds!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo <= hi):
        raise DataError(f"the range of {key!r} must be finite with min <= max, got {bounds!r}")
    return lo, hi
