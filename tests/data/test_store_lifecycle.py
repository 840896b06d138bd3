"""SensorStore lifecycle: schema versions and migrations, deleting history, downsampling into
aggregates, dead-letter retention, the audit clock. Real DuckDB files in tmp_path."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import duckdb
import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.core.names import InvalidNameError
from geniot.data import SensorStore
from geniot.data.store import SCHEMA_VERSION, interval_seconds

# The DDL of the release before schema versions, copied as it was (the store such a release wrote).
OLD_DDL = """
CREATE TABLE readings (
    ts TIMESTAMP NOT NULL, asset VARCHAR NOT NULL, signal VARCHAR NOT NULL, value DOUBLE, quality DOUBLE,
    PRIMARY KEY (asset, signal, ts)
);
CREATE TABLE dead_letters (
    received TIMESTAMP NOT NULL, source VARCHAR, topic VARCHAR, reason VARCHAR, payload VARCHAR
);
CREATE TABLE events (
    id VARCHAR PRIMARY KEY, asset VARCHAR NOT NULL, start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL,
    peak_ts TIMESTAMP NOT NULL, peak_score DOUBLE, threshold DOUBLE, top_sensors VARCHAR, is_open BOOLEAN
);
CREATE TABLE audit (
    ts TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL, target VARCHAR, detail VARCHAR
);
CREATE TABLE fills (
    ts TIMESTAMP NOT NULL, asset VARCHAR NOT NULL, signal VARCHAR NOT NULL, value DOUBLE, lower DOUBLE,
    upper DOUBLE, PRIMARY KEY (asset, signal, ts)
);
"""


def long_frame(start="2024-01-01", n=600, freq="37s", asset="A", signals=("x", "y"), seed=0) -> pd.DataFrame:
    times = pd.date_range(start, periods=n, freq=freq)
    rng = np.random.default_rng(seed)
    return pd.DataFrame({
        "ts": np.repeat(times, len(signals)),
        "asset": asset,
        "signal": list(signals) * n,
        "value": rng.normal(10, 3, size=n * len(signals)),
        "quality": 1.0,
    })


def old_store(path, *, with_audit=True):
    con = duckdb.connect(str(path))
    ddl = OLD_DDL if with_audit else OLD_DDL.replace(
        "CREATE TABLE audit (\n    ts TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL, target VARCHAR, detail VARCHAR\n);", "")
    con.execute(ddl)
    con.execute("INSERT INTO readings VALUES ('2024-01-01 00:00:00', 'P-1', 'p', 1.5, 1.0), ('2024-01-01 00:00:01', 'P-1', 'p', 2.5, 1.0)")
    con.execute("INSERT INTO dead_letters VALUES ('2024-01-01', 'mqtt', 't', 'bad', '{')")
    con.execute("INSERT INTO fills VALUES ('2024-01-01 00:00:02', 'P-1', 'p', 2.0, 1.0, 3.0)")
    con.close()


# ------------------------------------------------------------------------------- schema
def test_a_new_store_is_at_the_latest_version(tmp_path):
    with SensorStore(tmp_path / "new.duckdb") as store:
        assert store.schema_version == SCHEMA_VERSION
        rows = store._con.execute("SELECT version FROM schema_version ORDER BY version").fetchall()
    assert [r[0] for r in rows] == list(range(1, SCHEMA_VERSION + 1))


@pytest.mark.parametrize("with_audit", [True, False])
def test_a_store_of_the_previous_release_is_upgraded_and_keeps_its_rows(tmp_path, with_audit):
    path = tmp_path / "old.duckdb"
    old_store(path, with_audit=with_audit)
    with SensorStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.count() == 2 and store.read_long("P-1")["value"].tolist() == [1.5, 2.5]
        assert store.count_dead_letters() == 1 and len(store.fills("P-1")) == 1
        store.record_audit("admin", "test")  # the audit table exists either way
        assert store.read_aggregates().empty
    with SensorStore(path) as store:  # opening again applies nothing twice
        assert store._con.execute("SELECT count(*) FROM schema_version").fetchall()[0][0] == SCHEMA_VERSION


def test_an_old_store_opened_read_only_is_read_as_it_is(tmp_path):
    path = tmp_path / "old.duckdb"
    old_store(path)
    with SensorStore(path, read_only=True) as store:
        assert store.schema_version == 0
        assert store.count() == 2 and store.read_aggregates().empty and store.count_aggregated() == 0


def test_a_store_of_a_newer_geniot_is_refused(tmp_path):
    path = tmp_path / "future.duckdb"
    SensorStore(path).close()
    con = duckdb.connect(str(path))
    con.execute("INSERT INTO schema_version VALUES (?, 'from the future', now()::TIMESTAMP, '99.0')", [SCHEMA_VERSION + 1])
    con.close()
    for read_only in (False, True):
        with pytest.raises(DataError, match=f"schema version {SCHEMA_VERSION + 1}, newer .*upgrade geniot"):
            SensorStore(path, read_only=read_only)
    duckdb.connect(str(path)).close()  # the refused store released the file


def test_a_failing_migration_is_rolled_back_and_named(tmp_path):
    path = tmp_path / "clash.duckdb"
    old_store(path)
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE aggregates (something VARCHAR)")  # in the way of migration 2
    con.close()
    with pytest.raises(DataError, match="could not upgrade the store to schema version 2"):
        SensorStore(path)
    con = duckdb.connect(str(path))
    assert con.execute("SELECT max(version) FROM schema_version").fetchall()[0][0] == 1  # migration 1 stays
    assert con.execute("SELECT count(*) FROM readings").fetchall()[0][0] == 2
    con.close()


# ------------------------------------------------------------------------------- audit clock
def test_audit_time_is_utc_now_whatever_duckdb_time_zone(tmp_path):
    with SensorStore(tmp_path / "s.duckdb") as store:
        store._con.execute("SET TimeZone = 'Asia/Kolkata'")  # UTC+05:30: a local cast would be 5.5 h off
        before = datetime.now(UTC).replace(tzinfo=None)
        store.record_audit("admin", "POST /x", "t", "d")
        after = datetime.now(UTC).replace(tzinfo=None)
        stamp = store.audit_log(1)["ts"].iloc[0].to_pydatetime()
    assert before <= stamp <= after


# ------------------------------------------------------------------------------- delete
def test_delete_readings_of_a_range_and_what_was_derived_from_them(tmp_path):
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(long_frame(n=100, freq="1min"))  # 00:00 .. 01:39
        store.append(long_frame(n=10, asset="B"))
        store.add_fills(pd.DataFrame({"ts": pd.to_datetime(["2024-01-01 00:30", "2024-01-01 01:30"]), "asset": "A",
                                      "signal": "x", "value": 1.0, "lower": 0.0, "upper": 2.0}))  # fmt: skip
        for i, (lo, hi) in enumerate([("00:20", "00:25"), ("00:55", "01:05")]):
            store.upsert_event({"id": f"e{i}", "asset": "A", "start_ts": pd.Timestamp(f"2024-01-01 {lo}"),
                                "end_ts": pd.Timestamp(f"2024-01-01 {hi}"), "peak_ts": pd.Timestamp(f"2024-01-01 {lo}"),
                                "peak_score": 1.0, "threshold": 0.5, "top_sensors": "x", "is_open": False})  # fmt: skip
        counts = store.delete_history("A", start="2024-01-01 00:10", end="2024-01-01 01:00")
        assert counts == {"readings": 100, "fills": 1, "events": 1, "aggregates": 0, "kept_partial_buckets": 0}
        left = store.read_long("A")
        assert not ((left["ts"] >= "2024-01-01 00:10") & (left["ts"] < "2024-01-01 01:00")).any()
        assert len(left) == 200 - 100 and store.count() == 100 + 20
        assert store.events("A")["id"].tolist() == ["e1"]  # reaches over the range's end: kept
        assert store.delete_readings("A") == 100 and store.count() == 20  # no range: all of A
        assert store.assets() == ["B"]


def test_delete_refuses_bad_names_and_empty_ranges(tmp_path):
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(long_frame(n=5))
        with pytest.raises(InvalidNameError, match="asset"):
            store.delete_readings("..")
        with pytest.raises(DataError, match="not before"):
            store.delete_readings("A", start="2024-01-02", end="2024-01-01")
        assert store.count() == 10


def test_delete_takes_aggregate_buckets_wholly_inside_the_range(tmp_path):
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(long_frame(n=240, freq="1min"))  # four hours
        store.downsample("2024-01-01 04:00", "1h")
        counts = store.delete_history("A", start="2024-01-01 00:30", end="2024-01-01 03:00")
        assert counts["aggregates"] == 2 * 2  # buckets 01:00 and 02:00, two signals
        assert counts["kept_partial_buckets"] == 2  # bucket 00:00 reaches before the range
        assert sorted(store.read_aggregates("A")["bucket"].dt.hour.unique()) == [0, 3]


# ------------------------------------------------------------------------------- downsample
def expected_buckets(frame: pd.DataFrame, before: str, freq: str) -> pd.DataFrame:
    old = frame[frame["ts"] < before]
    valid = old[old["quality"] > 0]
    grouped = valid.assign(bucket=valid["ts"].dt.floor(freq)).sort_values("ts").groupby(["signal", "bucket"])["value"]
    counts = old.assign(bucket=old["ts"].dt.floor(freq)).groupby(["signal", "bucket"]).size()
    return pd.DataFrame({"n_readings": counts, "n_valid": grouped.size(), "mean": grouped.mean(),
                         "std": grouped.std(ddof=0), "min": grouped.min(), "max": grouped.max(),
                         "first": grouped.first(), "last": grouped.last()})  # fmt: skip


def check_aggregates(store: SensorStore, frame: pd.DataFrame, before: str, freq: str) -> None:
    got = store.read_aggregates("A").set_index(["signal", "bucket"])
    want = expected_buckets(frame, before, freq)
    assert list(got.index) == list(want.index)
    for column in want.columns:
        np.testing.assert_allclose(got[column].to_numpy(float), want[column].to_numpy(float), rtol=1e-9, err_msg=column)


def test_downsample_folds_old_readings_into_exact_aggregates(tmp_path):
    frame = long_frame(n=12_000)  # five days at 37 s
    frame.loc[frame.index[7], "quality"] = 0.0  # counted, not summarised (read_wide hides it too)
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(frame)
        result = store.downsample("2024-01-03 12:34", "1h", chunk_buckets=7)
        assert result["before"] == "2024-01-03T12:00:00"  # whole buckets only
        raw_left = frame[frame["ts"] >= "2024-01-03 12:00"]
        assert result["readings_folded"] == len(frame) - len(raw_left) and result["chunks"] > 1
        assert store.count() == len(raw_left) and store.count() + store.count_aggregated() == len(frame)
        check_aggregates(store, frame, "2024-01-03 12:00", "1h")
        assert store.read_long("A")["ts"].min() >= pd.Timestamp("2024-01-03 12:00")
        again = store.downsample("2024-01-03 12:34", "1h")
        assert again["readings_folded"] == 0 and again["chunks"] == 0
        assert store.count() + store.count_aggregated() == len(frame)


def test_a_late_reading_merges_into_its_bucket(tmp_path):
    frame = long_frame(n=500, freq="30s")
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(frame)
        store.downsample("2024-01-01 03:00", "1h")
        late = pd.DataFrame({"ts": pd.to_datetime(["2023-12-31 23:59:59", "2024-01-01 00:10:01", "2024-01-01 01:59:59"]),
                             "asset": "A", "signal": ["x", "y", "x"], "value": [-50.0, 99.0, 7.0], "quality": 1.0})  # fmt: skip
        store.append(late)
        store.downsample("2024-01-01 03:00", "1h")
        both = pd.concat([frame, late], ignore_index=True)
        check_aggregates(store, both, "2024-01-01 03:00", "1h")
        assert store.count() + store.count_aggregated() == len(both)


def test_interval_parsing_names_the_bad_value():
    assert interval_seconds("1h") == 3600 and interval_seconds("15min") == 900 and interval_seconds(60) == 60
    for bad in ("fortnightly", "0s", "500ms"):
        with pytest.raises(DataError, match="interval"):
            interval_seconds(bad)


# ------------------------------------------------------------------------------- dead letters
def test_dead_letter_retention_by_age_and_count(tmp_path):
    now = datetime(2026, 6, 1)
    rows = [(now - timedelta(days=d), "mqtt", f"t/{d}", "bad", "{") for d in range(10)]
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.add_dead_letters(rows)
        assert store.prune_dead_letters(older_than=now - timedelta(days=6, hours=12)) == 3
        assert store.prune_dead_letters(max_rows=4) == 3
        assert store.dead_letters()["topic"].tolist() == ["t/0", "t/1", "t/2", "t/3"]  # the newest stay
        assert store.prune_dead_letters(older_than=now - timedelta(days=30), max_rows=4) == 0


def test_an_old_store_opened_read_only_can_be_backed_up_and_restored_upgraded(tmp_path):
    old_store(tmp_path / "old.duckdb")
    with SensorStore(tmp_path / "old.duckdb", read_only=True) as store:
        manifest = store.backup(tmp_path / "backup")
    assert manifest["schema_version"] == 0 and "aggregates" not in manifest["tables"]
    with SensorStore(tmp_path / "new.duckdb") as store:
        assert store.restore(tmp_path / "backup") == {"readings": 2, "dead_letters": 1, "events": 0, "fills": 1, "audit": 0}
        assert store.read_long("P-1")["value"].tolist() == [1.5, 2.5]


def test_downsample_stops_between_chunks_when_asked(tmp_path):
    stop = threading.Event()
    stop.set()
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(long_frame(n=100))
        result = store.downsample("2024-02-01", "1min", stop=stop)
        assert result["stopped"] and result["chunks"] == 0 and store.count() == 200


def test_events_keep_their_kind_and_old_callers_store_process_events(tmp_path):
    """Schema 3: security events share the events table (kind, attack, reason, source,
    detected_at); a process event written without those fields is kind 'process'."""
    base = {"asset": "P-1", "start_ts": pd.Timestamp("2026-01-05 10:00"), "end_ts": pd.Timestamp("2026-01-05 10:05"),
            "peak_ts": pd.Timestamp("2026-01-05 10:02"), "peak_score": 9.0, "threshold": 5.0,
            "top_sensors": "flow_m3h", "is_open": False}  # fmt: skip
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.upsert_event({**base, "id": "P-1@a"})
        store.upsert_event({**base, "id": "P-1@b/replay", "kind": "integrity", "attack": "replay",
                            "reason": "a repeat of 2026-01-04 10:00", "source": "plant/pumps/P-1|gw-1"})  # fmt: skip
        events = store.events("P-1").set_index("id")
        assert store.events("P-1", kinds=("integrity", "traffic"))["id"].tolist() == ["P-1@b/replay"]
        assert store.events(kinds=("process",))["id"].tolist() == ["P-1@a"]
    assert events.loc["P-1@a", "kind"] == "process" and pd.isna(events.loc["P-1@a", "attack"])
    assert events.loc["P-1@b/replay", "kind"] == "integrity" and events.loc["P-1@b/replay", "attack"] == "replay"
    assert events.loc["P-1@b/replay", "source"] == "plant/pumps/P-1|gw-1"
