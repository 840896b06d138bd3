"""TimeVAE: contract, persistence, conditioning, pseudo-Gibbs imputation and ELBO scores."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geniot.core.exceptions import DataError
from geniot.models.loading import load_generator
from geniot.models.vae import TimeVAE

torch.set_num_threads(1)

TINY = dict(latent_dim=4, hidden=(8, 16), condition_dim=4, epochs=3, batch_size=32, patience=None)


def noisy_sines(n: int, t: int = 24, seed: int = 0, noise: float = 0.05) -> np.ndarray:
    """Two correlated channels: a sine and a scaled, shifted copy of it, plus noise."""
    rng = np.random.default_rng(seed)
    steps = np.arange(t)[None, :]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    freq = rng.uniform(0.2, 0.4, size=(n, 1))
    amp = rng.uniform(0.5, 1.0, size=(n, 1))
    base = amp * np.sin(freq * steps + phase)
    ch0 = base + noise * rng.normal(size=base.shape)
    ch1 = 2.0 * base + 3.0 + noise * rng.normal(size=base.shape)
    return np.stack([ch0, ch1], axis=2)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return noisy_sines(64, t=16)


@pytest.fixture(scope="module")
def fitted(data) -> TimeVAE:
    return TimeVAE(**TINY, random_state=0).fit(data)


def test_fit_returns_self_and_sample_shape(data):
    model = TimeVAE(**TINY)
    assert model.fit(data) is model
    assert model.sample(5, random_state=0).shape == (5, 16, 2)
    assert model.history_ and "val_loss" in model.history_[0]


def test_params_stored_as_given():
    model = TimeVAE(hidden=[4, 8], latent_dim=3, epochs=7)
    params = model.get_params()
    assert params["hidden"] == [4, 8] and params["latent_dim"] == 3 and params["epochs"] == 7
    assert params["trend_degree"] == 2 and params["random_state"] == 0
    assert not model.is_fitted


def test_sample_is_deterministic_under_random_state(fitted):
    a = fitted.sample(7, random_state=3)
    b = fitted.sample(7, random_state=3)
    c = fitted.sample(7, random_state=4)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    assert np.isfinite(a).all()


def test_fit_is_deterministic_under_random_state(data):
    a = TimeVAE(**TINY, random_state=5).fit(data).sample(3, random_state=0)
    b = TimeVAE(**TINY, random_state=5).fit(data).sample(3, random_state=0)
    np.testing.assert_array_equal(a, b)


def test_save_load_round_trip(fitted, data, tmp_path):
    fitted.save(tmp_path / "vae")
    loaded = load_generator(tmp_path / "vae")
    assert isinstance(loaded, TimeVAE)
    assert loaded.get_params() == {**fitted.get_params(), "hidden": list(fitted.hidden)}
    assert TimeVAE().get_params()["hidden"] is None  # default: JSON round-trips it unchanged
    np.testing.assert_array_equal(loaded.sample(6, random_state=2), fitted.sample(6, random_state=2))
    np.testing.assert_array_equal(loaded.score_samples(data[:5]), fitted.score_samples(data[:5]))
    mask = np.random.default_rng(0).random(data[:4].shape) > 0.3
    np.testing.assert_array_equal(
        loaded.impute(data[:4], mask, random_state=1), fitted.impute(data[:4], mask, random_state=1)
    )


def test_conditional_fit_and_sample(data, tmp_path):
    rng = np.random.default_rng(1)
    cond = np.column_stack([rng.integers(0, 2, len(data)), rng.normal(100.0, 20.0, len(data))])
    model = TimeVAE(**TINY).fit(data, conditions=cond)
    assert model.n_conditions_ == 2
    new = np.array([[0.0, 90.0], [1.0, 120.0], [1.0, 80.0]])
    out = model.sample(3, conditions=new, random_state=0)
    assert out.shape == (3, 16, 2)
    np.testing.assert_array_equal(out, model.sample(3, conditions=new, random_state=0))
    with pytest.raises(DataError):
        model.sample(3, random_state=0)
    model.save(tmp_path / "cvae")
    loaded = load_generator(tmp_path / "cvae")
    np.testing.assert_array_equal(loaded.sample(3, conditions=new, random_state=0), out)
    # impute/score use the training mean of the conditions
    assert model.score_samples(data[:4]).shape == (4,)


def test_fit_with_gaps(data):
    X = data.copy()
    X[np.random.default_rng(0).random(X.shape) < 0.2] = np.nan
    model = TimeVAE(**TINY).fit(X)
    assert np.isfinite(model.sample(4, random_state=0)).all()


def test_impute_keeps_observed_bit_for_bit(fitted, data):
    X = data[:10].copy()
    mask = np.random.default_rng(0).random(X.shape) > 0.4
    X[~mask] = np.nan
    draws = fitted.impute(X, mask, n_draws=3, random_state=0)
    assert draws.shape == (3, 10, 16, 2)
    np.testing.assert_array_equal(draws[:, mask], np.broadcast_to(X[mask], (3, int(mask.sum()))))
    assert np.isfinite(draws).all()
    assert not np.array_equal(draws[0], draws[1])  # independent chains
    np.testing.assert_array_equal(draws, fitted.impute(X, mask, n_draws=3, random_state=0))


def test_score_samples_is_deterministic_and_shaped(fitted, data):
    a = fitted.score_samples(data[:8])
    assert a.shape == (8,)
    np.testing.assert_array_equal(a, fitted.score_samples(data[:8]))


# ---------------------------------------------------------------- learning tests (can fail)
@pytest.fixture(scope="module")
def trained() -> tuple[TimeVAE, np.ndarray]:
    train = noisy_sines(256, seed=0)
    model = TimeVAE(
        latent_dim=8, hidden=(16, 32), epochs=25, batch_size=32, patience=None, random_state=0
    ).fit(train)
    return model, noisy_sines(64, seed=1)


def test_imputation_beats_channel_means(trained):
    model, test = trained
    rng = np.random.default_rng(2)
    mask = rng.random(test.shape) > 0.25
    X = np.where(mask, test, np.nan)
    draws = model.impute(X, mask, n_draws=2, random_state=0)
    vae_err = np.mean((draws.mean(axis=0)[~mask] - test[~mask]) ** 2)
    channel_mean = np.nanmean(X, axis=(0, 1))
    mean_err = np.mean((np.broadcast_to(channel_mean, test.shape)[~mask] - test[~mask]) ** 2)
    assert vae_err < 0.5 * mean_err, (vae_err, mean_err)


def test_score_ranks_clean_above_spiked(trained):
    model, test = trained
    spiked = test.copy()
    spiked[:, 10, 0] += 3.0
    spiked[:, 5, 1] -= 6.0
    clean_scores = model.score_samples(test)
    spiked_scores = model.score_samples(spiked)
    assert np.mean(clean_scores > spiked_scores) > 0.95
    # Scores use observed entries only: hiding the spikes restores typical scores.
    mask = np.ones(test.shape, dtype=bool)
    mask[:, 10, 0] = mask[:, 5, 1] = False
    hidden = model.score_samples(np.where(mask, spiked, np.nan), mask=mask)
    assert np.mean(hidden > spiked_scores) > 0.95
