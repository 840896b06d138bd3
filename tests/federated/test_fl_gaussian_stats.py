"""The exact federated Gaussian fit equals the centralized GaussianBaseline fit."""

import numpy as np
import pytest

from geniot.federated import gaussian_stats as gstats
from geniot.models import GaussianBaseline


def _windows(rng, n, shift, t=6, c=3, gaps=0.0):
    base = rng.standard_normal((n, t, c)) @ np.array([[1.0, 0.5, 0.0], [0.0, 1.0, 0.3], [0.0, 0.0, 2.0]])
    X = base * np.array([1.0, 10.0, 0.1]) + shift
    if gaps:
        X[rng.random(X.shape) < gaps] = np.nan
    return X


def _federated(sites, **params):
    c = sites[0].shape[2]
    moments = gstats.sum_stats([gstats.moment_stats(X) for X in sites])
    mean = gstats.pooled_mean(moments, c)
    centred = gstats.sum_stats([gstats.centred_stats(X, mean) for X in sites])
    return gstats.gaussian_state(moments, centred, n_channels=c, **params)


@pytest.mark.parametrize("gaps", [0.0, 0.1])
@pytest.mark.parametrize("shrinkage", [None, 0.2])
def test_sums_from_unlike_sites_give_the_centralized_fit(gaps, shrinkage):
    rng = np.random.default_rng(0)
    # Non-IID sites: different sizes and offsets.
    sites = [_windows(rng, 40, 0.0, gaps=gaps), _windows(rng, 15, 3.0, gaps=gaps), _windows(rng, 70, -1.0, gaps=gaps)]
    state, arrays = _federated(sites, shrinkage=shrinkage)
    central = GaussianBaseline(shrinkage=shrinkage).fit(np.concatenate(sites))
    assert state["shrinkage_"] == pytest.approx(central.shrinkage_, rel=1e-9, abs=1e-12)
    for key in ("channel_mean_", "channel_std_", "mean_", "covariance_"):
        np.testing.assert_allclose(arrays[key], getattr(central, key), rtol=1e-8, atol=1e-10, err_msg=key)


def test_shrinkage_is_not_trivial_here():
    # Guard against a test that cannot fail: Ledoit-Wolf must pick something strictly inside (0, 1).
    rng = np.random.default_rng(1)
    central = GaussianBaseline().fit(np.concatenate([_windows(rng, 30, 0.0), _windows(rng, 30, 2.0)]))
    assert 0.0 < central.shrinkage_ < 1.0


def test_site_sends_only_sums_of_fixed_size():
    rng = np.random.default_rng(2)
    X = _windows(rng, 25, 0.0)
    d = X.shape[1] * X.shape[2]
    sent = {**gstats.moment_stats(X), **gstats.centred_stats(X, np.zeros(d))}
    assert {k: v.shape for k, v in sent.items()} == {
        "n_windows": (1,), "count": (d,), "total": (d,), "cross": (d, d), "pairs": (d, d), "fourth": (d, d),
    }  # fmt: skip


def test_channel_without_any_observation_is_named():
    X = _windows(np.random.default_rng(3), 10, 0.0)
    X[:, :, 1] = np.nan
    with pytest.raises(ValueError, match=r"channel\(s\) \[1\]"):
        _federated([X, X.copy()])
