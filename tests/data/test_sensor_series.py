"""SensorSeries: validation, immutability, selection and the long/wide conversions."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sensor_strategies import observed_part, sensor_series

from geniot.core.exceptions import DataError
from geniot.data import SensorSeries
from geniot.data.io import series_from_frame


def make(n=5, channels=("a", "b"), **kw):
    values = np.arange(n * len(channels), dtype=float).reshape(n, len(channels))
    times = pd.date_range("2024-01-01", periods=n, freq="min").to_numpy()
    return SensorSeries(timestamps=times, values=values, channels=channels, asset="m1", **kw)


def test_properties_and_mask():
    s = make()
    s2 = s.with_values(np.where(s.values == 3, np.nan, s.values))
    assert (s.n_steps, s.n_channels) == (5, 2)
    assert s2.mask.sum() == 9 and not s2.mask[1, 1]
    assert s.timestamps.dtype == np.dtype("datetime64[ns]")


def test_arrays_are_read_only_copies():
    values = np.zeros((3, 1))
    s = SensorSeries(timestamps=None, values=values, channels=("a",))
    values[0, 0] = 5.0  # the caller's array is not shared
    assert s.values[0, 0] == 0.0
    with pytest.raises(ValueError):
        s.values[0, 0] = 1.0


def test_timezone_aware_timestamps_become_naive_utc():
    times = pd.date_range("2024-01-01 01:00", periods=2, freq="h", tz="Europe/Berlin")
    s = SensorSeries(timestamps=times, values=np.zeros((2, 1)), channels=("a",))
    assert pd.Timestamp(s.timestamps[0]) == pd.Timestamp("2024-01-01 00:00")


@pytest.mark.parametrize(
    ("kwargs", "pattern"),
    [
        ({"values": np.zeros((3, 2)), "channels": ("a",)}, "1 channel names for 2"),
        ({"values": np.zeros((3, 2)), "channels": ("a", "a")}, "column 'a'.*used twice"),
        ({"values": np.zeros(3), "channels": ("a",)}, "shaped"),
        ({"values": np.array([[1.0], [np.inf], [2.0]]), "channels": ("a",)}, "column 'a', row 2"),
        (
            {"values": np.zeros((2, 1)), "channels": ("a",), "timestamps": ["2024-01-01"]},
            "1 timestamps",
        ),
    ],
)
def test_invalid_series_raise(kwargs, pattern):
    kwargs = {"timestamps": None, **kwargs}
    with pytest.raises(DataError, match=pattern):
        SensorSeries(**kwargs, source="plant.csv")


def test_unsorted_and_duplicate_timestamps_name_the_row():
    with pytest.raises(DataError, match=r"row 3: timestamps are not sorted"):
        SensorSeries(
            timestamps=["2024-01-01", "2024-01-02", "2024-01-01"],
            values=np.zeros((3, 1)),
            channels=("a",),
        )
    with pytest.raises(DataError, match=r"row 2: duplicate timestamp"):
        SensorSeries(
            timestamps=["2024-01-01", "2024-01-01"], values=np.zeros((2, 1)), channels=("a",)
        )


def test_select_slice_with_values():
    s = make(units={"a": "bar", "b": "degC"})
    sel = s.select(["b", "a"])
    assert sel.channels == ("b", "a") and sel.units == {"a": "bar", "b": "degC"}
    np.testing.assert_array_equal(sel.values[:, 0], s.values[:, 1])
    part = s.slice_time("2024-01-01 00:01", "2024-01-01 00:03")
    assert part.n_steps == 2  # half-open: 00:01 and 00:02
    with pytest.raises(DataError, match="unknown channels"):
        s.select("zzz")
    with pytest.raises(DataError, match="no steps"):
        s.slice_time("2030-01-01")
    with pytest.raises(DataError, match="shape"):
        s.with_values(np.zeros((2, 2)))


def test_index_only_series():
    s = SensorSeries(timestamps=None, values=np.ones((4, 2)), channels=("x", "y"))
    assert isinstance(s.index, pd.RangeIndex)
    assert list(s.to_dataframe().columns) == ["x", "y"]
    with pytest.raises(DataError, match="needs timestamps"):
        s.slice_time("2024-01-01")
    with pytest.raises(DataError, match="long layout needs timestamps"):
        s.to_long()


def test_to_dataframe_and_to_long():
    s = make(n=2)
    s = s.with_values([[1.0, np.nan], [3.0, 4.0]])
    wide = s.to_dataframe()
    assert list(wide.columns) == ["timestamp", "a", "b"]
    long = s.to_long()
    assert list(long.columns) == ["ts", "asset", "signal", "value", "quality"]
    assert len(long) == 3  # the gap has no row
    assert (long["quality"] == 1.0).all() and (long["asset"] == "m1").all()


def test_from_dataframe_detects_time_column_and_datetime_index():
    frame = pd.DataFrame({"Date": ["2024-01-01", "2024-01-02"], "p": [1, 2], "note": ["x", "y"]})
    s = series_from_frame(frame, asset="m")
    assert s.channels == ("p",) and s.timestamps is not None and s.asset == "m"
    indexed = pd.DataFrame({"p": [1.0, 2.0]}, index=pd.date_range("2024-01-01", periods=2))
    assert series_from_frame(indexed).timestamps is not None
    explicit = pd.DataFrame({"when": ["2024-01-01", "2024-01-02"], "p": [1, 2]})
    assert series_from_frame(explicit, time_column="when").channels == ("p",)


@settings(max_examples=30, deadline=None)
@given(sensor_series())
def test_long_round_trip_in_memory(series):
    if not series.mask.any():
        return
    back = series_from_frame(series.to_long())
    times, values, channels = observed_part(series)
    assert back.asset == series.asset and back.channels == channels
    np.testing.assert_array_equal(back.timestamps, times)
    np.testing.assert_array_equal(back.values, values)


@settings(max_examples=25, deadline=None)
@given(sensor_series())
def test_wide_round_trip_in_memory(series):
    back = series_from_frame(series.to_dataframe(), asset=series.asset)
    assert back.channels == series.channels
    np.testing.assert_array_equal(back.timestamps, series.timestamps)
    np.testing.assert_array_equal(back.values, series.values)
