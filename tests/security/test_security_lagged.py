"""The lagged views of the sequential tests (geniot.security.lagged): a temperature that follows
the load through a thermal lag far longer than the window is predicted from the filtered load,
so a forged temperature is found; filters warm up after a start or an outage before a level is
judged on them; older saved models load without them."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.security.lagged import VALID_AFTER, LagFilters, lagged
from geniot.security.sequential import STATISTICS, SequentialResidualTest

LEVEL = STATISTICS.index("level")


def load_and_temperature(n: int, seed: int, tau: float = 30.0) -> np.ndarray:
    """A load that changes setpoint now and then, and a temperature relaxing toward it (tau steps)."""
    rng = np.random.default_rng(seed)
    setpoints = rng.uniform(-1.5, 1.5, size=n // 150 + 1)
    load = np.repeat(setpoints, 150)[:n] + 0.05 * rng.standard_normal(n)
    a = np.exp(-1.0 / tau)
    temp = np.zeros(n)
    for t in range(1, n):
        temp[t] = a * temp[t - 1] + (1.0 - a) * 2.0 * load[t]
    return np.stack([load, temp + 0.02 * rng.standard_normal(n)], axis=1)


@pytest.fixture(scope="module")
def fitted():
    return SequentialResidualTest(window=8, interval_s=60.0).fit(load_and_temperature(3000, seed=0))


@pytest.fixture(scope="module")
def window_only():
    return SequentialResidualTest(window=8, interval_s=60.0, lag_minutes=()).fit(load_and_temperature(3000, seed=0))


def first_alarm(test: SequentialResidualTest, values: np.ndarray, j: int) -> int | None:
    st = test.state()
    for t in range(test.window, len(values) + 1):
        if test.step(st, values[t - test.window : t])[j, LEVEL] > 1.0:
            return t
    return None


def test_the_streaming_filters_give_the_batch_values_and_wait_to_warm_up():
    values = load_and_temperature(400, seed=1)
    batch = lagged(values, 60.0, (5.0, 20.0))
    filters = LagFilters(2, 60.0, (5.0, 20.0))
    for i, row in enumerate(values):
        filters.push(row)
        np.testing.assert_array_equal(filters.now(), batch[i])
    # a filter is used after VALID_AFTER time constants of readings (5 and 20 steps here)
    for k, tau in enumerate((5, 20)):
        first = int(np.ceil(VALID_AFTER * tau)) - 1  # the row at which enough readings were seen
        assert np.isnan(batch[first - 1, 2 * k : 2 * k + 2]).all() and np.isfinite(batch[first, 2 * k : 2 * k + 2]).all()


def test_an_outage_longer_than_a_time_constant_starts_a_filter_again():
    filters = LagFilters(1, 60.0, (5.0, 20.0))
    for v in np.linspace(0.0, 1.0, 60):
        filters.push(np.array([v]))
    assert np.isfinite(filters.now()).all()
    filters.skip(10)  # longer than 5 minutes, shorter than 20
    filters.push(np.array([3.0]))
    now = filters.now()
    assert np.isnan(now[0]) and np.isfinite(now[1])
    filters.push(np.array([np.nan]))  # one missing reading: the value is held
    assert np.isfinite(filters.now()[1])


def test_the_lagged_sensor_is_predicted_from_the_lagged_load(fitted, window_only):
    assert fitted.lagged_cross_[1]
    # a far lower level threshold in the units of the reading: a bias is found far sooner
    unit = fitted.scale_[1, 1] * fitted.sd_[1, 1]
    unit_window = window_only.scale_[1, 1] * window_only.sd_[1, 1]
    assert fitted.threshold_[1, 0] * unit < 0.5 * window_only.threshold_[1, 0] * unit_window


def test_a_forged_temperature_is_found_with_the_lagged_load_and_not_from_the_window(fitted, window_only):
    values = load_and_temperature(2000, seed=2)
    span = values[:, 1].max() - values[:, 1].min()
    values[900:1300, 1] += 0.15 * span  # inside the normal range
    found = first_alarm(fitted, values, 1)
    assert found is not None and 900 <= found < 1300
    assert first_alarm(window_only, values, 1) is None
    assert first_alarm(fitted, load_and_temperature(2000, seed=2), 1) is None  # the same data, unforged


def test_the_level_waits_for_the_filters_after_an_outage(fitted):
    values = load_and_temperature(600, seed=3)
    st = fitted.state()
    for t in range(fitted.window, 300):
        fitted.step(st, values[t - fitted.window : t])
    fitted.skip(st, 120)  # two hours without a reading
    st.s[:] = 1.0  # some evidence: a step that judges a level moves it
    fitted.step(st, values[300:308])
    assert (st.s[fitted.lagged_cross_, :2] == 1.0).all()  # the temperature's level is not judged yet
    assert (st.s[:, 2:] != 1.0).all()  # its dynamics are
    for t in range(309, 600):
        fitted.step(st, values[t - 8 : t])
    assert (st.s[fitted.lagged_cross_, :2] != 1.0).any()  # warmed up: judged again


def test_a_model_saved_before_the_lagged_views_loads_without_them(window_only):
    arrays = {k: v for k, v in window_only.state_arrays().items() if k not in ("seq_lag_minutes", "seq_lagged_cross")}
    old = SequentialResidualTest.from_arrays(arrays, window=8, interval_s=60.0)
    assert old.lag_minutes_ == () and not old.lagged_cross_.any()
    values = load_and_temperature(300, seed=4)
    st = old.state()
    assert st.lags is None
    levels = [old.step(st, values[t - 8 : t]) for t in range(8, 300)]
    assert np.isfinite(levels).all()
