import json

import numpy as np
import torch

from geniot.metrics import evaluate_synthetic

torch.set_num_threads(1)

QUICK = ["context_fid", "correlation", "acf", "marginal", "memorization"]


def test_suite_keys_scaling_and_memorization(sines):
    real = sines(200, seed=1) * 50 + 300  # raw units: the suite scales with real's range
    synth = sines(200, seed=2) * 50 + 300
    holdout = sines(200, seed=3) * 50 + 300
    out = evaluate_synthetic(
        real, synth, train=real, holdout=holdout, metrics=QUICK, random_state=0
    )
    json.dumps(out)
    assert out["n_real"] == 200 and out["n_synthetic"] == 200
    assert out["memorized"] is False
    assert out["marginal_distance"] < 0.05
    copied = evaluate_synthetic(real, real, train=real, holdout=holdout, metrics=["memorization"])
    assert copied["memorized"] is True
    assert "discriminative_score" not in out


def test_suite_fast_runs_everything(sines):
    real, synth = sines(80, t=8, c=3, seed=1), sines(80, t=8, c=3, seed=2)
    out = evaluate_synthetic(real, synth, fast=True, random_state=0)
    json.dumps(out)
    for key in [
        "discriminative_score",
        "discriminative_real_accuracy",
        "predictive_tstr_mae",
        "predictive_trtr_mae",
        "predictive_ratio",
        "context_fid",
        "correlation_distance",
        "acf_distance",
        "marginal_distance",
        "fast",
    ]:
        assert key in out
    assert "memorized" not in out  # no train/holdout given
    assert all(isinstance(v, (bool, int, float)) for v in out.values())
    assert np.isfinite(out["context_fid"])
