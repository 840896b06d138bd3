"""Score a live stream one reading at a time, with memory bounded by one window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from geniot.core.clock import ClockWatch
from geniot.core.exceptions import DataError
from geniot.tasks.events import Change, EventTracker, flag_scores, reading_row, smooth_scores
from geniot.tasks.flatline import StuckState, stuck_reason


@dataclass(frozen=True)
class StepScore:
    score: float  # anomaly score of the window ending at this reading (smoothed as configured)
    flag: bool
    threshold: float
    top_sensors: tuple[str, ...]
    timestamp: object = None
    changes: tuple[Change, ...] = field(default_factory=tuple)  # events opened, extended or closed here
    reason: str = ""  # "stuck: <sensor> held <value> for <time>" when a stuck sensor flags it


class StreamingScorer:
    """Keeps the last window of readings (and the last ``smoothing`` window scores) of one
    asset; ``update`` returns the new reading's score once a whole window has been seen, and
    the events it changed (the detector's ``merge_gap``/``min_event_steps``, ids ``asset@start``).

    The numbers and events equal ``AnomalyDetector.detect`` with ``align="end"`` on the same
    series from its ``window``-th step on (``detect`` gives the first steps the first window's
    score). A reading may hold NaN or miss a signal (a dropped value): it is scored as a gap.
    The detector's stuck rule runs on every reading (its runs may be longer than a window: one
    value and one count per sensor are kept), as ``detect`` runs it over the series.
    """

    def __init__(self, detector, *, asset: str | None = None) -> None:
        self.detector = detector
        gen = getattr(detector, "generator_", None)
        if gen is None:
            raise DataError("the detector is not fitted; call fit first")
        self.n_channels = gen.n_channels_
        self.window = gen.n_steps_
        self.channels = detector.channel_names(self.n_channels)
        self._readings: deque[np.ndarray] = deque(maxlen=self.window)
        self._scores: deque[float] = deque(maxlen=int(detector.smoothing))
        self.tracker: EventTracker = detector.event_tracker(asset=asset, keep_closed=False)
        self.stuck_rule = getattr(detector, "stuck_rule_", None)
        self.stuck_state = StuckState(self.n_channels)
        self._stuck = np.zeros(self.n_channels, dtype=bool)  # the sensors stuck at the last reading
        self.clock = ClockWatch()  # readings missed before a new one (an outage) go in as gaps

    def last_window(self) -> np.ndarray:
        """The readings held now, oldest first: (up to window, n_channels)."""
        return np.stack(self._readings) if self._readings else np.empty((0, self.n_channels))

    def warm(self, rows, times=None) -> None:
        """Fill the window and the smoothing memory from stored rows (oldest first) without
        tracking events: a history scan has already tracked them (``continue_from``). ``times``
        (the stored readings' last timestamps) tell the stream's clock."""
        for row in rows:
            self._push(row)
        if times is not None:
            self.clock.seed(times)

    def skip(self, n: int) -> None:
        """Readings the stream missed (an outage): ``n`` gap rows into the window and the
        smoothing memory, as ``detect`` reads a series on its clock (at most a window and the
        smoothing memory: more change nothing); the stuck rule and the events see none of them."""
        gap = np.full(self.n_channels, np.nan)
        for _ in range(min(int(n), self.window + int(self.detector.smoothing))):
            self._readings.append(gap)
            if len(self._readings) == self.window:
                self._scores.append(float(self.detector.window_scores(np.stack(self._readings)[None])[0]))

    def continue_from(self, tracker: EventTracker) -> None:
        """Go on with the events of a tracker that was fed the history before (its running event
        continues with the same id)."""
        tracker.keep_closed = False
        tracker.closed.clear()
        self.tracker = tracker

    def _push(self, reading, timestamp=None) -> np.ndarray | None:
        try:
            values = reading_row(reading, self.channels)
        except ValueError as exc:
            raise DataError(str(exc)) from None
        if self.stuck_rule is not None:
            self._stuck = self.stuck_rule.step(self.stuck_state, values, timestamp)
        self._readings.append(values)
        if len(self._readings) < self.window:
            return None
        window = np.stack(self._readings)[None]
        self._scores.append(float(self.detector.window_scores(window)[0]))
        return window

    def update(self, reading, timestamp=None) -> StepScore | None:
        if timestamp is not None:
            self.skip(self.clock.missed(timestamp))  # as ``detect`` reads a series on its clock
        window = self._push(reading, timestamp)
        if window is None:
            return None
        score = float(smooth_scores(np.array(self._scores), len(self._scores))[-1])
        threshold = float(self.detector.window_thresholds(window)[0])  # a regime switch's window has its own
        stuck = self._stuck
        flag = bool(flag_scores(score, threshold)) or bool(stuck.any())
        z = None
        if self.detector.attribute == "all" or (flag and self.detector.attribute != "none"):
            z = self.detector.channel_z(window)[0]
            z[stuck] = np.inf  # the stuck sensor is the one behind it, as in ``detect``
        top = self.detector._top(z, self.channels) if (flag and z is not None) else ()
        changes = self.tracker.update(flag, score, z=z, time=timestamp)
        reason = stuck_reason(self.stuck_state, stuck, self.channels, timestamp) if stuck.any() else ""
        return StepScore(score, flag, threshold, top, timestamp, tuple(changes), reason)
