"""Run every fidelity, utility and privacy metric at once and return one flat JSON-able dict."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from geniot.metrics._common import apply_minmax, as_rng, check_pair, minmax_params
from geniot.metrics.discriminative import discriminative_score
from geniot.metrics.embedding import context_fid
from geniot.metrics.memorization import memorization
from geniot.metrics.predictive import predictive_score
from geniot.metrics.statistics import acf_distance, correlation_distance, marginal_distance

__all__ = ["ALL_METRICS", "FAST_SETTINGS", "FULL_SETTINGS", "evaluate_synthetic"]

ALL_METRICS = (
    "discriminative",
    "predictive",
    "context_fid",
    "correlation",
    "acf",
    "marginal",
    "memorization",
)

#: the published protocol (BENCHMARKS.md section 1)
FULL_SETTINGS = {
    "discriminative": {"iterations": 2000, "repeats": 5, "learning_rate": 1e-3},
    "predictive": {"iterations": 5000, "learning_rate": 1e-3},
}
#: quick settings for tests and demos: NOT comparable with published numbers (fewer iterations,
#: fewer repeats and a 10-20x learning rate so the small GRUs still learn)
FAST_SETTINGS = {
    "discriminative": {"iterations": 400, "repeats": 2, "learning_rate": 2e-2},
    "predictive": {"iterations": 300, "learning_rate": 1e-2},
}


def evaluate_synthetic(
    real,
    synth,
    *,
    train=None,
    holdout=None,
    reference=None,
    fast: bool = False,
    metrics: Iterable[str] | None = None,
    random_state=None,
    device="cpu",
) -> dict:
    """Compute the fidelity, utility and memorization metrics of synthetic windows.

    Every array is first min-max scaled per channel with the **real** windows' min and max
    (``real`` lands in [0, 1]); ``train`` and ``holdout`` (both or neither) get the same scale and
    feed the memorization check, skipped when they are None; ``reference`` (windows sampled from a
    model of ``train`` that cannot copy, same units) corrects its verdict for a holdout that
    differs from the training span (see :func:`geniot.metrics.memorization`). ``fast=True`` uses
    :data:`FAST_SETTINGS` (for tests and demos; not comparable with published numbers), else the
    published protocol :data:`FULL_SETTINGS`. ``metrics`` picks a subset of :data:`ALL_METRICS`.

    Returns one flat dict of floats, ints and bools (JSON-able):
    ``n_real, n_synthetic, n_steps, n_channels, fast``, and for the metrics computed
    ``discriminative_score, discriminative_score_sd, discriminative_real_accuracy,
    discriminative_fake_accuracy, discriminative_repeats`` (lower score is better),
    ``predictive_tstr_mae, predictive_trtr_mae, predictive_ratio`` (lower MAE is better, ratio ~1
    ideal), ``context_fid, correlation_distance, acf_distance, marginal_distance`` (lower is
    better), ``dcr_synth_median, dcr_holdout_median, dcr_ratio, share_closer_than_holdout_5pct,
    memorized`` (see :func:`geniot.metrics.memorization`).
    """
    r, s = check_pair(real, synth)
    chosen = ALL_METRICS if metrics is None else tuple(metrics)
    unknown = sorted(set(chosen) - set(ALL_METRICS))
    if unknown:
        raise ValueError(f"unknown metrics {unknown}; choose from {list(ALL_METRICS)}")
    if (train is None) != (holdout is None):
        raise ValueError("give both train and holdout for the memorization check, or neither")
    lo, span = minmax_params(r)
    r01 = apply_minmax(r, lo, span, name="real")
    s01 = apply_minmax(s, lo, span, name="synth")
    settings = FAST_SETTINGS if fast else FULL_SETTINGS
    rng = as_rng(random_state)

    def seed() -> int:
        return int(rng.integers(0, 2**31 - 1))

    out: dict = {
        "n_real": int(len(r)),
        "n_synthetic": int(len(s)),
        "n_steps": int(r.shape[1]),
        "n_channels": int(r.shape[2]),
        "fast": bool(fast),
    }
    if "discriminative" in chosen:
        d = discriminative_score(
            r01, s01, random_state=seed(), device=device, **settings["discriminative"]
        )
        out.update(
            {
                "discriminative_score": d["score"],
                "discriminative_score_sd": d["score_sd"],
                "discriminative_real_accuracy": d["real_accuracy"],
                "discriminative_fake_accuracy": d["fake_accuracy"],
                "discriminative_repeats": d["repeats"],
            }
        )
    if "predictive" in chosen:
        if len(r01) >= 2 and r01.shape[1] >= 2:
            p = predictive_score(
                r01, s01, random_state=seed(), device=device, **settings["predictive"]
            )
            out.update(
                {
                    "predictive_tstr_mae": p["tstr_mae"],
                    "predictive_trtr_mae": p["trtr_mae"],
                    "predictive_ratio": p["ratio"],
                }
            )
    if "context_fid" in chosen:
        out["context_fid"] = context_fid(r01, s01, random_state=seed())
    if "correlation" in chosen:
        out["correlation_distance"] = correlation_distance(r01, s01)
    if "acf" in chosen:
        out["acf_distance"] = acf_distance(r01, s01)
    if "marginal" in chosen:
        out["marginal_distance"] = marginal_distance(r01, s01)
    if "memorization" in chosen and train is not None:
        tr01 = apply_minmax(train, lo, span, name="train")
        ho01 = apply_minmax(holdout, lo, span, name="holdout")
        ref01 = None if reference is None else apply_minmax(reference, lo, span, name="reference")
        out.update(memorization(tr01, s01, ho01, reference=ref01))
    return {k: _plain(v) for k, v in out.items()}


def _plain(v):
    if isinstance(v, str):
        return v
    if isinstance(v, (bool, np.bool_)):
        return bool(v)
    if isinstance(v, (int, np.integer)):
        return int(v)
    return float(v)
