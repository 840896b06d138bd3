"""Pooled thresholds from the sites' score tails equal the thresholds on all scores pooled."""

import numpy as np
import pytest

from geniot.federated.calibration import (
    pooled_channel_stats,
    pooled_threshold,
    site_tail,
    tail_size,
)
from geniot.tasks.thresholds import calibrate_threshold


def _sites(seed, sizes):
    rng = np.random.default_rng(seed)
    # Unlike sites: different scales and tails.
    return [rng.gumbel(loc=k, scale=1 + k, size=n) for k, n in enumerate(sizes)]


@pytest.mark.parametrize("sizes", [(500, 120, 900), (40, 40), (1000, 3, 250)])
@pytest.mark.parametrize("rule", ["pot", "quantile"])
def test_tails_give_the_pooled_threshold(sizes, rule):
    sites = _sites(0, sizes)
    n = sum(sizes)
    k = tail_size(n, rule, level=0.95, quantile=0.99)
    assert k < n  # sites do not send everything
    tails = [site_tail(s, k) for s in sites]
    got = pooled_threshold(tails, n, rule, risk=1e-3, level=0.95, quantile=0.99)
    want = calibrate_threshold(np.concatenate(sites), rule, risk=1e-3, level=0.95, quantile=0.99)
    assert got.value == pytest.approx(want.value, rel=1e-12)
    assert got.rule == want.rule


def test_too_few_scores_falls_back_like_the_detector():
    sites = _sites(1, (30, 20))
    n = 50
    tails = [site_tail(s, tail_size(n, "pot", level=0.95, quantile=0.99)) for s in sites]
    got = pooled_threshold(tails, n, "pot", risk=1e-3, level=0.95, quantile=0.99)
    assert got.value == pytest.approx(max(s.max() for s in sites))
    assert got.rule.startswith("largest of 50")


def test_fixed_threshold_needs_no_scores():
    assert tail_size(100, 3.5, level=0.95, quantile=0.99) == 0
    assert pooled_threshold([np.zeros(0)], 100, 3.5, risk=1e-3, level=0.95, quantile=0.99).value == 3.5


def test_missing_tail_scores_are_an_error():
    with pytest.raises(ValueError, match="calibration scores"):
        pooled_threshold([np.arange(3.0)], 1000, "pot", risk=1e-3, level=0.95, quantile=0.99)


def test_channel_stats_are_window_weighted():
    a = {"n": np.array([3.0]), "median": np.array([1.0, 0.0]), "iqr": np.array([1.349, 0.0]), "std": np.array([1.0, 0.0])}
    b = {"n": np.array([1.0]), "median": np.array([5.0, 0.0]), "iqr": np.array([2.698, 0.0]), "std": np.array([1.0, 0.0])}
    center, scale = pooled_channel_stats([a, b])
    np.testing.assert_allclose(center, [2.0, 0.0])
    np.testing.assert_allclose(scale, [1.25, 1.0])  # a channel without spread gets scale 1
