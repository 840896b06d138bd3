"""Reading and writing files: layouts, separators, round trips, and errors that say where."""

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sensor_strategies import observed_part, sensor_series

from geniot.core.exceptions import DataError
from geniot.data import SensorSeries, read_labels, read_series, read_table, write_table

SHARED = Path("/work/shared/data")


def write(tmp_path, text, name="plant.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


def raises_at(path, *, column, row, match=None):
    """Reading ``path`` fails with a DataError that names the file, the column and the row."""
    with pytest.raises(DataError, match=match) as info:
        read_series(path)
    err = info.value
    assert err.file == str(path) and str(path) in str(err)
    assert err.column == column and f"column {column!r}" in str(err)
    assert err.row == row and f"row {row}" in str(err)
    return err


# ------------------------------------------------------------------------------------ layouts
def test_wide_semicolon_with_labels_and_text_columns(tmp_path):
    path = write(
        tmp_path,
        "datetime;p;t;note;Anomaly;changepoint\n"
        "2024-01-01 00:00:00;1.5;;ok;0;0\n"
        "2024-01-01 00:00:01;2.5;20;ok;1;0\n",
    )
    s = read_series(path)
    assert s.channels == ("p", "t") and s.asset == "plant"
    assert np.isnan(s.values[0, 1])  # an empty cell is a gap
    labels = read_labels(path)
    assert list(labels.columns) == ["Anomaly", "changepoint"]
    assert labels["Anomaly"].tolist() == [0, 1]
    assert isinstance(labels.index, pd.DatetimeIndex)


def test_wide_without_time_column(tmp_path):
    s = read_series(write(tmp_path, "a,b\n1,2\n3,4\n"))
    assert s.timestamps is None and s.values.tolist() == [[1, 2], [3, 4]]
    assert read_labels(tmp_path / "plant.csv") is None


def test_first_column_of_dates_is_the_time_even_unnamed(tmp_path):
    s = read_series(write(tmp_path, "when,a\n2024-01-01,1\n2024-01-02,2\n"))
    assert s.channels == ("a",) and s.timestamps is not None


def test_gzip_csv_and_parquet(tmp_path):
    path = tmp_path / "m7.csv.gz"
    with gzip.open(path, "wt") as fh:
        fh.write("timestamp,a\n2024-01-01,1\n2024-01-02,2\n")
    s = read_series(path)
    assert s.asset == "m7"
    write_table(s, tmp_path / "m7.parquet")
    back = read_series(tmp_path / "m7.parquet")
    np.testing.assert_array_equal(back.values, s.values)
    np.testing.assert_array_equal(back.timestamps, s.timestamps)


def test_long_file_with_assets_pivots_on_union_of_timestamps(tmp_path):
    path = write(
        tmp_path,
        "Timestamp,Asset,Sensor,Value,Quality\n"
        "2024-01-01,m1,p,1,1\n"
        "2024-01-02,m1,t,5,1\n"
        "2024-01-01,m2,p,7,1\n"
        "2024-01-03,m1,p,3,0\n",  # quality 0: a bad reading, treated as a gap
    )
    table = read_table(path)
    assert sorted(table) == ["m1", "m2"]
    m1 = table["m1"]
    assert m1.channels == ("p", "t") and m1.n_steps == 3
    np.testing.assert_array_equal(m1.values, [[1, np.nan], [np.nan, 5], [np.nan, np.nan]])
    with pytest.raises(DataError, match=r"2 assets \['m1', 'm2'\]; pass asset"):
        read_series(path)
    assert read_series(path, asset="m2").values.tolist() == [[7.0]]
    with pytest.raises(DataError, match="asset 'm9' is not in the data"):
        read_series(path, asset="m9")


def test_long_file_without_asset_column_is_named_after_the_file(tmp_path):
    s = read_series(write(tmp_path, "ts,signal,value\n2024-01-01,p,1\n", name="pump3.csv"))
    assert s.asset == "pump3" and s.channels == ("p",)


def test_write_long_several_assets_and_wide_refuses(tmp_path):
    a = SensorSeries(timestamps=["2024-01-01"], values=[[1.0]], channels=("p",), asset="a")
    b = SensorSeries(timestamps=["2024-01-02"], values=[[2.0]], channels=("q",), asset="b")
    write_table({"a": a, "b": b}, tmp_path / "fleet.csv", layout="long")
    assert sorted(read_table(tmp_path / "fleet.csv")) == ["a", "b"]
    with pytest.raises(DataError, match="one asset per file"):
        write_table({"a": a, "b": b}, tmp_path / "fleet2.csv")


# ----------------------------------------------------------------------------- bad input
def test_empty_file(tmp_path):
    with pytest.raises(DataError, match="empty") as info:
        read_series(write(tmp_path, ""))
    assert info.value.file == str(tmp_path / "plant.csv")


def test_header_only(tmp_path):
    with pytest.raises(DataError, match="no data rows"):
        read_series(write(tmp_path, "timestamp,a\n"))


def test_no_numeric_signal_column(tmp_path):
    with pytest.raises(DataError, match="no numeric signal column"):
        read_series(write(tmp_path, "timestamp,name\n2024-01-01,abc\n2024-01-02,def\n"))


def test_non_numeric_value_in_a_signal_column(tmp_path):
    rows = "".join(f"2024-01-{d:02d},{d}.5,1\n" for d in range(1, 9))
    rows = rows.replace("3.5", "abc")
    raises_at(
        write(tmp_path, "timestamp,temp,p\n" + rows),
        column="temp",
        row=3,
        match="'abc' is not a number",
    )


def test_unparsable_timestamp(tmp_path):
    path = write(tmp_path, "timestamp,a\n2024-01-01,1\nyesterday noonish,2\n")
    raises_at(path, column="timestamp", row=2, match="is not a timestamp")


def test_missing_timestamp(tmp_path):
    raises_at(
        write(tmp_path, "timestamp,a\n2024-01-01,1\n,2\n"),
        column="timestamp",
        row=2,
        match="missing",
    )


def test_unsorted_timestamps(tmp_path):
    path = write(tmp_path, "timestamp,a\n2024-01-01,1\n2024-01-03,2\n2024-01-02,3\n")
    raises_at(path, column="timestamp", row=3, match="not sorted")


def test_duplicate_timestamps(tmp_path):
    path = write(tmp_path, "timestamp,a\n2024-01-01,1\n2024-01-02,2\n2024-01-02,3\n")
    raises_at(path, column="timestamp", row=3, match=r"duplicate timestamp .* \(same as row 2\)")


def test_duplicate_long_reading(tmp_path):
    path = write(
        tmp_path, "ts,asset,signal,value\n2024-01-01,m,p,1\n2024-01-01,m,q,1\n2024-01-01,m,p,2\n"
    )
    raises_at(path, column="ts", row=3, match=r"duplicate reading .*'p'.*same as row 1")


def test_infinite_value(tmp_path):
    raises_at(
        write(tmp_path, "timestamp,a\n2024-01-01,1\n2024-01-02,inf\n"),
        column="a",
        row=2,
        match="infinite",
    )


def test_non_numeric_long_value(tmp_path):
    path = write(tmp_path, "ts,signal,value\n2024-01-01,p,1\n2024-01-02,p,n/a?\n")
    raises_at(path, column="value", row=2, match="not a number")


def test_numeric_time_column_is_refused(tmp_path):
    with pytest.raises(DataError, match="column 'time'.*numbers, not timestamps"):
        read_series(write(tmp_path, "time,a\n1,1\n2,2\n"))


def test_duplicate_header_and_unknown_extension(tmp_path):
    with pytest.raises(DataError, match="column 'a'.*twice"):
        read_series(write(tmp_path, "timestamp,a,a\n2024-01-01,1,2\n"))
    with pytest.raises(DataError, match="unsupported file type"):
        read_series(write(tmp_path, "a\n1\n", name="x.xlsx"))
    with pytest.raises(DataError, match="does not exist"):
        read_series(tmp_path / "nope.csv")


# ------------------------------------------------------------------------------- round trips
@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(series=sensor_series(), layout=st.sampled_from(["wide", "long"]))
def test_write_read_round_trip(tmp_path, suffix, series, layout):
    if layout == "long" and not series.mask.any():
        return  # nothing observed: a long file would have no rows
    path = tmp_path / f"{series.asset}{suffix}"
    write_table(series, path, layout=layout)
    back = read_series(path)
    times, values, channels = (
        observed_part(series)
        if layout == "long"
        else (series.timestamps, series.values, series.channels)
    )
    assert back.asset == series.asset and back.channels == channels
    np.testing.assert_array_equal(back.timestamps, times)
    np.testing.assert_array_equal(back.values, values)


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(series=sensor_series(with_time=False, values=st.floats(-1e9, 1e9)))
def test_index_only_round_trip(tmp_path, series):
    write_table(series, tmp_path / "x.csv")
    back = read_series(tmp_path / "x.csv")
    assert back.timestamps is None
    np.testing.assert_array_equal(back.values, series.values)


# ------------------------------------------------------------------------------- real files
@pytest.mark.skipif(not SHARED.exists(), reason="shared benchmark data not present")
@pytest.mark.parametrize(
    ("relpath", "n_channels", "has_time"),
    [
        ("skab/valve1/0.csv", 8, True),
        ("timegan/stock_data.csv", 6, False),
        ("ett/ETTh1.csv", 7, True),
    ],
)
def test_real_files(relpath, n_channels, has_time):
    s = read_series(SHARED / relpath)
    assert s.n_channels == n_channels and (s.timestamps is not None) == has_time
    assert s.n_steps > 1000 and not np.isnan(s.values).all()
    if relpath.startswith("skab"):
        assert "anomaly" not in s.channels
        assert set(read_labels(SHARED / relpath).columns) == {"anomaly", "changepoint"}
