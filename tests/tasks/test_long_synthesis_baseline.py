"""The baseline continuation is measured against: independent windows laid end to end, drawn on
the same clock as the synthetic series (a calendar model gets each window's own time of day)."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.core.record import TrainingRecord
from geniot.data.series import SensorSeries
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.long_synthesis import calendar_conditions, independent_windows
from geniot.workflows.datasets import pool_windows

WINDOW = 6


def _calendar_model() -> GaussianBaseline:
    rng = np.random.default_rng(0)
    ts = pd.date_range("2026-01-05", periods=40 * 24, freq="h")
    level = 3.0 * np.sin(2 * np.pi * ts.hour.to_numpy() / 24)
    values = np.c_[level + 0.3 * rng.standard_normal(len(ts)), -level + 0.3 * rng.standard_normal(len(ts))]
    data = pool_windows({"P": SensorSeries(values=values, channels=("a", "b"), timestamps=ts.to_numpy())}, WINDOW, calendar=True)
    record = TrainingRecord(window=WINDOW, timing=data.timing, conditions=data.condition_names)
    return GaussianBaseline().fit(data.windows, conditions=data.conditions, channels=data.channels, record=record)


def test_concatenated_windows_of_a_calendar_model_follow_the_clock():
    model = _calendar_model()
    ts = pd.date_range("2026-03-02T09:00", periods=10 * 24, freq="h")
    x, seams = independent_windows(model, len(ts), conditions=calendar_conditions(ts), random_state=0)
    assert x.shape == (len(ts), 2)
    np.testing.assert_array_equal(seams, np.arange(WINDOW, len(ts), WINDOW))
    profile = np.array([x[ts.hour == h, 0].mean() for h in range(24)])
    assert np.corrcoef(profile, 3.0 * np.sin(2 * np.pi * np.arange(24) / 24))[0, 1] > 0.9


def test_concatenated_windows_need_the_conditions_the_model_was_fitted_with():
    model = _calendar_model()
    with pytest.raises(DataError, match="condition"):
        independent_windows(model, 30)
    plain = GaussianBaseline().fit(np.random.default_rng(1).standard_normal((50, WINDOW, 2)))
    x, seams = independent_windows(plain, 20, random_state=0)
    assert x.shape == (20, 2) and list(seams) == [6, 12, 18]
