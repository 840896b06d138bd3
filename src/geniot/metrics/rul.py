"""Remaining-useful-life scores: RMSE, MAE, the C-MAPSS / PHM08 score, the PHM 2012 bearing
challenge's percentage-error score and the coverage of a prediction interval."""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError


def phm08_score(predicted, true) -> float:
    """Sum over units of exp(-d/13) - 1 for early predictions (d < 0) and exp(d/10) - 1 for late
    ones, d = predicted - true: late predictions cost more."""
    d = np.asarray(predicted, dtype=np.float64) - np.asarray(true, dtype=np.float64)
    return float(np.sum(np.where(d < 0, np.exp(-d / 13.0) - 1.0, np.exp(d / 10.0) - 1.0)))


def phm2012_score(predicted, true) -> tuple[float, int]:
    """Mean accuracy of the IEEE PHM 2012 bearing challenge (1 perfect, towards 0 worse) and the
    number of units left out because their true RUL is 0 (the percentage error is undefined).

    Er = 100 (true - predicted) / true; A = exp(-ln(0.5) Er / 5) for Er <= 0 (late: predicted
    beyond the true RUL) and exp(ln(0.5) Er / 20) for Er > 0 (early): late predictions cost more."""
    p, t = np.asarray(predicted, dtype=np.float64), np.asarray(true, dtype=np.float64)
    ok = t > 0
    if not ok.any():
        return float("nan"), int((~ok).sum())
    er = 100.0 * (t[ok] - p[ok]) / t[ok]
    acc = np.where(er <= 0, np.exp(-np.log(0.5) * np.minimum(er, 0.0) / 5.0),
                   np.exp(np.log(0.5) * np.maximum(er, 0.0) / 20.0))  # each branch only where it applies: no overflow
    return float(acc.mean()), int((~ok).sum())


def interval_coverage(true, lower, upper) -> float:
    t = np.asarray(true, dtype=np.float64)
    return float(np.mean((t >= np.asarray(lower, dtype=np.float64)) & (t <= np.asarray(upper, dtype=np.float64))))


def rul_scores(predicted, true, *, lower=None, upper=None, cap: float | None = None) -> dict:
    """Every score, uncapped and (when ``cap`` is given) with truth and prediction capped at ``cap``.

    Returns ``{"uncapped": {...}, "capped": {...} | None}``; each holds n, rmse, mae, phm08,
    phm2012 (with phm2012_skipped), and coverage_10_90 when the interval is given."""
    p = np.asarray(predicted, dtype=np.float64)
    t = np.asarray(true, dtype=np.float64)
    if p.shape != t.shape or p.ndim != 1:
        raise DataError(f"{len(t)} true values for {len(p)} predictions")
    if len(t) == 0:
        raise DataError("no units to score")

    def one(p, t, lo, hi) -> dict:
        d = p - t
        acc, skipped = phm2012_score(p, t)
        out = {"n": int(len(t)), "rmse": float(np.sqrt(np.mean(d**2))), "mae": float(np.mean(np.abs(d))),
               "phm08": phm08_score(p, t), "phm2012": acc, "phm2012_skipped": skipped}  # fmt: skip
        if lo is not None and hi is not None:
            out["coverage_10_90"] = interval_coverage(t, lo, hi)
        return out

    lo = None if lower is None else np.asarray(lower, dtype=np.float64)
    hi = None if upper is None else np.asarray(upper, dtype=np.float64)
    result = {"uncapped": one(p, t, lo, hi), "capped": None}
    if cap is not None:
        c = float(cap)
        result["capped"] = one(np.minimum(p, c), np.minimum(t, c),
                               None if lo is None else np.minimum(lo, c), None if hi is None else np.minimum(hi, c))  # fmt: skip
    return result
