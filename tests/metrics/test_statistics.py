import numpy as np
import pytest
import torch

from geniot.core.exceptions import DataError
from geniot.metrics import (
    acf_distance,
    correlation_distance,
    marginal_distance,
    minmax_scale_pair,
)

torch.set_num_threads(1)


def test_identical_sets_are_zero(sines):
    a = sines(200)
    assert correlation_distance(a, a.copy()) == pytest.approx(0.0, abs=1e-12)
    assert acf_distance(a, a.copy()) == pytest.approx(0.0, abs=1e-12)
    assert marginal_distance(a, a.copy()) == pytest.approx(0.0, abs=1e-12)
    assert marginal_distance(a, a.copy(), method="histogram") == pytest.approx(0.0, abs=1e-12)


def test_same_distribution_small_noise_large(sines):
    a, b = sines(400, seed=1), sines(400, seed=2)
    noise = np.random.default_rng(3).uniform(size=a.shape)
    assert acf_distance(a, b) < 0.05 < acf_distance(a, noise)
    assert marginal_distance(a, b) < 0.02 < marginal_distance(a, a * 0.5)
    h_same = marginal_distance(a, b, method="histogram")
    assert h_same < marginal_distance(a, a * 0.5, method="histogram")


def test_correlation_distance_sees_broken_dependence():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(300, 24, 1))
    correlated = np.concatenate([z, z + 0.1 * rng.normal(size=z.shape)], axis=2)
    independent = rng.normal(size=(300, 24, 2))
    assert correlation_distance(correlated, independent) > 0.9
    # one channel: nothing to compare; a constant channel counts as correlation 0
    assert correlation_distance(z, z[::-1]) == 0.0
    const = np.concatenate([z, np.ones_like(z)], axis=2)
    assert np.isfinite(correlation_distance(const, const))


def test_acf_reference_value():
    # a window alternating +1/-1 has lag-1 ACF (t-1)/t * -1 ; a linear ramp is positive
    t = 10
    alt = np.tile(np.array([1.0, -1.0] * (t // 2))[None, :, None], (4, 1, 1))
    acf1 = acf_distance(alt, np.zeros_like(alt), max_lag=1)  # constant counts as 0
    assert acf1 == pytest.approx((t - 1) / t)


def test_shape_mismatch_and_nan_raise(sines):
    a = sines(10)
    with pytest.raises(DataError):
        correlation_distance(a, a[:, :12])
    bad = a.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError):
        marginal_distance(a, bad)
    with pytest.raises(ValueError):
        marginal_distance(a, a, method="nope")


def test_minmax_scale_pair_uses_real_range():
    rng = np.random.default_rng(0)
    real = rng.uniform(10, 20, size=(50, 8, 3))
    real[:, :, 2] = 5.0  # constant channel: shifted, not stretched
    synth = real * 1.1
    r01, s01 = minmax_scale_pair(real, synth)
    assert r01[:, :, :2].min() == pytest.approx(0) and r01[:, :, :2].max() == pytest.approx(1)
    assert np.all(r01[:, :, 2] == 0)
    assert s01.max() > 1  # synthetic overshoot stays visible
    lo = real.reshape(-1, 3).min(0)
    span = real.reshape(-1, 3).max(0) - lo
    np.testing.assert_allclose(s01[:, :, 0], (synth[:, :, 0] - lo[0]) / span[0])
