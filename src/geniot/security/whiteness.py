"""A held value with made-up white noise is too white: the von Neumann ratio of each sensor.

A physical sensor wanders: a speed wobbles, a flow follows its valve, with time constants of
minutes, so consecutive readings are correlated. A forger who holds a value and adds white noise
as large as the sensor's step-to-step changes matches the level, the range and the one-step
innovations (the sequential tests' statistics), but not that correlation. Over a block of ``B``
readings the von Neumann ratio

    eta = mean of squared successive differences / variance

is about ``2`` for white noise (sd ``2 / sqrt(B)``) and ``2 (1 - rho_1)`` for a series with lag-one
autocorrelation ``rho_1``: a wandering sensor reads well below 2, its forgery about 2.

Per sensor, fit takes the largest ratio normal data reached over complete blocks. A sensor that
normal data take within two white-noise sds of 2 (temperatures whose changes are all measurement
noise, vibration) gets no test: it cannot be told from its forgery. For the others a block alarms
when it is within one white-noise sd of 2 and at least halfway from the largest normal ratio to
2 (two days of history do not show a sensor's whole upper tail). Blocks are an hour of readings
(bounded in steps); a block with more than a tenth of its successive differences missing is not
judged. On the simulated plant the test finds held speeds (a 5-minute wobble) and some held
flows; pressures and temperatures are too close to white to be tested (BENCHMARKS.md 21c).
"""

from __future__ import annotations

import numpy as np

BLOCK_S = 3600.0  # the block is an hour of readings ...
MIN_BLOCK, MAX_BLOCK = 30, 720  # ... within these many steps
_COMPLETE = 0.9  # share of a block's successive differences that must be there to judge it
_WHITE = 2.0  # the ratio of white noise
_QUALIFY_SD = 2.0  # a sensor whose normal ratio comes within this many white-noise sds of 2 is not tested
_ALARM_SD = 1.0  # alarm: a block within this many white-noise sds of 2 ...
_HALFWAY = 0.5  # ... and at least this far from the largest normal ratio towards white noise


def block_steps(interval_s: float) -> int:
    """Readings in one block at the sampling ``interval_s``."""
    return int(np.clip(round(BLOCK_S / float(interval_s)), MIN_BLOCK, MAX_BLOCK))


def rolling_ratio(values: np.ndarray, block: int) -> np.ndarray:
    """(n, c) von Neumann ratio of the ``block`` readings ending at each step; NaN where the block
    is incomplete (the first ``block - 1`` steps, gaps) or flat."""
    x = np.asarray(values, dtype=np.float64)
    n, c = x.shape
    out = np.full((n, c), np.nan)
    if n < block:
        return out
    ok = np.isfinite(x)
    xf = np.where(ok, x, 0.0)
    d = np.diff(x, axis=0)
    dok = np.isfinite(d)
    d2 = np.where(dok, d * d, 0.0)

    def window_sum(a: np.ndarray, length: int) -> np.ndarray:  # sums of ``length`` rows ending at each row
        s = np.cumsum(np.vstack([np.zeros((1, a.shape[1])), a]), axis=0)
        return s[length:] - s[:-length]

    cnt = window_sum(ok.astype(np.float64), block)
    s1, s2 = window_sum(xf, block), window_sum(xf * xf, block)
    dn, dsum = window_sum(dok.astype(np.float64), block - 1), window_sum(d2, block - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = s2 / cnt - (s1 / cnt) ** 2
        eta = (dsum / dn) / var
    judged = (dn >= _COMPLETE * (block - 1)) & (var > 0)  # a flat block (a stuck sensor) is the stuck rule's
    out[block - 1 :] = np.where(judged, eta, np.nan)
    return out


def fit_thresholds(values: np.ndarray, block: int) -> np.ndarray:
    """(c,) alarm level of each sensor's ratio from its normal ``values``; ``inf``: not tested."""
    eta = rolling_ratio(values, block)
    top = np.full(eta.shape[1], np.inf)
    seen = np.isfinite(eta).any(axis=0)
    top[seen] = np.nanmax(eta[:, seen], axis=0)
    sd = _WHITE / np.sqrt(block)  # of the ratio of white noise
    qualifies = top < _WHITE - _QUALIFY_SD * sd
    return np.where(qualifies, np.maximum(top + _HALFWAY * (_WHITE - top), _WHITE - _ALARM_SD * sd), np.inf)


class WhitenessState:
    """The newest ``block`` readings of one asset's sensors (a ring), for :func:`ratio_now`."""

    def __init__(self, block: int, c: int) -> None:
        self.ring = np.full((block, c), np.nan)
        self.pos = 0

    def push(self, row: np.ndarray) -> None:
        self.ring[self.pos] = row
        self.pos = (self.pos + 1) % len(self.ring)

    def clear(self) -> None:
        """After a gap the readings before it are not part of the next block."""
        self.ring[:] = np.nan

    def ratio_now(self) -> np.ndarray:
        """(c,) ratio of the ring's block, oldest reading first; NaN where it is not judged."""
        ordered = np.roll(self.ring, -self.pos, axis=0)
        return rolling_ratio(ordered, len(ordered))[-1]
