"""Replay: "too perfect a repeat of the past".

Real readings carry measurement noise, so a whole row of sensors never comes back the same.
Each row is quantized to a hundredth of each sensor's noise level and remembered; a run of
consecutive rows that all match earlier rows is a replay of recorded data. The memory is bounded
(the oldest rows are forgotten first) and holds the normal data the detector was fitted on.
"""

from __future__ import annotations

from collections import deque

import numpy as np

_MISSING = np.iinfo(np.int64).min


class ReplayIndex:
    def __init__(self, noise: np.ndarray, *, resolution: float = 0.01, min_lag: int = 2, max_rows: int = 100_000) -> None:
        self.step = np.maximum(np.asarray(noise, dtype=np.float64) * resolution, 1e-12)
        self.min_lag = int(min_lag)
        self.max_rows = int(max_rows)
        self._first: dict[bytes, int] = {}
        self._order: deque = deque()
        self.pos = 0

    def quantize(self, rows: np.ndarray) -> np.ndarray:
        rows = np.atleast_2d(np.asarray(rows, dtype=np.float64))
        with np.errstate(invalid="ignore"):
            q = np.round(rows / self.step)
        return np.where(np.isfinite(q), q, _MISSING).astype(np.int64)

    def check_add(self, row: np.ndarray) -> tuple[bool, int | None]:
        """Whether this row repeats an earlier one (and the lag in rows); then remember it.
        Rows with half or more of the sensors missing are neither checked nor kept."""
        row = np.asarray(row, dtype=np.float64)
        self.pos += 1
        if np.isnan(row).sum() * 2 >= row.size:
            return False, None
        key = self.quantize(row)[0].tobytes()
        seen = self._first.get(key)
        if seen is None:
            self._remember(key)
            return False, None
        lag = self.pos - seen
        return lag >= self.min_lag, lag

    def _remember(self, key: bytes) -> None:
        self._first[key] = self.pos
        self._order.append(key)
        while len(self._order) > self.max_rows:
            self._first.pop(self._order.popleft(), None)

    def add_history(self, rows: np.ndarray) -> None:
        for q in self.quantize(rows):
            self.pos += 1
            if (q == _MISSING).sum() * 2 < q.size:
                key = q.tobytes()
                if key not in self._first:
                    self._remember(key)

    def history(self) -> np.ndarray:
        """The remembered rows, quantized (for saving)."""
        if not self._order:
            return np.zeros((0, len(self.step)), dtype=np.int64)
        return np.stack([np.frombuffer(k, dtype=np.int64) for k in self._order])

    def load_history(self, quantized: np.ndarray) -> None:
        for q in np.asarray(quantized, dtype=np.int64):
            self.pos += 1
            self._remember(q.tobytes())
