
import numpy as np
import torch

from geniot.metrics import memorization

torch.set_num_threads(1)


def test_copy_of_training_is_memorized_fresh_samples_are_not(sines):
    train, holdout, fresh = sines(500, seed=1), sines(500, seed=2), sines(500, seed=3)
    copy = memorization(train, train.copy(), holdout)
    assert copy["memorized"] is True
    assert copy["dcr_synth_median"] == 0.0 and copy["share_closer_than_holdout_5pct"] == 1.0
    ok = memorization(train, fresh, holdout)
    assert ok["memorized"] is False
    assert 0.8 < ok["dcr_ratio"] < 1.25
    assert ok["share_closer_than_holdout_5pct"] < 0.15
    assert set(ok) == {
        "dcr_synth_median",
        "dcr_holdout_median",
        "dcr_ratio",
        "share_closer_than_holdout_5pct",
        "memorized",
    }


def test_slightly_perturbed_or_partial_copies_are_memorized(sines):
    train, holdout, fresh = sines(500, seed=1), sines(500, seed=2), sines(500, seed=3)
    rng = np.random.default_rng(0)
    noisy = train + rng.normal(0, 0.01, train.shape)
    assert memorization(train, noisy, holdout)["memorized"]
    partial = np.concatenate([train[:150], fresh[:350]])  # 30% copied
    assert memorization(train, partial, holdout)["memorized"]
