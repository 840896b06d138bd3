"""TimeVAE on many channels, some of them noise: why it failed on Energy's 28 channels.

A decoder mean is smooth, so on channels that are white noise (Energy's ``rv1``/``rv2``) it
drew flat lines, on bounded or spiky channels it drew the wrong distribution, and it drew two
different copies of a channel stored twice: a classifier told every window apart (0.499).
These tests fail on a VAE that samples its decoder mean alone.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geniot.models.loading import load_generator
from geniot.models.vae import TimeVAE

torch.set_num_threads(1)

N_SMOOTH, NOISE, DUPLICATE = 20, 20, 21  # channels 0..19 smooth, 20 noise, 21 a copy of 20
SMALL = dict(latent_dim=8, hidden=(16, 32), epochs=15, batch_size=32, patience=None, random_state=0)


def plant_windows(n: int = 384, t: int = 24, seed: int = 0) -> np.ndarray:
    """20 slow, correlated sines, one uniform white-noise channel and an exact copy of it."""
    rng = np.random.default_rng(seed)
    steps = np.arange(t)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    offset = rng.uniform(0, 1, size=(1, 1, N_SMOOTH))
    smooth = np.sin(0.15 * steps + phase + offset) * rng.uniform(0.5, 1.0, size=(n, 1, 1))
    noise = rng.uniform(0.0, 1.0, size=(n, t, 1))
    return np.concatenate([smooth, noise, noise], axis=2)


def step_variation(x: np.ndarray) -> np.ndarray:
    """Mean absolute change between consecutive steps, per channel."""
    return np.abs(np.diff(x, axis=1)).mean(axis=(0, 1))


@pytest.fixture(scope="module")
def data() -> np.ndarray:
    return plant_windows()


@pytest.fixture(scope="module")
def fitted(data) -> TimeVAE:
    return TimeVAE(**SMALL).fit(data)


def test_noise_channel_keeps_its_step_to_step_variation(data, fitted):
    synth = fitted.sample(512, random_state=1)
    ratio = step_variation(synth)[NOISE] / step_variation(data)[NOISE]
    assert 0.7 < ratio < 1.3, ratio  # a decoder mean alone: ~0.1 (a flat line)


def test_smooth_channels_are_not_roughened(data, fitted):
    synth = fitted.sample(512, random_state=1)
    ratio = step_variation(synth)[:N_SMOOTH] / step_variation(data)[:N_SMOOTH]
    assert np.all(ratio < 1.6), ratio.round(2)


def test_noise_channel_marginal_matches_training(data, fitted):
    synth = fitted.sample(512, random_state=1)[..., NOISE].ravel()
    assert synth.min() >= data[..., NOISE].min() and synth.max() <= data[..., NOISE].max()
    levels = np.linspace(0.05, 0.95, 19)
    gap = np.abs(np.quantile(synth, levels) - np.quantile(data[..., NOISE], levels)).max()
    assert gap < 0.08, gap  # uniform on [0, 1]; a decoder mean bunches around 0.5


def test_duplicated_channel_is_sampled_as_one(fitted):
    synth = fitted.sample(64, random_state=2)
    np.testing.assert_array_equal(synth[..., DUPLICATE], synth[..., NOISE])
    assert fitted.duplicate_of_[DUPLICATE] == NOISE and (fitted.duplicate_of_[:DUPLICATE] == -1).all()


def test_switched_off_the_sampler_is_the_decoder_mean(data):
    """The cause, shown: without the noise and the calibration the noise channel is flat."""
    bare = TimeVAE(**SMALL, white_noise=False, calibrate_marginals=False).fit(data)
    assert bare.noise_factor_ is None and bare.marginal_map_ is None
    ratio = step_variation(bare.sample(512, random_state=1))[NOISE] / step_variation(data)[NOISE]
    assert ratio < 0.5, ratio


def test_sampler_statistics_survive_save_and_load(fitted, tmp_path):
    fitted.save(tmp_path / "vae")
    loaded = load_generator(tmp_path / "vae")
    np.testing.assert_array_equal(loaded.sample(16, random_state=5), fitted.sample(16, random_state=5))
    np.testing.assert_array_equal(loaded.duplicate_of_, fitted.duplicate_of_)


def test_gaps_in_training_do_not_break_the_statistics(data):
    X = data[:128].copy()
    rng = np.random.default_rng(3)
    X[rng.random(X.shape) < 0.1] = np.nan
    model = TimeVAE(**{**SMALL, "epochs": 2}).fit(X)
    assert np.isfinite(model.noise_factor_).all() and np.isfinite(model.marginal_map_).all()
    assert np.isfinite(model.sample(8, random_state=0)).all()
