"""WGANGenerator: contract, persistence, conditioning, capabilities and a learning check."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geniot.core.exceptions import CapabilityError, DataError
from geniot.models.gan import WGANGenerator
from geniot.models.loading import load_generator

torch.set_num_threads(1)

TINY = dict(noise_dim=4, hidden=8, num_layers=1, critic_hidden=8, condition_dim=4, epochs=2, batch_size=32)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    rng = np.random.default_rng(0)
    steps = np.arange(12)[None, :]
    base = np.sin(0.5 * steps + rng.uniform(0, 6, size=(48, 1)))
    return np.stack([base, 10.0 * base + rng.normal(size=base.shape)], axis=2)


@pytest.fixture(scope="module")
def fitted(data) -> WGANGenerator:
    return WGANGenerator(**TINY, random_state=0).fit(data)


def test_defaults_and_params():
    model = WGANGenerator()
    params = model.get_params()
    assert params["patience"] is None and params["n_critic"] == 5 and params["gp_weight"] == 10.0
    assert WGANGenerator(hidden=5).hidden == 5
    assert not model.is_fitted


def test_fit_returns_self_and_sample_shape(data):
    model = WGANGenerator(**TINY)
    assert model.fit(data) is model
    out = model.sample(5, random_state=0)
    assert out.shape == (5, 12, 2) and np.isfinite(out).all()
    assert {"train_critic_loss", "train_wasserstein", "val_loss"} <= set(model.history_[0])


def test_sample_is_deterministic_under_random_state(fitted):
    a = fitted.sample(6, random_state=1)
    np.testing.assert_array_equal(a, fitted.sample(6, random_state=1))
    assert not np.array_equal(a, fitted.sample(6, random_state=2))


def test_fit_is_deterministic_under_random_state(data):
    a = WGANGenerator(**TINY, random_state=3).fit(data).sample(3, random_state=0)
    b = WGANGenerator(**TINY, random_state=3).fit(data).sample(3, random_state=0)
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip(fitted, tmp_path):
    fitted.save(tmp_path / "gan")
    loaded = load_generator(tmp_path / "gan")
    assert isinstance(loaded, WGANGenerator)
    assert loaded.get_params() == fitted.get_params()
    assert loaded.gap_strategy_ == fitted.gap_strategy_
    np.testing.assert_array_equal(loaded.sample(5, random_state=7), fitted.sample(5, random_state=7))


def test_conditional_fit_and_sample(data, tmp_path):
    rng = np.random.default_rng(1)
    cond = np.column_stack([rng.integers(0, 2, len(data)), rng.normal(50.0, 5.0, len(data))])
    model = WGANGenerator(**TINY).fit(data, conditions=cond)
    new = np.array([[0.0, 45.0], [1.0, 55.0]])
    out = model.sample(2, conditions=new, random_state=0)
    assert out.shape == (2, 12, 2)
    with pytest.raises(DataError):
        model.sample(2, random_state=0)
    model.save(tmp_path / "cgan")
    loaded = load_generator(tmp_path / "cgan")
    np.testing.assert_array_equal(loaded.sample(2, conditions=new, random_state=0), out)


@pytest.mark.parametrize("complete_fraction, strategy", [(0.75, "drop"), (0.25, "fill")])
def test_fit_with_gaps(data, complete_fraction, strategy):
    X = data.copy()
    n_gappy = int(round(len(X) * (1 - complete_fraction)))
    X[:n_gappy, 3:6, 0] = np.nan
    model = WGANGenerator(**{**TINY, "epochs": 1}).fit(X)
    assert model.gap_strategy_ == strategy
    assert np.isfinite(model.sample(3, random_state=0)).all()


def test_impute_and_score_samples_raise_capability_error(fitted, data):
    mask = np.ones(data[:2].shape, dtype=bool)
    mask[:, 0, 0] = False
    with pytest.raises(CapabilityError):
        fitted.impute(data[:2], mask)
    with pytest.raises(CapabilityError):
        fitted.score_samples(data[:2])
    assert fitted.tags.likelihood == "none" and not fitted.tags.native_impute


def test_learns_marginal_means():
    """Learning test (can fail): channel means near +0.8 and -0.5 in scaled units."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(256, 8, 2)) * 0.1 + np.array([0.8, -0.5])
    X = np.clip(X, -1.0, 1.0)
    X[0, 0, :], X[1, 0, :] = -1.0, 1.0  # pin the scaler's range to [-1, 1]
    model = WGANGenerator(
        noise_dim=4, hidden=16, num_layers=1, critic_hidden=16, epochs=10, batch_size=16,
        learning_rate=3e-3, n_critic=1, random_state=0,
    ).fit(X)
    means = model.sample(512, random_state=0).mean(axis=(0, 1))
    np.testing.assert_allclose(means, [0.8, -0.5], atol=0.15)
