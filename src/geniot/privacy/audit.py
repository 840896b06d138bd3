"""Privacy audit of synthetic windows: membership inference, DCR and NNDR against a holdout.

Three sets of windows, all in the same units: ``train`` (the windows the generator was fitted
on: the members), ``holdout`` (real windows from the same source it never saw: the
non-members) and ``synth``. Distances are Euclidean between flattened windows after min-max
scaling each channel with the real data's range (train and holdout together).

* **Membership inference (distance attacker).** The attacker sees the synthetic windows and a
  candidate real window and guesses "member" the closer the candidate lies to its nearest
  synthetic window. The AUC of that guess over equal numbers of members and non-members is the
  headline: 0.5 = no better than a coin, 1 = every training window is recognised. A generator
  that copies its training windows gives AUC near 1; one that learned only the distribution
  gives about 0.5.
* **DCR** (distance to closest record): of each synthetic window to its nearest training window,
  against the same for holdout windows (:func:`geniot.metrics.memorization`), and the share of
  synthetic windows lying closer to the training set than to an equally large holdout set
  (about 0.5 when nothing is copied).
* **NNDR** (nearest-neighbour distance ratio): nearest / second-nearest training distance. A
  copy sits right on one training window and far from the rest (ratio near 0); a fresh sample
  sits among several (ratio near that of holdout windows).

With overlapping windows (stride 1) neighbouring windows share steps; take the holdout from a
separate time span (``geniot fit --holdout``), never interleaved with training windows.

A separate time span may differ from the training span (trends, regimes, wear), and then the
attacker tells the two apart even from data that copies nothing. The audit therefore runs the
same attack on a **reference**: windows sampled from a Gaussian model of the training windows,
which cannot copy one. Leakage is judged by the excess of the synthetic data's AUC over the
reference's; without a shift the reference scores about 0.5 and the excess is the AUC's.
"""

from __future__ import annotations

import math

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import NearestNeighbors

from geniot.core.exceptions import DataError
from geniot.core.validation import check_random_state, check_windows
from geniot.metrics import memorization
from geniot.metrics._common import apply_minmax, minmax_params
from geniot.models import GaussianBaseline

__all__ = ["AUC_FAIL", "AUC_WARN", "audit_privacy", "membership_inference_auc"]

#: above this membership-inference AUC the audit warns (the issue's target at epsilon = 10)
AUC_WARN = 0.55
#: above this AUC (lower end of its 95% interval) the audit fails
AUC_FAIL = 0.6
#: a reference (Gaussian samples) this easy to attack leaves nothing to measure
AUC_INCONCLUSIVE = 0.9


def _flat(X: np.ndarray) -> np.ndarray:
    return X.reshape(len(X), -1)


def _nearest(reference: np.ndarray, query: np.ndarray, k: int = 1) -> np.ndarray:
    nn = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="euclidean")
    nn.fit(_flat(reference))
    dist, _ = nn.kneighbors(_flat(query))
    return dist


