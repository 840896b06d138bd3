"""Long-range structure by explicit conditions (the calendar through continuation), imputation
given conditions in the generator contract, the flatline rule that sees stuck sensors, and the
episode features a fault classifier names faults by."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.core.record import TrainingRecord
from geniot.data.series import SensorSeries
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.flatline import FlatlineDetector
from geniot.tasks.long_synthesis import (
    CALENDAR_CONDITIONS,
    calendar_conditions,
    continue_series,
    episode_features,
)
from geniot.workflows.datasets import pool_windows
from geniot.workflows.synthesis import synthesize

WINDOW = 6  # a quarter of a day: one window cannot tell the time of day by itself


def _daily(days: int, seed: int) -> SensorSeries:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2026-01-05", periods=days * 24, freq="h")
    hour = ts.hour.to_numpy()
    level = 3.0 * np.sin(2 * np.pi * hour / 24)
    values = np.c_[level + 0.3 * rng.standard_normal(len(ts)), -level + 0.3 * rng.standard_normal(len(ts))]
    return SensorSeries(values=values, channels=("a", "b"), timestamps=ts.to_numpy())


def test_calendar_conditions_are_points_on_the_day_and_week_circles():
    ts = pd.to_datetime(["2026-01-05 00:00", "2026-01-05 06:00", "2026-01-11 18:00"])
    c = calendar_conditions(ts)
    assert c.shape == (3, len(CALENDAR_CONDITIONS))
    np.testing.assert_allclose(c[0], [0, 1, 0, 1], atol=1e-12)  # Monday midnight
    np.testing.assert_allclose(c[1, :2], [1, 0], atol=1e-12)  # 06:00 a quarter round the day
    np.testing.assert_allclose(np.hypot(c[:, 2], c[:, 3]), 1.0)


def test_gaussian_imputes_given_conditions():
    rng = np.random.default_rng(0)
    cond = rng.uniform(-2, 2, size=(400, 1))
    X = cond[:, :, None] + 0.1 * rng.standard_normal((400, 4, 1))  # the level is the condition
    model = GaussianBaseline().fit(X, conditions=cond)
    window = np.full((2, 4, 1), np.nan)
    window[:, 0, 0] = 0.0  # the same observed first step, different conditions
    draws = model.impute(window, conditions=np.array([[-1.5], [1.5]]), n_draws=50, random_state=1)
    later = draws[:, :, 1:, 0].mean(axis=(0, 2))
    assert later[0] < -0.5 and later[1] > 0.5  # the conditions move the imputation
    marginal = model.impute(window, n_draws=50, random_state=1)[:, :, 1:, 0].mean()
    assert abs(marginal) < 0.3  # without conditions: marginal over them
    with pytest.raises(DataError, match="condition"):
        model.impute(window, conditions=np.zeros((2, 3)))


def _calendar_model(seed: int = 0) -> GaussianBaseline:
    data = pool_windows({"P": _daily(40, seed)}, WINDOW, calendar=True)
    assert data.condition_names == CALENDAR_CONDITIONS and len(data.conditions) == len(data.windows)
    record = TrainingRecord(window=WINDOW, timing=data.timing, conditions=data.condition_names)
    return GaussianBaseline().fit(data.windows, conditions=data.conditions, channels=data.channels, record=record)


def test_calendar_carries_the_daily_cycle_through_continuation():
    model = _calendar_model()
    start = pd.Timestamp("2026-03-02T09:00")  # not where the training data end
    result = synthesize(model, duration_s=10 * 86400, start=start, seed=3)
    x = result.values["synthetic"]
    hours = pd.DatetimeIndex(result.timestamps).hour.to_numpy()
    profile = np.array([x[hours == h, 0].mean() for h in range(24)])
    truth = 3.0 * np.sin(2 * np.pi * np.arange(24) / 24)
    assert np.corrcoef(profile, truth)[0, 1] > 0.9  # the cycle sits at the right hours
    assert np.abs(profile - truth).max() < 1.0


def test_conditioned_model_needs_conditions_to_continue():
    model = _calendar_model()
    with pytest.raises(DataError, match="condition"):
        continue_series(model, 30)
    with pytest.raises(DataError, match="shaped"):
        continue_series(model, 30, conditions=np.zeros((30, 2)))


def test_flatline_flags_a_stuck_signal_but_not_normal_stillness():
    rng = np.random.default_rng(0)
    normal = np.c_[rng.standard_normal(2000), np.round(rng.standard_normal(2000).cumsum() / 20)]  # b is coarse
    det = FlatlineDetector().fit([normal])
    assert det.longest_normal_[1] > det.longest_normal_[0]  # the coarse signal sits still normally
    assert not det.flags(normal).any()
    test = np.c_[rng.standard_normal(300), np.round(rng.standard_normal(300).cumsum() / 20)]
    test[100:160, 0] = test[100, 0]  # stuck
    per = det.channel_flags(test)
    assert per[101:160, 0].all() and not per[:100, 0].any() and not per[161:, 0].any()
    with pytest.raises(DataError, match="shaped"):
        det.flags(test[:, :1])


def test_episode_features_tell_a_stuck_signal_from_a_shift():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 3))
    normal = np.ones(200, dtype=bool)
    stuck, shifted = x.copy(), x.copy()
    stuck[100:140, 1] = stuck[100, 1]
    shifted[100:140, :] += 8.0
    f_stuck = episode_features(stuck, normal, 100, 140)
    f_shift = episode_features(shifted, normal, 100, 140)
    c = x.shape[1]
    assert f_stuck[c] < -3 < f_shift[c]  # least step spread: a stuck channel stops moving
    assert f_shift[c + 4] == 3 and f_stuck[c + 4] == 0  # channels that moved
    assert episode_features(x, np.zeros(200, dtype=bool), 100, 140) is None  # nothing normal before
