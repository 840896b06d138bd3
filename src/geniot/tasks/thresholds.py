"""Threshold rules that need no anomaly rate: they look only at scores of normal data.

``"pot"`` — peaks over threshold (SPOT, Siffer et al., KDD 2017): a generalised Pareto
distribution is fitted to the calibration scores above their ``level`` quantile, and the
threshold is the score exceeded with probability ``risk`` under that tail. With fewer than
``MIN_EXCEEDANCES`` scores above the initial level the tail cannot be fitted, and the rule falls
back to the largest calibration score (stated in ``rule``).
``"quantile"`` — the ``quantile`` of the calibration scores.
A number — that threshold, as given.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import genpareto

from geniot.core.exceptions import DataError

MIN_EXCEEDANCES = 10


@dataclass(frozen=True)
class Threshold:
    value: float
    rule: str  # human-readable: how ``value`` was chosen


def calibrate_threshold(
    scores: np.ndarray, method: str | float, *, risk: float = 1e-3, level: float = 0.95, quantile: float = 0.99
) -> Threshold:
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[np.isfinite(scores)]
    if isinstance(method, (int, float)) and not isinstance(method, bool):
        return Threshold(float(method), f"fixed at {float(method):.6g}")
    if scores.size < 2:
        raise DataError(f"{scores.size} calibration score(s) are too few to set a threshold")
    if method == "quantile":
        if not 0.0 < quantile < 1.0:
            raise DataError(f"quantile must be in (0, 1), got {quantile}")
        value = float(np.quantile(scores, quantile))
        return Threshold(value, f"{quantile:.4g} quantile of {scores.size} normal scores")
    if method != "pot":
        raise DataError(f"threshold must be 'pot', 'quantile' or a number, got {method!r}")
    if not 0.0 < risk < 1.0:
        raise DataError(f"risk must be in (0, 1), got {risk}")
    u = float(np.quantile(scores, level))
    excess = scores[scores > u] - u
    if excess.size < MIN_EXCEEDANCES:
        value = float(scores.max())
        return Threshold(
            value,
            f"largest of {scores.size} normal scores (only {excess.size} above the {level:.3g} "
            f"quantile; peaks-over-threshold needs {MIN_EXCEEDANCES})",
        )
    gamma, _, sigma = genpareto.fit(excess, floc=0.0)
    ratio = risk * scores.size / excess.size
    if abs(gamma) < 1e-6:
        value = u - sigma * np.log(ratio)
    else:
        value = u + sigma / gamma * (ratio ** (-gamma) - 1.0)
    # A fitted tail never puts the threshold below what normal data already reached at u.
    value = float(max(value, u))
    return Threshold(
        value,
        f"peaks over threshold: GPD (shape {gamma:.3g}, scale {sigma:.3g}) fitted to the "
        f"{excess.size} normal scores above their {level:.3g} quantile; exceedance risk {risk:g} per window",
    )
