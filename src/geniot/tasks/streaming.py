"""Score a live stream one reading at a time, with memory bounded by one window."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from geniot.core.exceptions import DataError
from geniot.tasks._series import model_channels


@dataclass(frozen=True)
class StepScore:
    score: float  # anomaly score of the window ending at this reading (smoothed as configured)
    flag: bool
    threshold: float
    top_sensors: tuple[str, ...]
    timestamp: object = None


class StreamingScorer:
    """Keeps the last window of readings (and the last ``smoothing`` window scores) of one
    asset; ``update`` returns the new reading's score once a whole window has been seen.

    The numbers equal ``AnomalyDetector.detect`` with ``align="end"`` on the same series.
    A reading may hold NaN (a dropped value): it is scored as a gap.
    """

    def __init__(self, detector) -> None:
        self.detector = detector
        gen = detector.generator_
        if gen is None:
            raise DataError("the detector is not fitted; call fit first")
        self.n_channels = gen.n_channels_
        self.window = gen.n_steps_
        self.channels = model_channels(gen) or [f"ch{j}" for j in range(self.n_channels)]
        self._readings: deque[np.ndarray] = deque(maxlen=self.window)
        self._scores: deque[float] = deque(maxlen=int(detector.smoothing))

    def last_window(self) -> np.ndarray:
        """The readings held now, oldest first: (up to window, n_channels)."""
        return np.stack(self._readings) if self._readings else np.empty((0, self.n_channels))

    def update(self, reading, timestamp=None) -> StepScore | None:
        values = np.asarray(reading, dtype=np.float64).reshape(-1)
        if values.size != self.n_channels:
            raise DataError(f"a reading must have {self.n_channels} values ({', '.join(self.channels)}), got {values.size}")
        if np.isinf(values).any():
            j = int(np.flatnonzero(np.isinf(values))[0])
            raise DataError("infinite value in a reading", column=self.channels[j])
        self._readings.append(values)
        if len(self._readings) < self.window:
            return None
        window = np.stack(self._readings)[None]
        raw = float(self.detector.window_scores(window)[0])
        self._scores.append(raw)
        known = [s for s in self._scores if not np.isnan(s)]  # +inf: a window too extreme to score
        score = float(np.mean(known)) if known else float("nan")
        threshold = float(self.detector.threshold_.value)
        flag = bool(not np.isnan(score) and score > threshold)
        top: tuple[str, ...] = ()
        if flag and self.detector.attribute != "none":
            top = self.detector._top(self.detector.channel_z(window)[0], self.channels)
        return StepScore(score, flag, threshold, top, timestamp)
