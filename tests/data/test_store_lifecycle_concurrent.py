"""Lifecycle under load: backup and downsampling while a writer thread appends, a backup
round trip through restore, and kill -9 in the middle of downsampling. Real DuckDB files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data import SensorStore
from geniot.data.store import DATA_TABLES, MANIFEST

BATCH = 50  # readings per appended batch: a consistent snapshot holds whole batches only


def batch(i: int, *, start="2024-03-01", asset="A") -> pd.DataFrame:
    """Batch i: 25 timestamps x 2 signals, after every earlier batch."""
    times = pd.Timestamp(start) + pd.to_timedelta(np.arange(i * 25, (i + 1) * 25), unit="s")
    return pd.DataFrame({"ts": np.repeat(times, 2), "asset": asset, "signal": ["x", "y"] * 25,
                         "value": np.arange(BATCH, dtype=float) + i, "quality": 1.0})  # fmt: skip


class Appender(threading.Thread):
    """Appends batches until told to stop (at most ``limit``), counting what was stored."""

    def __init__(self, store: SensorStore, *, limit: int = 400, first: int = 0, make=batch) -> None:
        super().__init__(daemon=True)
        self.store, self.limit, self.first, self.make = store, limit, first, make
        self.stop = threading.Event()
        self.stored = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            for i in range(self.first, self.first + self.limit):
                if self.stop.is_set():
                    break
                self.stored += self.store.append_rows(self.make(i))
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            self.error = exc


def test_backup_while_appending_is_one_snapshot_and_restores(tmp_path):
    path = tmp_path / "plant.duckdb"
    with SensorStore(path) as store:
        store.append_rows(pd.concat([batch(i) for i in range(40)]))
        store.add_dead_letters([(pd.Timestamp("2024-03-01"), "mqtt", "t", "bad", "{")])
        store.record_audit("admin", "POST /api/ingest", "A")
        before = store.count()
        writer = Appender(store, first=40)
        writer.start()
        while writer.stored < 5 * BATCH and writer.is_alive():  # the writer is running
            time.sleep(0.01)
        manifest = store.backup(tmp_path / "backup")
        writer.stop.set()
        writer.join(60)
        assert writer.error is None and not writer.is_alive()
        total = store.count()
    assert total == before + writer.stored
    rows = manifest["tables"]["readings"]["rows"]
    assert before < rows <= total and rows % BATCH == 0  # whole batches: one snapshot
    on_disk = json.loads((tmp_path / "backup" / MANIFEST).read_text())
    assert on_disk == manifest and set(on_disk["tables"]) == set(DATA_TABLES)
    with SensorStore(tmp_path / "restored.duckdb") as copy:
        loaded = copy.restore(tmp_path / "backup")
        assert loaded == {t: info["rows"] for t, info in manifest["tables"].items()}
        assert copy.count() == rows and copy.count_dead_letters() == 1 and len(copy.audit_log()) == 1
        with SensorStore(path, read_only=True) as original:
            want = original.read_long("A", end=copy.read_long("A")["ts"].max() + pd.Timedelta("1us"))
        pd.testing.assert_frame_equal(copy.read_long("A"), want)


def test_restore_refuses_what_it_cannot_trust(tmp_path):
    with SensorStore(tmp_path / "a.duckdb") as store:
        store.append_rows(batch(0))
        store.backup(tmp_path / "b")
        with pytest.raises(DataError, match="not empty"):
            store.backup(tmp_path / "b")
        with pytest.raises(DataError, match="empty store"):
            store.restore(tmp_path / "b")
    manifest = json.loads((tmp_path / "b" / MANIFEST).read_text())
    manifest["tables"]["readings"]["rows"] += 1
    (tmp_path / "b" / MANIFEST).write_text(json.dumps(manifest))
    with SensorStore(tmp_path / "c.duckdb") as empty:
        with pytest.raises(DataError, match="manifest says"):
            empty.restore(tmp_path / "b")
        assert empty.count() == 0 and empty.count_dead_letters() == 0  # all or nothing
        manifest["schema_version"] = 999
        (tmp_path / "b" / MANIFEST).write_text(json.dumps(manifest))
        with pytest.raises(DataError, match="newer"):
            empty.restore(tmp_path / "b")
        with pytest.raises(DataError, match="manifest"):
            empty.restore(tmp_path / "nowhere")


def test_downsample_while_appending_loses_and_doubles_nothing(tmp_path):
    """The writer appends new readings and late ones for buckets being folded."""

    def mixed(i: int) -> pd.DataFrame:
        recent = batch(i, start="2024-06-01")
        late = batch(i, start="2024-01-01 00:00:00.5")  # half a second off: never an existing key
        return pd.concat([recent, late], ignore_index=True)

    with SensorStore(tmp_path / "plant.duckdb") as store:
        store.append_rows(pd.concat([batch(i, start="2024-01-01") for i in range(200)]))
        writer = Appender(store, limit=60, make=mixed)
        writer.start()
        folded = 0
        for _ in range(3):
            folded += store.downsample("2024-05-01", "5min", chunk_buckets=2)["readings_folded"]
        writer.join(120)
        assert writer.error is None and not writer.is_alive()
        folded += store.downsample("2024-05-01", "5min")["readings_folded"]
        appended = 200 * BATCH + writer.stored
        assert store.count() + store.count_aggregated() == appended
        assert store.count_aggregated() == folded == 200 * BATCH + writer.stored // 2
        assert store.read_long(end="2024-05-01").empty


_CHILD = textwrap.dedent("""
    import sys
    import pandas as pd
    from geniot.data import SensorStore
    with SensorStore(sys.argv[1]) as store:
        for k in range(1, 200):  # one chunk of two buckets per call, a line after each
            store.downsample(pd.Timestamp("2024-01-01") + pd.Timedelta(minutes=2 * k), "1min")
            print("chunk", k, flush=True)
    print("done", flush=True)
""")


def test_kill_9_mid_downsample_leaves_every_reading_raw_or_counted(tmp_path, after_chunks=3):
    path = tmp_path / "plant.duckdb"
    with SensorStore(path) as store:
        # 10,000 s of readings: 84 chunks of two one-minute buckets
        store.append_rows(pd.concat([batch(i, start="2024-01-01") for i in range(400)]))
        total = store.count()
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(path)], stdout=subprocess.PIPE, text=True)
    try:
        for _ in range(after_chunks):
            assert child.stdout.readline().startswith("chunk")
        os.kill(child.pid, signal.SIGKILL)  # while the next chunk's transaction runs
    finally:
        child.wait(60)
    assert child.returncode == -signal.SIGKILL
    with SensorStore(path) as store:
        raw, counted = store.count(), store.count_aggregated()
        assert raw + counted == total and counted >= after_chunks * 2 * 60 * 2
        aggregates = store.read_aggregates()
        assert (aggregates["n_readings"] == aggregates["n_valid"]).all()
        store.downsample("2024-06-01", "1min")  # finishing the interrupted run
        assert store.count() == 0 and store.count_aggregated() == total
        assert store.read_aggregates()["n_readings"].sum() == total
