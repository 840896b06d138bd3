"""Lagged views of every sensor for the sequential tests: first-order (exponential) filters.

A temperature follows the load through a thermal lag of tens of minutes, far longer than the
model's window of a few steps: from the window alone the other sensors cannot say where a
temperature should be, its level residual wanders for hours, and the level test's threshold
(the largest normal CUSUM) grows so large that a forged temperature is never flagged. The
filtered load, one value per time constant, carries that memory into the window model, which
then predicts the temperature as the physics does.

A filter starts at a sensor's first reading and is used only once it has seen
``VALID_AFTER`` time constants of readings; a sensor missing for longer than one time constant
starts it again (its old value says nothing about the new state). An unused value is NaN, which
the Gaussian marginalises out exactly.
"""

from __future__ import annotations

import numpy as np

#: time constants (minutes) of the filters every sensor gets
LAG_MINUTES = (5.0, 20.0, 60.0)
VALID_AFTER = 1.5  # time constants of readings before a filter's value is used (a fifth of its start is left)


class LagFilters:
    """Streaming filters of ``c`` sensors read every ``interval_s`` seconds; ``now()`` is
    (len(minutes) * c,) in the order filter by filter, sensor by sensor."""

    def __init__(self, c: int, interval_s: float, minutes=LAG_MINUTES) -> None:
        tau = np.asarray(minutes, dtype=np.float64) * 60.0 / float(interval_s)  # in steps
        self.alpha = (1.0 - np.exp(-1.0 / np.maximum(tau, 1e-9)))[:, None]
        self.tau = tau[:, None]
        self.value = np.full((len(tau), int(c)), np.nan)
        self.seen = np.zeros((len(tau), int(c)))
        self.missing = np.zeros(int(c))

    def push(self, row: np.ndarray) -> None:
        """One reading per sensor (NaN: that sensor sent nothing this step)."""
        row = np.asarray(row, dtype=np.float64)
        ok = np.isfinite(row)
        self.missing = np.where(ok, 0.0, self.missing + 1.0)
        self._drop_stale()
        fresh = ok & ~np.isfinite(self.value)
        moved = self.value + self.alpha * (np.where(ok, row, 0.0) - self.value)
        self.value = np.where(fresh, row, np.where(ok, moved, self.value))
        self.seen = self.seen + ok

    def skip(self, n_missing: int) -> None:
        """``n_missing`` steps with no reading at all."""
        self.missing = self.missing + max(0, int(n_missing))
        self._drop_stale()

    def _drop_stale(self) -> None:
        stale = self.missing[None, :] > self.tau
        self.value = np.where(stale, np.nan, self.value)
        self.seen = np.where(stale, 0.0, self.seen)

    def now(self) -> np.ndarray:
        return np.where(self.seen >= VALID_AFTER * self.tau, self.value, np.nan).reshape(-1)


def lagged(values: np.ndarray, interval_s: float, minutes=LAG_MINUTES) -> np.ndarray:
    """(n, len(minutes) * c) filter values after each row of ``values`` (n, c), as the stream has them."""
    values = np.asarray(values, dtype=np.float64)
    filters = LagFilters(values.shape[1], interval_s, minutes)
    out = np.empty((len(values), len(minutes) * values.shape[1]))
    for i, row in enumerate(values):
        filters.push(row)
        out[i] = filters.now()
    return out
