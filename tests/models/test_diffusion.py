"""Tests of the diffusion generator: contract behaviour at tiny settings, and that it learns."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geniot.models.diffusion import DiffusionGenerator
from geniot.models.diffusion.masks import draw_cond_mask
from geniot.models.diffusion.schedule import NoiseSchedule
from geniot.models.loading import load_generator

torch.set_num_threads(1)

TINY = dict(
    d_model=16, n_layers=1, n_heads=2, timesteps=20, sampling_steps=5, epochs=2, batch_size=32
)


def _sines(n: int, t: int = 16, noise: float = 0.05, seed: int = 0) -> np.ndarray:
    """Noisy sines: channel 0 has a random phase, channel 1 is channel 0 shifted and scaled."""
    rng = np.random.default_rng(seed)
    steps = np.arange(t)[None, :]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1))
    freq = rng.uniform(0.25, 0.45, size=(n, 1))
    a = np.sin(freq * steps + phase)
    b = 2.0 * np.cos(freq * steps + phase) + 5.0
    X = np.stack([a, b], axis=-1)
    return X + noise * rng.normal(size=X.shape)


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(64, 12, 3)) * [1.0, 10.0, 0.1] + [0.0, 100.0, -5.0]


@pytest.fixture(scope="module")
def fitted(data) -> DiffusionGenerator:
    return DiffusionGenerator(**TINY).fit(data)


def test_params_are_stored_as_given():
    model = DiffusionGenerator(d_model=8, sampling_steps=None, p_uncond=0.3)
    params = model.get_params()
    assert params["d_model"] == 8 and params["sampling_steps"] is None and params["p_uncond"] == 0.3
    assert {"epochs", "max_minutes", "random_state", "fourier_weight", "timesteps"} <= set(params)
    assert not model.is_fitted


def test_fit_sample_shapes_and_determinism(fitted, data):
    assert fitted.n_channels_ == 3 and fitted.n_steps_ == 12
    assert {"train_loss", "train_mse", "train_fourier", "val_loss"} <= set(fitted.history_[0])
    a = fitted.sample(7, random_state=3)
    b = fitted.sample(7, random_state=3)
    c = fitted.sample(7, random_state=4)
    assert a.shape == (7, 12, 3) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


def test_fit_is_deterministic(data):
    a = DiffusionGenerator(**TINY).fit(data).sample(3, random_state=0)
    b = DiffusionGenerator(**TINY).fit(data).sample(3, random_state=0)
    np.testing.assert_array_equal(a, b)


def test_full_ddpm_chain(data):
    model = DiffusionGenerator(**{**TINY, "sampling_steps": None}).fit(data)
    assert np.isfinite(model.sample(4, random_state=0)).all()


def test_impute_keeps_observed_values(fitted, data):
    rng = np.random.default_rng(1)
    X = data[:5].copy()
    mask = rng.random(X.shape) > 0.4
    X[~mask] = np.nan
    draws = fitted.impute(X, mask, n_draws=3, random_state=0)
    assert draws.shape == (3, 5, 12, 3)
    assert np.isfinite(draws).all()
    np.testing.assert_array_equal(draws[:, mask], np.broadcast_to(X[mask], (3, int(mask.sum()))))
    again = fitted.impute(X, mask, n_draws=3, random_state=0)
    np.testing.assert_array_equal(draws, again)
    assert not np.allclose(draws[0][~mask], draws[1][~mask])  # draws differ


def test_score_samples(fitted, data):
    scores = fitted.score_samples(data[:6])
    assert scores.shape == (6,) and np.isfinite(scores).all()
    np.testing.assert_array_equal(scores, fitted.score_samples(data[:6]))
    # a window's score does not depend on the other windows scored with it
    np.testing.assert_allclose(scores[2:4], fitted.score_samples(data[2:4]), rtol=1e-5)
    # masked entries do not count, whatever their value
    mask = np.ones(data[:6].shape, dtype=bool)
    mask[:, :4, 0] = False
    wild = data[:6].copy()
    wild[~mask] = 1e6
    np.testing.assert_allclose(
        fitted.score_samples(data[:6], mask=mask), fitted.score_samples(wild, mask=mask), rtol=1e-6
    )


def test_conditional_fit_and_sample(data):
    rng = np.random.default_rng(2)
    cond = np.column_stack([rng.integers(0, 2, len(data)), rng.normal(1000.0, 50.0, len(data))])
    model = DiffusionGenerator(**TINY).fit(data, conditions=cond)
    assert model.n_conditions_ == 2
    out = model.sample(4, conditions=cond[:4], random_state=0)
    assert out.shape == (4, 12, 3) and np.isfinite(out).all()
    np.testing.assert_array_equal(out, model.sample(4, conditions=cond[:4], random_state=0))
    # gap filling and scoring need no conditions (the model also learned without them)
    assert model.impute(data[:2], np.ones(data[:2].shape, bool), random_state=0).shape == (
        1,
        2,
        12,
        3,
    )
    assert np.isfinite(model.score_samples(data[:2])).all()


def test_save_load_round_trip(fitted, data, tmp_path):
    rng = np.random.default_rng(3)
    cond = rng.normal(size=(len(data), 2))
    for model, kwargs in (
        (fitted, {}),
        (DiffusionGenerator(**TINY).fit(data, conditions=cond), {"conditions": cond[:5]}),
    ):
        path = model.save(tmp_path / f"m{len(kwargs)}")
        loaded = load_generator(path)
        assert isinstance(loaded, DiffusionGenerator)
        assert loaded.get_params() == model.get_params()
        np.testing.assert_array_equal(
            model.sample(5, random_state=7, **kwargs), loaded.sample(5, random_state=7, **kwargs)
        )
        np.testing.assert_array_equal(model.score_samples(data[:3]), loaded.score_samples(data[:3]))


def test_fit_with_gaps(data):
    X = data.copy()
    X[::3, 2:5, 1] = np.nan
    model = DiffusionGenerator(**TINY).fit(X)
    assert np.isfinite(model.sample(2, random_state=0)).all()


def test_cond_masks_only_show_observed_entries():
    torch.manual_seed(0)
    observed = (torch.rand(500, 10, 4) > 0.2).float()
    cond = draw_cond_mask(observed, p_uncond=0.5)
    assert ((cond == 1) <= (observed == 1)).all()
    empty = cond.sum(dim=(1, 2)) == 0
    assert 0.35 < empty.float().mean() < 0.65
    # every conditioned window hides something observed, so it has something to learn
    hidden = (observed - cond).sum(dim=(1, 2))
    assert (hidden[~empty] > 0).float().mean() > 0.95


def test_schedule_step_pairs():
    schedule = NoiseSchedule(100)
    pairs = schedule.step_pairs(10)
    assert pairs[0][0] == 99 and pairs[-1] == (0, -1) and len(pairs) == 10
    assert len(schedule.step_pairs(None)) == 100
    assert schedule.alphas_cumprod[0] > 0.99 and schedule.alphas_cumprod[-1] < 0.01


def test_learns_to_impute_and_score():
    """Can fail: gap filling must clearly beat the channel means, and spikes must score low."""
    X = _sines(256, seed=0)
    model = DiffusionGenerator(
        d_model=32,
        n_layers=1,
        n_heads=2,
        timesteps=50,
        sampling_steps=10,
        epochs=30,
        batch_size=32,
        learning_rate=2e-3,
        ema_decay=0.99,
        patience=None,
    ).fit(X)
    test = _sines(64, seed=1)
    rng = np.random.default_rng(4)
    mask = rng.random(test.shape) > 0.5
    mask[:, 0, :] = True  # keep each window anchored
    draws = model.impute(np.where(mask, test, np.nan), mask, n_draws=2, random_state=0)
    filled = draws.mean(axis=0)
    scale = test.std(axis=(0, 1))
    model_err = np.sqrt(np.mean((((filled - test) / scale) ** 2)[~mask]))
    mean_fill = np.broadcast_to(X.mean(axis=(0, 1)), test.shape)
    mean_err = np.sqrt(np.mean((((mean_fill - test) / scale) ** 2)[~mask]))
    assert model_err < 0.6 * mean_err, (model_err, mean_err)

    spiked = test.copy()
    spiked[np.arange(64), rng.integers(3, 13, 64), rng.integers(0, 2, 64)] += (
        3.0 * test.std(axis=(0, 1)).max()
    )
    clean_scores = model.score_samples(test)
    spiked_scores = model.score_samples(spiked)
    assert (clean_scores > spiked_scores).mean() > 0.9
