"""Long-series metrics against simple reference computations, and the two baselines."""

import numpy as np
import pytest
from scipy.signal import welch

from geniot.core.exceptions import DataError
from geniot.metrics.long_series import (
    acf_curve,
    acf_distance_long,
    block_bootstrap,
    concatenate_windows,
    cross_correlation_distance,
    long_series_metrics,
    longest_match,
    seam_statistic,
    spectrum_distance,
    standardise_pair,
)


def ar1(n, phi=0.9, c=2, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros((n, c))
    for t in range(1, n):
        x[t] = phi * x[t - 1] + rng.standard_normal(c)
    return x


def test_acf_matches_the_textbook_estimator():
    x = ar1(3000)
    got = acf_curve(x, 5)
    z = x - x.mean(axis=0)
    for lag in range(1, 6):
        ref = (z[lag:] * z[:-lag]).sum(axis=0) / (z**2).sum(axis=0)
        np.testing.assert_allclose(got[lag - 1], ref, rtol=1e-12)
    assert abs(got[0, 0] - 0.9) < 0.05  # an AR(1) with phi 0.9


def test_acf_skips_gaps_instead_of_counting_them():
    x = ar1(4000, seed=1)
    holed = x.copy()
    holed[::7, 0] = np.nan
    np.testing.assert_allclose(acf_curve(holed, 3)[:, 0], acf_curve(x, 3)[:, 0], atol=0.03)


def test_distances_are_zero_for_the_same_series_and_grow_with_difference():
    x = ar1(2000)
    assert acf_distance_long(x, x, 24) == pytest.approx(0.0, abs=1e-12)
    assert spectrum_distance(x, x) == pytest.approx(0.0, abs=1e-12)
    assert cross_correlation_distance(x, x, 5) == pytest.approx(0.0, abs=1e-12)
    white = np.random.default_rng(1).standard_normal((2000, 2))
    assert acf_distance_long(x, white, 24) > 0.3
    assert spectrum_distance(x, white) > 0.3
    other = ar1(2000, seed=5)  # the same process
    assert spectrum_distance(x, other) < spectrum_distance(x, white) / 3


def test_spectrum_distance_is_total_variation_of_welch_spectra():
    x, y = ar1(1024, seed=2), ar1(1024, phi=0.5, seed=3)
    xs, ys = standardise_pair(x, y)
    _, px = welch(xs, nperseg=256, axis=0)
    _, py = welch(ys, nperseg=256, axis=0)
    px, py = px / px.sum(axis=0), py / py.sum(axis=0)
    assert spectrum_distance(x, y) == pytest.approx(np.mean(0.5 * np.abs(px - py).sum(axis=0)))


def test_cross_correlation_sees_a_lagged_coupling():
    rng = np.random.default_rng(4)
    a = ar1(3000, c=1, seed=6)[:, 0]
    coupled = np.c_[a, np.r_[np.zeros(3), a[:-3]] + 0.1 * rng.standard_normal(3000)]
    independent = np.c_[a, ar1(3000, c=1, seed=7)[:, 0]]
    assert cross_correlation_distance(coupled, independent, 6) > 0.2
    assert cross_correlation_distance(coupled, coupled[::-1][::-1], 6) == pytest.approx(0.0, abs=1e-12)


def test_seam_statistic_finds_jumps_where_windows_are_glued():
    real = ar1(5000)
    # Continuous: no seams to find anywhere.
    smooth = seam_statistic(real, ar1(8000, seed=9), np.arange(24, 8000, 24))
    assert smooth["seam_inside_ratio"] == pytest.approx(1.0, abs=0.15)
    assert smooth["seam_step_ratio"] == pytest.approx(1.0, abs=0.15)
    # Independent stretches of the same process laid end to end jump at every join.
    glued, seams = concatenate_windows(np.stack([ar1(24, seed=s) for s in range(100)]), 2000)
    jumps = seam_statistic(real, glued, seams)
    assert jumps["seam_step_ratio"] > 2.0 and jumps["seam_inside_ratio"] > 2.0
    # The ratio is to the real series' own step spread, per channel.
    r, s = standardise_pair(real, glued)
    d_real = np.sqrt((np.diff(r, axis=0) ** 2).mean(axis=0))
    d_seam = np.sqrt((np.diff(s, axis=0)[seams - 1] ** 2).mean(axis=0))
    assert jumps["seam_step_ratio"] == pytest.approx(np.mean(d_seam / d_real))
    assert jumps["n_seams"] == len(seams)
    with pytest.raises(DataError, match="no seams"):
        seam_statistic(real, glued, [])


def test_seam_statistic_names_the_channel_the_mean_hides():
    # Channel 0 jumps at every seam, channel 1 is damped there: the mean over channels reads
    # near 1, the worst channel does not.
    real = ar1(5000)
    synth = ar1(2000, seed=12)
    seams = np.arange(24, 2000, 24)
    d = np.diff(synth, axis=0)
    d[seams - 1, 0] *= 1.7
    d[seams - 1, 1] *= 0.3
    synth = np.vstack([synth[:1], synth[:1] + np.cumsum(d, axis=0)])
    out = seam_statistic(real, synth, seams)
    ratios = out["seam_channel_step_ratios"]
    assert len(ratios) == 2 and ratios[0] > 1.5 and ratios[1] < 0.45
    assert out["seam_step_ratio"] == pytest.approx(np.mean(ratios))
    assert out["seam_worst_channel"] == 1 and out["seam_worst_step_ratio"] == pytest.approx(ratios[1])
    suite = long_series_metrics(real, synth, seams, interval_s=3600, window=24, random_state=0)
    assert suite["long_synthetic_seam_channel_step_ratios"] == pytest.approx(ratios)
    assert len(suite["long_real_stretch_seam_channel_step_ratios"]) == 2
    assert "long_real_stretch_seam_worst_channel" not in suite


def test_longest_match_finds_a_copied_stretch_and_not_fresh_data():
    ref = ar1(1000)
    copy = np.concatenate([ar1(50, seed=3), ref[400:460], ar1(50, seed=4)])
    assert longest_match(copy, ref, tolerance=0.01) == 60
    assert longest_match(ar1(200, seed=8), ref, tolerance=0.01) <= 1
    # A stretch compared with its own series matches itself unless excluded.
    assert longest_match(ref[100:200], ref, tolerance=0.01) == 100
    assert longest_match(ref[100:200], ref, tolerance=0.01, exclude=(50, 250)) <= 1


def test_baselines_have_the_length_and_seams_they_say():
    real = ar1(500)
    boot, seams = block_bootstrap(real, 130, 24, random_state=0)
    assert boot.shape == (130, 2)
    np.testing.assert_array_equal(seams, [24, 48, 72, 96, 120])
    # Every block is a stretch of the real series.
    for lo in range(0, 130, 24):
        block = boot[lo : lo + 24]
        assert longest_match(block, real, tolerance=1e-12) == len(block)
    series, s2 = concatenate_windows(np.arange(4 * 10 * 2, dtype=float).reshape(4, 10, 2), 35)
    assert series.shape == (35, 2) and list(s2) == [10, 20, 30]
    with pytest.raises(DataError, match="shorter"):
        concatenate_windows(np.zeros((2, 10, 2)), 35)


def test_suite_puts_synthetic_beside_both_baselines_and_real_stretches():
    real = ar1(3000)
    synth = ar1(400, seed=11)
    out = long_series_metrics(real, synth, np.arange(24, 400, 12), interval_s=3600, window=24, random_state=0)
    assert out["long_day_lag"] == 24 and out["long_week_lag"] == 168
    for name in ("synthetic", "concatenated", "bootstrap", "real_stretch"):
        assert f"long_{name}_acf_week_distance" in out
    # A fresh draw of the same process has no seams; glued real windows and bootstrap blocks do.
    assert out["long_synthetic_seam_step_ratio"] < 1.3
    assert out["long_concatenated_seam_step_ratio"] > 1.5 * out["long_synthetic_seam_step_ratio"]
    assert out["long_bootstrap_seam_step_ratio"] > 1.5 * out["long_synthetic_seam_step_ratio"]
    # The bootstrap copies real stretches (a block long); fresh data copy nothing.
    assert out["long_longest_match_bootstrap"] >= 24
    assert out["long_longest_match_synthetic"] <= 4 and out["long_longest_match_holdout"] <= 4
