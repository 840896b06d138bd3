"""Remaining-useful-life scores with the C-MAPSS / PHM08 definitions."""

from __future__ import annotations

import numpy as np


def phm08_score(predicted, true) -> float:
    """Sum over units of exp(-d/13) - 1 for early predictions (d < 0) and exp(d/10) - 1 for late
    ones, d = predicted - true: late predictions cost more."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))
