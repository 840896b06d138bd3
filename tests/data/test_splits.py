"""Splits keep time order and never put an asset on both sides."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data import SensorSeries, split_by_asset, split_by_time, train_val_test


def series(n=10, asset="a"):
    times = pd.date_range("2024-01-01", periods=n, freq="h").to_numpy()
    return SensorSeries(
        timestamps=times, values=np.arange(n, dtype=float)[:, None], channels=("p",), asset=asset
    )


def test_split_by_fraction_and_time():
    train, test = split_by_time(series())
    assert (train.n_steps, test.n_steps) == (8, 2)
    train, test = split_by_time(series(), at="2024-01-01 03:00")
    assert train.values[-1, 0] == 2.0 and test.values[0, 0] == 3.0
    assert train.timestamps[-1] < test.timestamps[0]


def test_split_by_time_errors():
    with pytest.raises(DataError, match="not both"):
        split_by_time(series(), 0.5, at="2024-01-01")
    with pytest.raises(DataError, match="empty"):
        split_by_time(series(), at="2020-01-01")
    with pytest.raises(DataError, match="between 0 and 1"):
        split_by_time(series(), 1.5)
    index_only = SensorSeries(timestamps=None, values=np.zeros((4, 1)), channels=("p",))
    with pytest.raises(DataError, match="needs timestamps"):
        split_by_time(index_only, at="2024-01-01")


def test_split_by_asset():
    fleet = {name: series(asset=name) for name in ["a", "b", "c"]}
    train, test = split_by_asset(fleet, ["b"])
    assert list(train) == ["a", "c"] and list(test) == ["b"]
    with pytest.raises(DataError, match=r"unknown assets \['z'\]"):
        split_by_asset(fleet, ["z"])
    with pytest.raises(DataError, match="no asset for training"):
        split_by_asset(fleet, ["a", "b", "c"])


def test_train_val_test_keeps_order_for_series_and_windows():
    parts = train_val_test(series(10))
    assert [p.n_steps for p in parts] == [6, 2, 2]
    assert parts[0].timestamps[-1] < parts[1].timestamps[0] < parts[2].timestamps[0]
    windows = np.arange(20.0).reshape(20, 1, 1)
    tr, va, te = train_val_test(windows, (0.5, 0.25, 0.25))
    np.testing.assert_array_equal(np.concatenate([tr, va, te]), windows)
    with pytest.raises(DataError, match="summing to 1"):
        train_val_test(windows, (0.5, 0.5, 0.5))
    with pytest.raises(DataError, match="too few"):
        train_val_test(windows[:2])
