"""The whiteness test (geniot.security.whiteness): the von Neumann ratio tells a held value with
made-up white noise from a sensor that wanders, streaming gives the batch figures, sensors that
normal data already take near white are not tested, and models saved before it load without it."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.security.sequential import STATISTICS, SequentialResidualTest
from geniot.security.whiteness import WhitenessState, block_steps, fit_thresholds, rolling_ratio
from tests.security.test_security_sequential import (  # the two coupled sensors and the evidence peak
    coupled,
    peak,
)

WHITE = STATISTICS.index("white")


def ar1(n: int, rho: float, seed: int, noise: float = 0.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = rho * x[t - 1] + rng.standard_normal()
    return x + noise * rng.standard_normal(n)


def test_the_ratio_reads_two_for_white_noise_and_less_for_a_wandering_sensor():
    rng = np.random.default_rng(0)
    white = rolling_ratio(rng.standard_normal((5000, 1)), 60)
    wander = rolling_ratio(ar1(5000, 0.8, seed=1)[:, None], 60)
    assert np.nanmean(white) == pytest.approx(2.0, abs=0.05)
    assert np.nanmean(wander) == pytest.approx(2 * (1 - 0.8), abs=0.15)
    assert np.isnan(white[:59]).all() and np.isfinite(white[59:]).all()


def test_a_block_with_gaps_or_no_change_is_not_judged():
    x = ar1(200, 0.8, seed=2)[:, None].repeat(2, axis=1)
    x[100:110, 0] = np.nan  # a tenth of the block missing and more: not judged while inside the block
    x[:, 1] = 3.0  # flat: the stuck rule's, not this test's
    eta = rolling_ratio(x, 60)
    assert np.isnan(eta[110:160, 0]).all() and np.isfinite(eta[175:, 0]).all()
    assert np.isnan(eta[:, 1]).all()


def test_only_sensors_that_normal_data_keep_away_from_white_are_tested():
    rng = np.random.default_rng(3)
    normal = np.stack([ar1(3000, 0.9, seed=4), rng.standard_normal(3000)], axis=1)
    thr = fit_thresholds(normal, 60)
    top = np.nanmax(rolling_ratio(normal, 60)[:, 0])
    white_sd = 2.0 / np.sqrt(60)
    assert top < 2.0 - 2 * white_sd
    # halfway from the largest normal ratio to white, and no further from white than one white-noise sd
    assert thr[0] == pytest.approx(max(top + 0.5 * (2.0 - top), 2.0 - white_sd))
    assert np.isinf(thr[1])  # already white: its forgery cannot be told from it


def test_the_streaming_ring_gives_the_batch_ratio():
    x = np.stack([ar1(300, 0.7, seed=5), ar1(300, 0.95, seed=6)], axis=1)
    x[150, 1] = np.nan
    st = WhitenessState(60, 2)
    batch = rolling_ratio(x, 60)
    for t, row in enumerate(x):
        st.push(row)
        if t >= 59:
            np.testing.assert_allclose(st.ratio_now(), batch[t], equal_nan=True)


def test_the_block_is_an_hour_of_readings_within_bounds():
    assert block_steps(60.0) == 60
    assert block_steps(1.0) == 720 and block_steps(3600.0) == 30


@pytest.fixture(scope="module")
def fitted():
    return SequentialResidualTest(window=8, interval_s=60.0).fit(coupled(3000, seed=0))


def test_a_held_value_with_noise_as_large_as_the_sensors_steps_is_too_white(fitted):
    values = coupled(1500, seed=7)
    rng = np.random.default_rng(11)
    steps = np.diff(values[:600, 1])
    noise = 1.4826 * np.median(np.abs(steps - np.median(steps))) / np.sqrt(2.0)  # what an attacker measures
    values[600:780, 1] = values[600, 1] + noise * rng.standard_normal(180)
    assert peak(fitted, values)[1, WHITE] > 1.0
    assert peak(fitted, coupled(1500, seed=7))[:, WHITE].max() < 1.0  # the same data unforged


def test_missing_steps_are_gaps_in_the_block(fitted):
    st = fitted.state()
    values = coupled(200, seed=8)
    for t in range(8, 100):
        fitted.step(st, values[t - 8 : t])
    fitted.skip(st, 3)
    assert np.isnan(st.white.ring).any(axis=1).sum() == 3
    fitted.skip(st, fitted.block)  # a gap as long as a block: nothing before it counts
    assert np.isnan(st.white.ring).all()


def test_a_model_saved_before_the_whiteness_test_loads_without_it(fitted):
    arrays = {k: v for k, v in fitted.state_arrays().items() if k != "seq_white_threshold"}
    old = SequentialResidualTest.from_arrays(arrays, window=8, interval_s=60.0)
    assert np.isinf(old.white_threshold_).all()
    values = coupled(300, seed=9)
    st = old.state()
    assert old.step(st, values[:8])[:, WHITE].max() == 0.0
