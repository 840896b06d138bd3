"""Memorization check: distance to closest record (DCR) of synthetic vs held-out real windows."""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import NearestNeighbors

from geniot.core.exceptions import DataError
from geniot.core.validation import check_windows
from geniot.metrics._common import check_pair

__all__ = ["MEMORIZED_RATIO", "MEMORIZED_SHARE", "dcr", "memorization"]

#: memorized when the synthetic median DCR is below this fraction of the holdout median DCR ...
MEMORIZED_RATIO = 0.5
#: ... or when more than this share of synthetic windows is closer to training than the 5th
#: percentile of holdout DCRs (5% expected for fresh samples of the same distribution)
MEMORIZED_SHARE = 0.2


def dcr(train, query) -> np.ndarray:
    """Euclidean distance of each flattened ``query`` window to its nearest ``train`` window."""
    tr = np.asarray(train, dtype=np.float64)
    q = np.asarray(query, dtype=np.float64)
    nn = NearestNeighbors(n_neighbors=1, algorithm="brute", metric="euclidean")
    nn.fit(tr.reshape(len(tr), -1))
    dist, _ = nn.kneighbors(q.reshape(len(q), -1))
    return dist[:, 0]


def memorization(train, synth, holdout) -> dict:
    """Does the generator copy its training windows? Compares distances to closest record.

    DCR of a window = Euclidean distance (windows flattened) to its nearest **training** window.
    Synthetic windows should be no closer to the training set than real windows the model never
    saw (``holdout``, from the same distribution; for stride-1 windows take it from a separate
    time span so that it does not overlap the training windows). All three sets must be on the
    same scale.

    Returns:
      * ``dcr_synth_median`` / ``dcr_holdout_median``: median DCRs;
      * ``dcr_ratio`` = synth median / holdout median (**higher is safer**; ~1 for fresh samples,
        0 for copies);
      * ``share_closer_than_holdout_5pct``: share of synthetic windows whose DCR is below the 5th
        percentile of holdout DCRs (**lower is safer**; ~0.05 for fresh samples, 1 for copies);
      * ``memorized``: ``dcr_ratio < 0.5 or share_closer_than_holdout_5pct > 0.2``.
    """
    tr, s = check_pair(train, synth, real_name="train", synth_name="synth")
    ho = check_windows(holdout, name="holdout", allow_nan=False)
    if ho.shape[1:] != tr.shape[1:]:
        raise DataError("holdout windows must have the same steps and channels as train")
    d_s = dcr(tr, s)
    d_h = dcr(tr, ho)
    med_s, med_h = float(np.median(d_s)), float(np.median(d_h))
    if med_h > 0:
        ratio = med_s / med_h
    else:
        ratio = 1.0 if med_s == 0 else float("inf")
    p5 = float(np.percentile(d_h, 5))
    share = float((d_s < p5).mean())
    return {
        "dcr_synth_median": med_s,
        "dcr_holdout_median": med_h,
        "dcr_ratio": float(ratio),
        "share_closer_than_holdout_5pct": share,
        "memorized": bool(ratio < MEMORIZED_RATIO or share > MEMORIZED_SHARE),
    }
