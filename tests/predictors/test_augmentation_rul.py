"""RUL-labelled window augmentation: SMOTE for regression and RUL-conditional generators."""

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.predictors.augmentation_rul import RULConditionalSampler, rul_bins, smote_rul


def _degrading(n=600, steps=6, sensors=2, seed=0):
    """Windows whose level rises steeply near failure (y -> 0) and whose spread grows there."""
    rng = np.random.default_rng(seed)
    y = rng.uniform(0.0, 1.0, n)
    level = np.exp(-4.0 * y)  # 1 at failure, ~0.02 at y = 1: not linear in y
    spread = 0.02 + 0.2 * (1.0 - y)
    x = level[:, None, None] + spread[:, None, None] * rng.standard_normal((n, steps, sensors))
    return x, y, level


def test_rul_bins_are_ordered_and_balanced():
    y = np.linspace(0, 1, 1000)
    bins = rul_bins(y, 10)
    assert np.all(np.diff(bins) >= 0)
    assert set(np.bincount(bins)) <= {99, 100, 101}
    # capped labels (one shared value) fall in one bin instead of splitting
    capped = np.r_[np.linspace(0, 0.9, 300), np.ones(700)]
    assert len(np.unique(rul_bins(capped, 10)[300:])) == 1


def test_smote_rul_mixes_within_a_bin_and_labels_follow():
    x, y, _ = _degrading()
    rng = np.random.default_rng(1)
    extra, labels = smote_rul(x, y, 400, rng, n_bins=10)
    assert extra.shape == (400,) + x.shape[1:] and labels.shape == (400,)
    edges = np.quantile(y, np.linspace(0, 1, 11))
    # a mix stays inside the range of its anchor's bin: no label of one bin mixed with another
    b = np.clip(np.searchsorted(edges, labels, side="right") - 1, 0, 9)
    assert np.all(labels >= edges[b] - 1e-12) and np.all(labels <= edges[b + 1] + 1e-12)
    assert np.all(extra.min(axis=(1, 2)) >= x.min() - 1e-12) and np.all(
        extra.max(axis=(1, 2)) <= x.max() + 1e-12
    )
    # not copies: a mix with a fresh weight differs from every real window
    dist = np.abs(extra[:20, None] - x[None]).max(axis=(2, 3)).min(axis=1)
    assert np.median(dist) > 1e-3


@pytest.mark.parametrize("basis", ["bins", "rbf"])
def test_conditional_sampler_follows_a_nonlinear_degradation(basis):
    x, y, _ = _degrading()
    sampler = RULConditionalSampler("gaussian", basis=basis, n_bins=8, min_bin=20).fit(x, y)
    extra, labels = sampler.sample(2000, np.random.default_rng(2))
    assert extra.shape == (2000,) + x.shape[1:]
    assert labels.min() >= y.min() and labels.max() <= y.max()
    means = extra.mean(axis=(1, 2))
    near, far = labels < 0.2, labels > 0.8
    assert (
        means[near].mean() > 0.5 and abs(means[far].mean()) < 0.15
    )  # the curve, not a straight line
    # a joint normal over (window, RUL) is linear in the RUL and misses the curve at the ends
    linear = RULConditionalSampler("gaussian", basis="rbf", n_bins=1).fit(x, y)
    lin_extra, lin_labels = linear.sample(2000, np.random.default_rng(2))
    err = lambda e, lab: np.mean((e.mean(axis=(1, 2)) - np.exp(-4.0 * lab)) ** 2)  # noqa: E731
    assert err(extra, labels) < 0.5 * err(lin_extra, lin_labels)
    assert sampler.fit_cpu_s_ >= 0 and sum(sampler.bin_counts_.values()) == len(y)


def test_bins_keep_the_spread_growing_towards_failure():
    x, y, _ = _degrading(n=1200)
    sampler = RULConditionalSampler("gaussian", basis="bins", n_bins=6).fit(x, y)
    extra, labels = sampler.sample(3000, np.random.default_rng(3))
    resid = extra - np.exp(-4.0 * labels)[:, None, None]
    assert resid[labels < 0.15].std() > 3 * resid[labels > 0.85].std()


def test_small_bins_are_merged_and_said():
    x, y, _ = _degrading(n=200)
    sampler = RULConditionalSampler("gaussian", basis="bins", n_bins=8, min_bin=60).fit(x, y)
    assert all(c >= 60 for c in sampler.bin_counts_.values())
    assert len(sampler.bin_counts_) < 8


def test_bad_input_is_refused_with_a_clear_error():
    x, y, _ = _degrading(n=50)
    with pytest.raises(DataError, match="steps, sensors"):
        smote_rul(x[:, :, 0], y, 10, np.random.default_rng(0))
    with pytest.raises(DataError, match="labels of shape"):
        smote_rul(x, y[:-1], 10, np.random.default_rng(0))
    bad = x.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="finite"):
        RULConditionalSampler().fit(bad, y)
    with pytest.raises(DataError, match="basis"):
        RULConditionalSampler(basis="spline")
    with pytest.raises(DataError, match="not fitted"):
        RULConditionalSampler().sample(5, np.random.default_rng(0))