def _auc_se(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC (Hanley and McNeil 1982)."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc**2) + (n_neg - 1) * (q2 - auc**2)) / (n_pos * n_neg)
    return float(math.sqrt(max(var, 0.0)))


def membership_inference_auc(members, non_members, synth) -> dict:
    """AUC of the distance attacker (closer to a synthetic window = member), with its 95% interval.

    Also the attacker's true-positive rate at 1% and 10% false positives (a strong attack finds
    some members with few false alarms even when the AUC is modest).
    """
    d_in = _nearest(synth, members)[:, 0]
    d_out = _nearest(synth, non_members)[:, 0]
    labels = np.r_[np.ones(len(d_in)), np.zeros(len(d_out))]
    score = -np.r_[d_in, d_out]
    auc = float(roc_auc_score(labels, score))
    se = _auc_se(auc, len(d_in), len(d_out))
    tpr = {}
    for fpr in (0.01, 0.1):
        cut = np.quantile(d_out, fpr)  # flag as member when closer than this
        tpr[f"mia_tpr_at_{int(fpr * 100)}pct_fpr"] = float((d_in < cut).mean())
    return {
        "mia_auc": auc,
        "mia_auc_low": max(0.0, auc - 1.96 * se),
        "mia_auc_high": min(1.0, auc + 1.96 * se),
        **tpr,
        "distances": {"members": d_in, "non_members": d_out},
    }


def _subsample(X: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    return X if len(X) <= n else X[np.sort(rng.choice(len(X), n, replace=False))]


def _verdict(result: dict) -> tuple[str, str]:
    auc, low = result["mia_auc"], result["mia_auc_low"]
    ref = result.get("reference_mia_auc", 0.5)
    copied = result["memorized"]
    inconclusive = ref > AUC_INCONCLUSIVE
    facts = (
        f"an attacker holding the synthetic windows tells training windows from unseen real ones "
        f"with AUC {auc:.3f} (95% interval {low:.3f}-{result['mia_auc_high']:.3f}; 0.5 = guessing), "
        f"and synthetic windows lie {result['dcr_ratio']:.2f}x as far from the training windows as "
        f"unseen real windows do (1 = as far, 0 = copies)."
    )
    if ref > AUC_WARN:
        facts += (
            f" The unseen windows differ from the training windows: windows sampled from a Gaussian model of "
            f"the training windows, which cannot copy any, already give AUC {ref:.3f}, so leakage is judged by "
            f"the excess over it ({auc - ref:+.3f})."
        )
    if copied or (low - ref > AUC_FAIL - 0.5 and not inconclusive):
        return "fail", "FAIL: the synthetic data reveal the training windows: " + facts
    if inconclusive:
        return "warn", (
            "WARN: inconclusive: the unseen windows are so unlike the training windows that the attack measures "
            "the difference, not leakage; audit against real windows from the same conditions (--holdout FILE). "
            "No copies of training windows were found: " + facts
        )
    if auc - ref > AUC_WARN - 0.5:
        return "warn", f"WARN: some membership leakage (AUC more than {AUC_WARN - 0.5:.2f} above the reference): " + facts
    return "pass", "PASS: no measurable membership leakage: " + facts


def audit_privacy(
    train,
    synth,
    holdout,
    *,
    max_windows: int = 2000,
    random_state=0,
    keep_distances: bool = False,
) -> dict:
    """Membership-inference AUC, DCR and NNDR of ``synth`` against ``train`` and ``holdout``.

    ``max_windows`` caps each set (random subsample) so that the brute-force distances stay fast;
    members and non-members are subsampled to equal numbers. Returns a flat dict of numbers plus
    ``verdict`` ("pass" / "warn" / "fail") and ``verdict_text``; with ``keep_distances`` also the
    raw distances under ``"distances"`` (for plots).
    """
    tr = check_windows(train, name="train", allow_nan=False)
    ho = check_windows(holdout, name="holdout", allow_nan=False)
    sy = check_windows(synth, name="synthetic", allow_nan=False)
    for name, arr in (("holdout", ho), ("synthetic", sy)):
        if arr.shape[1:] != tr.shape[1:]:
            raise DataError(
                f"{name} windows are shaped (n, {arr.shape[1]}, {arr.shape[2]}) but the training windows "
                f"are (n, {tr.shape[1]}, {tr.shape[2]}): steps and channels must match"
            )
    if min(len(tr), len(ho), len(sy)) < 5:
        raise DataError(
            f"the audit needs at least 5 windows in each set; got train {len(tr)}, holdout {len(ho)}, "
            f"synthetic {len(sy)}"
        )
    rng = check_random_state(random_state)
    lo, span = minmax_params(np.concatenate([tr, ho]))
    tr, ho, sy = (apply_minmax(a, lo, span) for a in (tr, ho, sy))
    n = min(len(tr), len(ho), int(max_windows))
    members, non_members = _subsample(tr, n, rng), _subsample(ho, n, rng)
    sy = _subsample(sy, int(max_windows), rng)
    train_ref = _subsample(tr, max(int(max_windows), n), rng)

    mia = membership_inference_auc(members, non_members, sy)
    # The same attack on data that cannot copy: what a shift between the spans alone gives.
    reference = GaussianBaseline().fit(train_ref).sample(len(sy), random_state=rng)
    ref_mia = membership_inference_auc(members, non_members, reference)
    mem = memorization(train_ref, sy, non_members)
    dcr_reference = float(np.median(_nearest(train_ref, reference)[:, 0]))
    # Copies sit much nearer the training windows than unseen real windows do, and than fresh
    # samples do (the reference: a shifted holdout alone must not look like copying).
    copied = bool(mem["memorized"]) and mem["dcr_synth_median"] < 0.5 * dcr_reference
    # Closer to training than to an equally large unseen set? ~0.5 when nothing is copied.
    d_tr = _nearest(members, sy)[:, 0]
    d_ho = _nearest(non_members, sy)[:, 0]
    nn_s = _nearest(train_ref, sy, k=2)
    nn_h = _nearest(train_ref, non_members, k=2)
    nndr_s = nn_s[:, 0] / np.maximum(nn_s[:, 1], 1e-12)
    nndr_h = nn_h[:, 0] / np.maximum(nn_h[:, 1], 1e-12)
    result = {
        "mia_auc": mia["mia_auc"],
        "mia_auc_low": mia["mia_auc_low"],
        "mia_auc_high": mia["mia_auc_high"],
        "mia_tpr_at_1pct_fpr": mia["mia_tpr_at_1pct_fpr"],
        "mia_tpr_at_10pct_fpr": mia["mia_tpr_at_10pct_fpr"],
        "mia_attacker": "distance to the nearest synthetic window",
        "reference_mia_auc": ref_mia["mia_auc"],
        "mia_auc_excess": mia["mia_auc"] - ref_mia["mia_auc"],
        "n_members": int(len(members)),
        "n_non_members": int(len(non_members)),
        "n_synthetic": int(len(sy)),
        "dcr_synth_median": mem["dcr_synth_median"],
        "dcr_holdout_median": mem["dcr_holdout_median"],
        "dcr_ratio": mem["dcr_ratio"],
        "share_closer_than_holdout_5pct": mem["share_closer_than_holdout_5pct"],
        "share_synth_closer_to_train": float((d_tr < d_ho).mean()),
        "nndr_synth_median": float(np.median(nndr_s)),
        "nndr_holdout_median": float(np.median(nndr_h)),
        "dcr_reference_median": dcr_reference,
        "memorized": copied,
    }
    result["verdict"], result["verdict_text"] = _verdict(result)
    if keep_distances:
        result["distances"] = {
            **mia["distances"],
            "dcr_synth": _nearest(train_ref, sy)[:, 0],
            "dcr_holdout": nn_h[:, 0],
            "nndr_synth": nndr_s,
            "nndr_holdout": nndr_h,
        }
    return result
