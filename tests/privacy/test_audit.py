"""The privacy audit flags a generator that copies its training windows and passes one that cannot."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.models import GaussianBaseline
from geniot.privacy.audit import audit_privacy, membership_inference_auc


def windows(n, seed, t=16) -> np.ndarray:
    """Independent windows of one distribution (random phase and amplitude, noise)."""
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
    amp = rng.uniform(0.5, 1.5, (n, 1, 1))
    base = amp * np.sin(np.arange(t)[None, :, None] / 3 + phase) * np.array([1.0, 0.5, 2.0])
    return 5.0 + base + 0.1 * rng.standard_normal((n, t, 3))


TRAIN, HOLDOUT = windows(400, 0), windows(400, 1)


def test_a_generator_that_copies_training_windows_fails():
    rng = np.random.default_rng(2)
    copies = TRAIN[rng.choice(len(TRAIN), 400)] + 0.01 * rng.standard_normal(TRAIN.shape)
    result = audit_privacy(TRAIN, copies, HOLDOUT)
    assert result["verdict"] == "fail" and result["verdict_text"].startswith("FAIL")
    assert result["mia_auc"] > 0.75 and result["mia_tpr_at_1pct_fpr"] > 0.5
    assert result["memorized"] and result["dcr_ratio"] < 0.2
    assert result["share_synth_closer_to_train"] > 0.95
    assert result["nndr_synth_median"] < 0.3 < result["nndr_holdout_median"]


def test_the_gaussian_baseline_passes():
    synth = GaussianBaseline().fit(TRAIN).sample(400, random_state=0)
    result = audit_privacy(TRAIN, synth, HOLDOUT)
    assert result["verdict"] == "pass", result["verdict_text"]
    assert abs(result["mia_auc"] - 0.5) < 0.05
    assert result["mia_auc_low"] < 0.5 < result["mia_auc_high"]
    assert not result["memorized"] and 0.8 < result["dcr_ratio"] < 1.5
    assert 0.4 < result["share_synth_closer_to_train"] < 0.6


def test_partial_copying_is_flagged_by_the_attacker():
    # A quarter of the released windows are training windows: the AUC rises clearly above 0.5.
    rng = np.random.default_rng(3)
    fresh = GaussianBaseline().fit(TRAIN).sample(300, random_state=1)
    leaked = TRAIN[rng.choice(len(TRAIN), 100, replace=False)]
    result = audit_privacy(TRAIN, np.concatenate([fresh, leaked]), HOLDOUT)
    assert result["mia_auc"] > 0.6
    assert result["verdict"] in ("warn", "fail")


def test_a_shifted_holdout_is_not_taken_for_leakage():
    # The unseen span sits higher (a trend): raw AUC is high for anything, copies or not.
    shifted = HOLDOUT + 0.08
    fresh = GaussianBaseline().fit(TRAIN).sample(400, random_state=0)
    result = audit_privacy(TRAIN, fresh, shifted)
    assert result["mia_auc"] > 0.6 and result["reference_mia_auc"] > 0.6
    assert result["verdict"] == "pass" and "differ from the training windows" in result["verdict_text"]
    rng = np.random.default_rng(2)
    copies = TRAIN[rng.choice(len(TRAIN), 400)] + 0.01 * rng.standard_normal(TRAIN.shape)
    assert audit_privacy(TRAIN, copies, shifted)["verdict"] == "fail"
    # too different to tell anything: said so, unless copies are found
    far = audit_privacy(TRAIN, fresh, HOLDOUT + 3.0)
    assert far["verdict"] == "warn" and "inconclusive" in far["verdict_text"]
    assert audit_privacy(TRAIN, copies, HOLDOUT + 3.0)["verdict"] == "fail"


def test_auc_of_identical_distances_is_one_half():
    same = windows(50, 4)
    result = membership_inference_auc(same, same.copy(), windows(50, 5))
    assert result["mia_auc"] == pytest.approx(0.5)


def test_keep_distances_returns_arrays_for_plots():
    synth = GaussianBaseline().fit(TRAIN).sample(100, random_state=0)
    result = audit_privacy(TRAIN, synth, HOLDOUT, keep_distances=True, max_windows=200)
    d = result["distances"]
    assert len(d["members"]) == len(d["non_members"]) == result["n_members"] == 200
    assert len(d["dcr_synth"]) == len(d["nndr_synth"]) == 100


def test_bad_input_is_named():
    with pytest.raises(DataError, match="holdout"):
        audit_privacy(TRAIN, TRAIN, HOLDOUT[:, :8])
    with pytest.raises(DataError, match="synthetic"):
        audit_privacy(TRAIN, TRAIN[:, :, :2], HOLDOUT)
    with pytest.raises(DataError, match="at least 5"):
        audit_privacy(TRAIN, TRAIN[:3], HOLDOUT)
    gappy = TRAIN.copy()
    gappy[0, 0, 0] = np.nan
    with pytest.raises(DataError):
        audit_privacy(gappy, TRAIN, HOLDOUT)
