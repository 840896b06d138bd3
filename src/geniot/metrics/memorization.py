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


def memorization(train, synth, holdout, *, reference=None) -> dict:
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

    A holdout from another stretch of time (a trend, wear, a regime the training span did not
    see) lies farther from the training windows than any fresh sample of the training
    distribution, so the plain DCR test then calls every model a copier. With ``reference``
    (windows sampled from a model of the training windows that cannot copy one, e.g. a Gaussian;
    the privacy audit's correction) the verdict is corrected: ``memorized`` only when the test
    above fires **and** the synthetic windows lie much nearer the training windows than the
    reference does (``dcr_synth_median < 0.5 * dcr_reference_median``). Adds
    ``dcr_reference_median``, ``dcr_ratio_to_reference`` (synthetic / reference median DCR;
    ~1 or more = no copying) and ``memorization_verdict`` (one sentence).
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
    flagged = bool(ratio < MEMORIZED_RATIO or share > MEMORIZED_SHARE)
    out = {
        "dcr_synth_median": med_s,
        "dcr_holdout_median": med_h,
        "dcr_ratio": float(ratio),
        "share_closer_than_holdout_5pct": share,
        "memorized": flagged,
    }
    if reference is None:
        return out
    ref = check_windows(reference, name="reference", allow_nan=False)
    med_r = float(np.median(dcr(tr, ref)))
    to_ref = med_s / med_r if med_r > 0 else (1.0 if med_s == 0 else float("inf"))
    copies = flagged and med_s < MEMORIZED_RATIO * med_r
    out.update(
        dcr_reference_median=med_r,
        dcr_ratio_to_reference=float(to_ref),
        memorized=bool(copies),
        memorization_verdict=_verdict(copies, flagged, ratio, to_ref),
    )
    return out


def _verdict(copies: bool, flagged: bool, ratio: float, to_ref: float) -> str:
    if copies:
        return (
            f"copies: synthetic windows lie {ratio:.2f}x as far from the training windows as unseen real ones "
            f"and {to_ref:.2f}x as far as samples of a model that cannot copy"
        )
    if flagged:
        return (
            f"no copies: synthetic windows lie {to_ref:.2f}x as far from the training windows as samples of a model "
            f"that cannot copy; the unseen windows lie farther ({ratio:.2f}x) because they differ from the "
            "training span, not because the model copies"
        )
    return f"no copies: synthetic windows lie {ratio:.2f}x as far from the training windows as unseen real ones"
