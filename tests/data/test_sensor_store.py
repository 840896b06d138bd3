"""SensorStore: idempotent appends, all-or-nothing batches, persistence, parameterized reads."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from sensor_strategies import observed_part, sensor_series

from geniot.core.exceptions import DataError
from geniot.data import SensorSeries, SensorStore


def series(start=0, n=10, asset="pump-1", channels=("p", "t")):
    times = pd.date_range("2024-01-01", periods=start + n, freq="s")[start:]
    values = np.arange(start, start + n, dtype=float)[:, None] * np.arange(1, len(channels) + 1)
    return SensorSeries(timestamps=times.to_numpy(), values=values, channels=channels, asset=asset)


@pytest.fixture
def store():
    with SensorStore() as s:
        yield s


def test_append_twice_stores_once(store):
    assert store.append(series()) == 20
    assert store.append(series()) == 0
    assert store.count() == 20


def test_overlapping_batch_stores_only_new_rows(store):
    store.append(series(0, 10))
    assert store.append(series(5, 10)) == 10  # steps 10..14, two channels
    assert store.count() == 30
    assert store.read_wide("pump-1").n_steps == 15


def test_duplicates_within_one_batch_are_stored_once(store):
    frame = pd.DataFrame(
        {
            "ts": ["2024-01-01", "2024-01-01"],
            "asset": ["m", "m"],
            "signal": ["p", "p"],
            "value": [1.0, 2.0],
        }
    )
    assert store.append(frame) == 1
    assert store.read_long("m")["value"].tolist() == [1.0]


def test_data_persists_after_reopen(tmp_path):
    path = tmp_path / "plant.duckdb"
    with SensorStore(path) as s:
        s.append(series())
    with SensorStore(path) as s:
        assert s.count() == 20
        np.testing.assert_array_equal(s.read_wide("pump-1").values, series().values)


def test_bad_batch_leaves_earlier_data_intact(store):
    store.append(series())
    bad = pd.DataFrame(
        {"ts": ["2024-02-01", "2024-02-02"], "asset": "m", "signal": "p", "value": ["1", "x"]}
    )
    with pytest.raises(DataError, match="column 'value', row 2"):
        store.append(bad)
    assert store.count() == 20 and store.assets() == ["pump-1"]


def test_failure_inside_the_transaction_rolls_back(store, monkeypatch):
    store.append(series(0, 10))

    class FailingCommit:
        """The connection, except that COMMIT fails (after the INSERT has run)."""

        def __init__(self, con):
            self._con = con

        def __getattr__(self, name):
            return getattr(self._con, name)

        def commit(self):
            raise RuntimeError("disk full")

    monkeypatch.setattr(store, "_con", FailingCommit(store._con))
    with pytest.raises(RuntimeError, match="disk full"):
        store.append(series(5, 10))
    with pytest.raises(RuntimeError, match="disk full"):
        store.append_rows(series(20, 5).to_long().assign(asset="pump-1"))
    monkeypatch.undo()
    assert store.count() == 20


def test_reads_filter_by_time_and_signal(store):
    store.append(series())
    part = store.read_wide(
        "pump-1", start="2024-01-01 00:00:02", end="2024-01-01 00:00:05", signals=["t", "p"]
    )
    assert part.channels == ("t", "p") and part.n_steps == 3
    np.testing.assert_array_equal(part.values[:, 1], [2.0, 3.0, 4.0])
    assert store.signals("pump-1") == ["p", "t"]
    lo, hi = store.time_range("pump-1")
    assert (lo, hi) == (pd.Timestamp("2024-01-01"), pd.Timestamp("2024-01-01 00:00:09"))
    long = store.read_long(signals="p")
    assert list(long.columns) == ["ts", "asset", "signal", "value", "quality"] and len(long) == 10


def test_read_errors_name_what_is_missing(store):
    store.append(series())
    with pytest.raises(DataError, match=r"unknown asset 'nope'; the store has \['pump-1'\]"):
        store.read_wide("nope")
    with pytest.raises(DataError, match=r"no signals \['zz'\]"):
        store.read_wide("pump-1", signals=["zz"])
    with pytest.raises(DataError, match="no readings between"):
        store.read_wide("pump-1", start="2030-01-01")


def test_quality_zero_reads_as_gap_and_asset_names_are_never_sql(store):
    evil = "x'); DROP TABLE readings; --"
    frame = pd.DataFrame(
        {
            "ts": ["2024-01-01", "2024-01-02"],
            "signal": ["p", "p"],
            "value": [1.0, 2.0],
            "quality": [1.0, 0.0],
        }
    )
    with pytest.raises(DataError, match="not a valid name"):  # the name rule refuses it at the door
        store.append(frame, asset=evil)
    assert store.count() == 0 and store.assets() == []
    assert store.append(frame, asset="P-1") == 2
    np.testing.assert_array_equal(store.read_wide("P-1").values, [[1.0], [np.nan]])
    # reads that name an asset are parameterized: the SQL-looking name is just an unknown asset
    with pytest.raises(DataError):
        store.read_wide(evil)
    assert store.count() == 2


def test_series_without_asset_needs_one(store):
    anonymous = SensorSeries(timestamps=["2024-01-01"], values=[[1.0]], channels=("p",))
    with pytest.raises(DataError, match="no asset name"):
        store.append(anonymous)
    assert store.append(anonymous, asset="m") == 1


@settings(max_examples=10, deadline=None)
@given(sensor_series())
def test_store_round_trip(s):
    if not s.mask.any():
        return
    with SensorStore() as store:
        store.append(s)
        back = store.read_wide(s.asset)
    times, values, channels = observed_part(s)
    order = np.argsort(channels)  # the store gives channels sorted by name
    assert back.channels == tuple(np.array(channels)[order])
    np.testing.assert_array_equal(back.timestamps, times)
    np.testing.assert_array_equal(back.values, values[:, order])
