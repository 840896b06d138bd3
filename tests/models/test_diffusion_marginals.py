"""Sampled windows go through a per-channel quantile map fitted at the end of training, so each
channel's distribution is the training one (an undertrained model draws them too narrow); long
series and saved models without the map are left as they were."""

import numpy as np
from scipy.stats import ks_2samp

from geniot.models.diffusion import DiffusionGenerator

KW = {"d_model": 16, "n_layers": 1, "n_heads": 2, "timesteps": 20, "sampling_steps": 5, "epochs": 1, "patience": None, "random_state": 0}


def _skewed_windows(n=200, t=12, seed=0):
    rng = np.random.default_rng(seed)
    level = rng.exponential(2.0, size=(n, 1, 1))  # heavy right tail
    return np.concatenate([level + 0.1 * rng.standard_normal((n, t, 1)), rng.standard_normal((n, t, 1))], axis=2)


def _ks(model, X):
    S = model.sample(300, random_state=1)
    return max(ks_2samp(S[..., c].ravel(), X[..., c].ravel()).statistic for c in range(X.shape[2]))


def test_sampled_channels_follow_the_training_distribution():
    X = _skewed_windows()
    mapped = DiffusionGenerator(**KW).fit(X)
    raw = DiffusionGenerator(calibrate_marginals=False, **KW).fit(X)
    assert raw.marginal_map_ is None
    assert _ks(mapped, X) < 0.1
    assert _ks(raw, X) > 2 * _ks(mapped, X)  # one epoch: far from the data without the map


def test_the_map_is_saved_and_long_series_do_without_it(tmp_path):
    from geniot.models.loading import load_generator

    X = _skewed_windows(80)
    model = DiffusionGenerator(**KW).fit(X)
    model.save(tmp_path / "m")
    loaded = load_generator(tmp_path / "m")
    np.testing.assert_allclose(loaded.sample(4, random_state=2), model.sample(4, random_state=2))
    qmap = model.marginal_map_
    with model.series_sampler():
        assert model.marginal_map_ is None
        inside = model.sample(4, random_state=2)
    assert model.marginal_map_ is qmap
    model.marginal_map_ = None
    with model.series_sampler():
        np.testing.assert_allclose(inside, model.sample(4, random_state=2))
