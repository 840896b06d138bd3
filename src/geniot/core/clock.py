"""When readings are missing from a regular clock: one rule for files, the live service and the
edge (numpy only, so ``geniot-edge`` can import it).

The clock is the median step; it counts as regular when at least 90% of the steps are within 10%
of it (an irregular or jittered clock has no missing readings to speak of). A step of about ``k``
intervals misses ``k - 1`` readings. Stamps written to a unit no finer than the clock (whole
seconds on a 1 s clock) turn a reading late within its unit into a step of two, so there only
steps of three or more intervals miss a reading.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from geniot.core.events import iso_time

REGULAR_SHARE = 0.9


def resolution_ns(ts) -> int:
    """The coarsest of 1 min, 1 s, 1 ms, 1 us that every timestamp is a whole multiple of (1 ns else)."""
    ts = np.asarray(ts, dtype=np.int64)
    for unit in (60_000_000_000, 1_000_000_000, 1_000_000, 1_000):
        if not np.any(ts % unit):
            return unit
    return 1


def clock_of(ts_ns) -> tuple[float, bool] | None:
    """The regular clock of stamps (int nanoseconds, increasing): its interval and whether the
    stamps are written no finer than it; None when the steps are irregular (or too few)."""
    steps = np.diff(np.asarray(ts_ns, dtype=np.int64))
    if steps.size < 2:
        return None
    interval = float(np.median(steps))
    if interval <= 0 or np.mean(np.abs(steps / interval - 1.0) <= 0.1) < REGULAR_SHARE:
        return None
    return interval, resolution_ns(ts_ns) >= interval


def missed_readings(steps_ns, interval_ns: float, coarse: bool) -> np.ndarray:
    """Readings missing within each step on a clock (0 where none)."""
    steps = np.atleast_1d(np.asarray(steps_ns, dtype=np.float64))
    extra = np.rint(steps / interval_ns).astype(np.int64) - 1
    extra[steps < (2.5 if coarse else 1.5) * interval_ns] = 0
    return extra


def time_ns(t) -> int | None:
    """Nanoseconds since the epoch (UTC) of a timestamp in any form ``iso_time`` reads; None when
    it is not a time."""
    text = iso_time(t)
    try:
        return None if text is None else int(np.datetime64(text, "ns").astype(np.int64))
    except ValueError:
        return None


class ClockWatch:
    """A stream's clock from its recent readings: how many readings it missed before each new one
    (an outage), once ``min_seen`` readings show a regular clock."""

    def __init__(self, keep: int = 256, min_seen: int = 16) -> None:
        self._stamps: deque[int] = deque(maxlen=keep)
        self._steps: deque[int] = deque(maxlen=keep - 1)  # between the stamps held
        self.min_seen = min_seen

    def _add(self, now: int) -> None:
        if self._stamps:
            self._steps.append(now - self._stamps[-1])
        self._stamps.append(now)

    def seed(self, times) -> None:
        """Readings seen before (e.g. the stored history's last ones), oldest first."""
        for t in times:
            now = time_ns(t)
            if now is not None and (not self._stamps or now > self._stamps[-1]):
                self._add(now)

    def missed(self, t) -> int:
        """Readings missed between the last one and this one at ``t`` (which is then the last)."""
        now = time_ns(t)
        if now is None or (self._stamps and now <= self._stamps[-1]):
            return 0
        missed = 0
        # the median step is at least the shortest, so a step under 1.5 times that misses nothing:
        # a regular reading never pays for the clock (this runs on every live and edge reading)
        if len(self._stamps) >= self.min_seen and now - self._stamps[-1] >= 1.5 * min(self._steps):
            clock = clock_of(np.array(self._stamps))
            missed = int(missed_readings(now - self._stamps[-1], *clock)[0]) if clock is not None else 0
        self._add(now)
        return missed
