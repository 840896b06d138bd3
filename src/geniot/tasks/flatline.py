"""A signal that stops moving: the fault a likelihood detector cannot see.

A stuck sensor holds a plausible value, and a constant run near the mean is *more* likely under
a Gaussian (or any smooth density) than the noisy truth, so a detector that flags unlikely
windows passes it (on the simulator fleet it flagged none of the real stuck sensors). This rule
learns, per channel, the longest run of steps that barely move (``|step|`` below ``tol`` of the
channel's median step) in real normal data, and flags runs longer than ``margin`` times that
(at least ``min_run`` steps). Quantized or slow signals that sit still in normal data raise
their own limit, so they do not alarm.
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError, NotFittedError


def _still_runs(x: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(n_steps, n_channels) length of the still run each step ends (0 where it moved)."""
    still = np.zeros(x.shape, dtype=bool)
    still[1:] = np.abs(np.diff(x, axis=0)) <= tol  # NaN steps compare False: a gap breaks a run
    runs = np.zeros(x.shape, dtype=np.int64)
    for t in range(1, len(x)):
        runs[t] = np.where(still[t], runs[t - 1] + 1, 0)
    return runs


class FlatlineDetector:
    """Flags steps where a channel has barely moved for longer than it ever does normally."""

    def __init__(self, *, tol: float = 0.01, margin: float = 2.0, min_run: int = 6) -> None:
        self.tol = tol
        self.margin = margin
        self.min_run = min_run

    def fit(self, series: list[np.ndarray]) -> FlatlineDetector:
        """Learn each channel's typical step and longest still run from normal series."""
        arrays = [np.asarray(s, dtype=np.float64) for s in series]
        if not arrays or any(a.ndim != 2 or len(a) < 3 for a in arrays):
            raise DataError("FlatlineDetector.fit needs series shaped (n_steps >= 3, n_channels)")
        c = arrays[0].shape[1]
        if any(a.shape[1] != c for a in arrays):
            raise DataError("all series must have the same channels")
        steps = np.concatenate([np.abs(np.diff(a, axis=0)) for a in arrays])
        typical = np.nanmedian(steps, axis=0)
        self.tol_ = self.tol * np.where(np.isfinite(typical), typical, 0.0)
        longest = np.max([_still_runs(a, self.tol_).max(axis=0) for a in arrays], axis=0)
        self.longest_normal_ = longest
        self.limit_ = np.maximum(np.ceil(self.margin * longest), self.min_run).astype(np.int64)
        return self

    def flags(self, x) -> np.ndarray:
        """(n_steps,) True where some channel's still run is past its limit (the whole run)."""
        per = self.channel_flags(x)
        return per.any(axis=1)

    def channel_flags(self, x) -> np.ndarray:
        """(n_steps, n_channels): which channel is stuck at each step."""
        if not hasattr(self, "limit_"):
            raise NotFittedError("FlatlineDetector is not fitted yet; call fit first")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.limit_):
            raise DataError(f"expected a series shaped (n_steps, {len(self.limit_)}), got {x.shape}")
        runs = _still_runs(x, self.tol_)
        out = np.zeros(x.shape, dtype=bool)
        for j in range(x.shape[1]):
            for t in np.flatnonzero(runs[:, j] > self.limit_[j]):
                out[t - runs[t, j] : t + 1, j] = True  # the run from where it stopped moving
        return out
