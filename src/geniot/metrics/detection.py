"""Detection metrics with SKAB's definitions: pooled counts, F1, false-alarm and missed-alarm rates."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def detection_counts(pairs: Iterable[tuple[np.ndarray, np.ndarray]]) -> dict[str, int]:
    """TP, FP, FN, TN pooled over (labels, flags) pairs of per-step arrays."""
    tp = fp = fn = tn = 0
    for labels, flags in pairs:
        y = np.asarray(labels).astype(bool)
        f = np.asarray(flags).astype(bool)
        if y.shape != f.shape:
            raise ValueError(f"labels {y.shape} and flags {f.shape} differ in shape")
        tp += int((y & f).sum())
        fp += int((~y & f).sum())
        fn += int((y & ~f).sum())
        tn += int((~y & ~f).sum())
    return {"tp": tp, "fp": fp, "fn": fn, "tn": tn}


def detection_scores(counts: dict[str, int]) -> dict[str, float]:
    """F1 = TP / (TP + (FP + FN) / 2); FAR = FP / (FP + TN) * 100; MAR = FN / (FN + TP) * 100."""
    tp, fp, fn, tn = (counts[k] for k in ("tp", "fp", "fn", "tn"))
    f1 = tp / (tp + 0.5 * (fp + fn)) if tp + fp + fn else 1.0
    far = 100.0 * fp / (fp + tn) if fp + tn else 0.0
    mar = 100.0 * fn / (fn + tp) if fn + tp else 0.0
    return {"f1": float(f1), "far": float(far), "mar": float(mar)}


def average_precision(labels: np.ndarray, scores: np.ndarray) -> float:
    """Area under the precision-recall curve (step-wise, as scikit-learn's average precision);
    NaN scores count as the lowest."""
    y = np.asarray(labels).astype(bool)
    s = np.asarray(scores, dtype=np.float64)
    s = np.where(np.isfinite(s), s, -np.inf)
    if not y.any():
        return float("nan")
    order = np.argsort(-s, kind="stable")
    y, s = y[order], s[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]  # last index of each tied score
    tps = np.cumsum(y)[distinct]
    precision = tps / (distinct + 1)
    recall = tps / y.sum()
    return float(np.sum(np.diff(np.r_[0.0, recall]) * precision))
