"""Augmentation sources for raw-window classifiers, and the raw-window CNN that uses them."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.predictors.augmentation import (
    ClassConditionalAugmenter,
    fixed_crops,
    shift_scale_jitter,
    smote_windows,
)
from geniot.predictors.fault_cnn import RawFaultCNN


def tones(freqs, n_per_class, length, seed=0):
    """Noisy sines, one frequency (cycles per sample) per class, random phases."""
    rng = np.random.default_rng(seed)
    t = np.arange(length)
    x = [np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) + 0.2 * rng.standard_normal(length)
         for f in freqs for _ in range(n_per_class)]  # fmt: skip
    return np.array(x), np.repeat(np.arange(len(freqs)), n_per_class)


def peak(x):
    spec = np.abs(np.fft.rfft(x - x.mean(axis=1, keepdims=True), axis=1)).mean(axis=0)
    return np.argmax(spec) / x.shape[1]


def test_fixed_crops_are_the_windows_cut_in_order():
    x = np.arange(20.0).reshape(2, 10)
    crops, y = fixed_crops(x, [3, 4], 4)
    assert crops.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [10, 11, 12, 13], [14, 15, 16, 17]]
    assert y.tolist() == [3, 3, 4, 4]


def test_jitter_crops_keep_the_label_and_the_source_window():
    x, y = tones([0.05, 0.2], 1, 512)
    out, oy = shift_scale_jitter(x, y, 200, 128, np.random.default_rng(1), noise=0.0)
    assert out.shape == (200, 128)
    for c in (0, 1):  # with no noise, each crop is a rescaled piece of its own class's window
        assert abs(peak(out[oy == c]) - [0.05, 0.2][c]) < 0.01
    gains = np.abs(out).max(axis=1) / np.abs(x[oy]).max(axis=1)
    assert gains.min() < 0.95 and gains.max() > 1.05 and gains.max() < 1.3


def test_smote_skips_a_class_with_one_window_and_says_so():
    x = np.array([[0.0, 0.0], [1.0, 1.0], [5.0, 5.0]])
    out, oy, skipped = smote_windows(x, [0, 0, 1], 50, np.random.default_rng(0))
    assert skipped == [1] and set(oy.tolist()) == {0}
    assert len(out) == 50 and (out >= 0).all() and (out <= 1).all()
    assert np.ptp(out) > 0.5  # mixes, not copies


def test_class_conditional_gaussian_samples_keep_each_class_spectrum():
    x, y = tones([0.05, 0.2], 1, 1024)  # one shot per class
    aug = ClassConditionalAugmenter(128).fit(x, y)
    assert aug.n_subwindows_[0] == (1024 - 128) // 4 + 1
    out, oy = aug.sample(100, np.random.default_rng(0))
    assert out.shape == (200, 128) and np.isfinite(out).all()
    for c, f in enumerate([0.05, 0.2]):
        assert abs(peak(out[oy == c]) - f) < 0.01
    # new draws, not copies of sub-windows: random phases
    assert np.std(out[oy == 0][:, 0]) > 0.3


def test_class_conditional_caps_the_subwindows():
    x, y = tones([0.05, 0.2], 5, 1024)
    aug = ClassConditionalAugmenter(128, max_subwindows=100).fit(x, y)
    assert max(aug.n_subwindows_.values()) <= 100


@pytest.mark.parametrize("augment", [None, "jitter", "smote", "gaussian", "jitter+gaussian"])
def test_raw_cnn_learns_tones_from_few_windows(augment):
    x, y = tones([0.03, 0.12, 0.3], 2, 1024)
    xt, yt = tones([0.03, 0.12, 0.3], 20, 1024, seed=1)
    clf = RawFaultCNN(crop=256, steps=40, width=8, n_synthetic=50, augment=augment, random_state=0).fit(x, y)
    assert np.mean(clf.predict(xt) == yt) > 0.9
    assert clf.predict_proba(xt[:3]).shape == (3, 3)


def test_raw_cnn_refuses_bad_input():
    x, y = tones([0.03, 0.12], 1, 1024)
    with pytest.raises(DataError, match="crop"):
        RawFaultCNN(crop=2048).fit(x, y)
    with pytest.raises(DataError, match="augment"):
        RawFaultCNN(augment=3).fit(x, y)
    with pytest.raises(DataError, match="two fault classes"):
        RawFaultCNN(crop=256).fit(x[:1], y[:1])


def test_raw_cnn_averages_its_nets():
    x, y = tones([0.03, 0.3], 1, 512)
    clf = RawFaultCNN(crop=256, steps=5, width=4, n_models=2, random_state=0).fit(x, y)
    assert len(clf.nets_) == 2
    p = clf.predict_proba(x)
    one = np.mean([_only(clf, k).predict_proba(x) for k in (0, 1)], axis=0)
    np.testing.assert_allclose(p, one, rtol=1e-6)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)


def _only(clf, k):
    import copy

    single = copy.copy(clf)
    single.nets_ = [clf.nets_[k]]
    return single
