"""Discriminative and predictive scores on reference cases (fast settings)."""

import numpy as np
import pytest
import torch

from geniot.metrics import discriminative_score, predictive_score

torch.set_num_threads(1)

# fast settings (the protocol's 2,000 iterations at lr 1e-3 take ~20 s per repeat on one thread)
FAST = dict(iterations=500, batch_size=64, repeats=2, learning_rate=2e-2)
SHAPE = dict(t=12, c=4)


def test_discriminative_same_distribution_near_zero(sines):
    a, b = sines(500, seed=1, **SHAPE), sines(500, seed=2, **SHAPE)
    d = discriminative_score(a, b, random_state=0, **FAST)
    assert d["score"] < 0.1
    assert set(d) == {"score", "score_sd", "real_accuracy", "fake_accuracy", "repeats"}
    assert d["repeats"] == 2


def test_discriminative_noise_near_half(sines):
    a = sines(500, seed=1, **SHAPE)
    noise = np.random.default_rng(0).uniform(size=a.shape)
    d = discriminative_score(a, noise, random_state=0, **FAST)
    assert d["score"] > 0.35
    assert d["real_accuracy"] > 0.8 and d["fake_accuracy"] > 0.8


def test_discriminative_deterministic_and_global_rng_untouched(sines):
    a, b = sines(60, seed=1), sines(90, seed=2)  # unequal sizes: larger one subsampled
    torch_state = torch.get_rng_state()
    np_state = np.random.get_state()[1].copy()
    kw = dict(iterations=5, batch_size=16, repeats=2)
    d1 = discriminative_score(a, b, random_state=7, **kw)
    d2 = discriminative_score(a, b, random_state=7, **kw)
    assert d1 == d2
    assert torch.equal(torch_state, torch.get_rng_state())
    assert np.array_equal(np_state, np.random.get_state()[1])


def test_predictive_tstr_on_real_matches_trtr(sines):
    a, b = sines(300, seed=1, **SHAPE), sines(300, seed=2, **SHAPE)
    kw = dict(iterations=250, batch_size=64, learning_rate=1e-2, random_state=0)
    p = predictive_score(a, b, **kw)
    assert set(p) == {"tstr_mae", "trtr_mae", "ratio"}
    assert 0.8 < p["ratio"] < 1.25
    noise = np.random.default_rng(0).uniform(size=b.shape)
    assert predictive_score(a, noise, **kw)["tstr_mae"] > 1.1 * p["trtr_mae"]


def test_predictive_last_channel_target(sines):
    a, b = sines(40, c=3, seed=1), sines(40, c=3, seed=2)
    p = predictive_score(a, b, iterations=5, target="last", random_state=0)
    assert np.isfinite(p["tstr_mae"]) and np.isfinite(p["trtr_mae"])
    with pytest.raises(ValueError):
        predictive_score(a[:, :, :1], b[:, :, :1], iterations=1, target="last")
