import numpy as np
import pytest
import torch

from geniot.metrics import context_fid, frechet_distance

torch.set_num_threads(1)


def test_context_fid_real_vs_real_much_smaller_than_noise(sines):
    a, b = sines(600, seed=1), sines(600, seed=2)
    noise = np.random.default_rng(0).uniform(size=a.shape)
    same = context_fid(a, a, random_state=0)
    halves = context_fid(a, b, random_state=0)
    far = context_fid(a, noise, random_state=0)
    shuffled = context_fid(a, a[:, np.random.default_rng(1).permutation(24)], random_state=0)
    assert same == pytest.approx(0.0, abs=1e-6)
    assert halves * 20 < far
    assert halves < shuffled < far


def test_context_fid_is_deterministic_under_random_state(sines):
    a, b = sines(100, seed=1), sines(100, seed=2)
    assert context_fid(a, b, random_state=3) == context_fid(a, b, random_state=3)


def test_context_fid_tiny_windows(sines):
    a, b = sines(50, t=2, c=1, seed=1), sines(50, t=2, c=1, seed=2)
    assert np.isfinite(context_fid(a, b, random_state=0))


def test_frechet_distance_reference():
    # 1-D Gaussians: FD = (m1 - m2)^2 + (s1 - s2)^2
    rng = np.random.default_rng(0)
    x = rng.normal(0, 1, size=(20000, 1))
    y = rng.normal(2, 3, size=(20000, 1))
    assert frechet_distance(x, y) == pytest.approx(4 + 4, rel=0.05)
