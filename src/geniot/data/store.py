"""``SensorStore``: the long table of readings in embedded DuckDB (one file, or ``":memory:"``).

The long table ``readings(ts, asset, signal, value, quality)`` is the storage truth: it takes
any mix of assets and signals without schema changes, and its primary key (asset, signal, ts)
makes appends idempotent, so replaying a batch (a re-sent MQTT message, a re-imported file)
never doubles data. Wide series are built on read. Every user value reaches SQL as a
parameter, never as SQL text.

Timestamps are stored as DuckDB ``TIMESTAMP`` (microsecond precision); naive, meant as UTC.

Lifecycle: the schema carries a version (table ``schema_version``); opening a store applies the
migrations it lacks, one transaction each, and refuses a store written by a newer geniot.
Raw readings older than a retention limit can be folded into ``aggregates`` (one row per asset,
signal and time bucket) by :meth:`SensorStore.downsample`, which deletes exactly the readings it
counted in the same transaction. :meth:`SensorStore.backup` writes every table to Parquet from
one snapshot while writers go on; :meth:`SensorStore.restore` loads such a backup into an empty
store.
"""

from __future__ import annotations

import functools
import json
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import duckdb
import pandas as pd

from geniot import __version__
from geniot.core.exceptions import DataError
from geniot.core.names import check_name
from geniot.data.io import long_to_series, normalize_long
from geniot.data.series import LONG_COLUMNS, SensorSeries

# Version 1 is the schema of the releases before versioning (readings and side tables); IF NOT
# EXISTS lets it adopt such a store as it is (an older one may lack the audit table).
_V1 = """
CREATE TABLE IF NOT EXISTS readings (
    ts TIMESTAMP NOT NULL,
    asset VARCHAR NOT NULL,
    signal VARCHAR NOT NULL,
    value DOUBLE,
    quality DOUBLE,
    PRIMARY KEY (asset, signal, ts)
);
CREATE TABLE IF NOT EXISTS dead_letters (
    received TIMESTAMP NOT NULL, source VARCHAR, topic VARCHAR, reason VARCHAR, payload VARCHAR
);
CREATE TABLE IF NOT EXISTS events (
    id VARCHAR PRIMARY KEY, asset VARCHAR NOT NULL, start_ts TIMESTAMP NOT NULL, end_ts TIMESTAMP NOT NULL,
    peak_ts TIMESTAMP NOT NULL, peak_score DOUBLE, threshold DOUBLE, top_sensors VARCHAR, is_open BOOLEAN
);
CREATE TABLE IF NOT EXISTS audit (
    ts TIMESTAMP NOT NULL, actor VARCHAR NOT NULL, action VARCHAR NOT NULL, target VARCHAR, detail VARCHAR
);
CREATE TABLE IF NOT EXISTS fills (
    ts TIMESTAMP NOT NULL, asset VARCHAR NOT NULL, signal VARCHAR NOT NULL, value DOUBLE, lower DOUBLE,
    upper DOUBLE, PRIMARY KEY (asset, signal, ts)
);
"""
# Downsampled history: one row per (asset, signal, bucket length, bucket start). n_readings counts
# every raw reading folded in; the statistics cover the n_valid ones (a value, quality > 0 or
# none), the ones read_wide shows. m2 (sum of squared deviations) lets buckets merge exactly.
_V2 = """
CREATE TABLE aggregates (
    bucket TIMESTAMP NOT NULL, interval_s BIGINT NOT NULL, asset VARCHAR NOT NULL, signal VARCHAR NOT NULL,
    n_readings BIGINT NOT NULL, n_valid BIGINT NOT NULL, mean DOUBLE, m2 DOUBLE,
    value_min DOUBLE, value_max DOUBLE, value_first DOUBLE, first_ts TIMESTAMP, value_last DOUBLE, last_ts TIMESTAMP,
    PRIMARY KEY (asset, signal, interval_s, bucket)
);
"""
# Ordered; a released migration is never edited, a change of schema is a new entry.
# Security events (geniot.security) share the events table: kind process | integrity | traffic,
# the attack type, the reason in words, the stream (topic|publisher) and when it was detected.
_V3 = """
ALTER TABLE events ADD COLUMN kind VARCHAR DEFAULT 'process';
ALTER TABLE events ADD COLUMN attack VARCHAR;
ALTER TABLE events ADD COLUMN reason VARCHAR;
ALTER TABLE events ADD COLUMN source VARCHAR;
ALTER TABLE events ADD COLUMN detected_at TIMESTAMP;
"""
MIGRATIONS: tuple[tuple[int, str, str], ...] = (
    (1, "readings, dead letters, events, audit, fills", _V1),
    (2, "aggregates of downsampled readings", _V2),
    (3, "events: kind, attack, reason, source, detected_at (security events)", _V3),
)
SCHEMA_VERSION = MIGRATIONS[-1][0]
_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY, description VARCHAR, applied TIMESTAMP NOT NULL, geniot VARCHAR
)
"""
# What a backup holds, in restore order (schema_version is in the manifest instead).
DATA_TABLES = ("readings", "aggregates", "dead_letters", "events", "fills", "audit")
MANIFEST = "manifest.json"
_VALID = "(value IS NOT NULL AND (quality IS NULL OR quality > 0))"
_AGGREGATE_COLUMNS = ("bucket", "interval_s", "asset", "signal", "n_readings", "n_valid", "mean", "std", "min", "max",
                      "first", "first_ts", "last", "last_ts")
# Fold readings before a time into aggregate rows; a bucket already there (a late reading) is
# merged: counts add, mean and m2 combine (Chan et al.), first/last by their times.
_FOLD_SQL = f"""
INSERT INTO aggregates
SELECT time_bucket(to_seconds(?), ts) AS bucket, ? AS interval_s, asset, signal,
       count(*) AS n_readings, count(*) FILTER ({_VALID}) AS n_valid,
       avg(value) FILTER ({_VALID}) AS mean,
       var_pop(value) FILTER ({_VALID}) * count(*) FILTER ({_VALID}) AS m2,
       min(value) FILTER ({_VALID}), max(value) FILTER ({_VALID}),
       arg_min(value, ts) FILTER ({_VALID}), min(ts) FILTER ({_VALID}),
       arg_max(value, ts) FILTER ({_VALID}), max(ts) FILTER ({_VALID})
FROM readings WHERE ts < ?
GROUP BY ALL
ON CONFLICT (asset, signal, interval_s, bucket) DO UPDATE SET
    n_readings = aggregates.n_readings + excluded.n_readings,
    n_valid = aggregates.n_valid + excluded.n_valid,
    mean = CASE WHEN aggregates.n_valid = 0 THEN excluded.mean WHEN excluded.n_valid = 0 THEN aggregates.mean
                ELSE (aggregates.mean * aggregates.n_valid + excluded.mean * excluded.n_valid)
                     / (aggregates.n_valid + excluded.n_valid) END,
    m2 = CASE WHEN aggregates.n_valid = 0 THEN excluded.m2 WHEN excluded.n_valid = 0 THEN aggregates.m2
              ELSE aggregates.m2 + excluded.m2 + (excluded.mean - aggregates.mean) ^ 2
                   * aggregates.n_valid * excluded.n_valid / (aggregates.n_valid + excluded.n_valid) END,
    value_min = least(aggregates.value_min, excluded.value_min),
    value_max = greatest(aggregates.value_max, excluded.value_max),
    value_first = CASE WHEN aggregates.first_ts IS NULL OR excluded.first_ts < aggregates.first_ts
                       THEN excluded.value_first ELSE aggregates.value_first END,
    first_ts = least(aggregates.first_ts, excluded.first_ts),
    value_last = CASE WHEN aggregates.last_ts IS NULL OR excluded.last_ts > aggregates.last_ts
                      THEN excluded.value_last ELSE aggregates.value_last END,
    last_ts = greatest(aggregates.last_ts, excluded.last_ts)
"""
_BATCH_VIEW = "geniot_append_batch"
EVENT_COLUMNS = ("id", "asset", "start_ts", "end_ts", "peak_ts", "peak_score", "threshold", "top_sensors", "is_open",
                 "kind", "attack", "reason", "source", "detected_at")  # fmt: skip
_EVENT_DEFAULTS = {"kind": "process", "attack": None, "reason": None, "source": None, "detected_at": None}


def _locked(method):
    """Serialise use of the one DuckDB connection across threads (ingest, scoring, API)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper


def _param_time(value) -> pd.Timestamp:
    """A naive UTC timestamp, the way readings are stored."""
    stamp = pd.Timestamp(value)
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tz is not None else stamp


def _utc_now() -> datetime:
    """Now as naive UTC, from Python: DuckDB's now() is the transaction's start and becomes local
    time when cast to TIMESTAMP under a non-UTC TimeZone setting."""
    return datetime.now(UTC).replace(tzinfo=None)


def interval_seconds(value) -> int:
    """A bucket length ("1h", "15min", "1d", a Timedelta or seconds) as whole seconds (>= 1)."""
    try:
        delta = pd.Timedelta(value, unit="s") if isinstance(value, int | float) else pd.Timedelta(value)
    except (ValueError, TypeError):
        raise DataError(f"downsample interval {value!r} is not a duration (e.g. '1h', '15min', '1d')") from None
    seconds = delta.total_seconds()
    if pd.isna(seconds) or seconds < 1 or seconds != int(seconds):
        raise DataError(f"downsample interval {value!r} must be a whole number of seconds, at least 1")
    return int(seconds)


def _signal_list(signals) -> list[str] | None:
    if signals is None:
        return None
    return [signals] if isinstance(signals, str) else [str(s) for s in signals]


class SensorStore:
    """Readings of many assets in one DuckDB database.

    Use as a context manager (or call :meth:`close`) so that the file is released.
    """

    def __init__(self, path: str | Path = ":memory:", *, read_only: bool = False) -> None:
        self.path = str(path)
        if read_only and not Path(self.path).is_file():
            raise DataError(f"no store at {self.path}")
        # read_only: DuckDB itself refuses every write (what question answering needs).
        self._con = duckdb.connect(self.path, read_only=read_only)
        self._lock = threading.RLock()
        self.event_listeners: list[Callable[[dict], None]] = []  # told of every upserted event (the SIEM feed)
        try:
            self.schema_version = self._stored_version()
            if self.schema_version > SCHEMA_VERSION:
                raise DataError(
                    f"the store has schema version {self.schema_version}, newer than this geniot "
                    f"({__version__}) knows (up to {SCHEMA_VERSION}): upgrade geniot to open it",
                    file=self.path,
                )
            if not read_only:
                self._migrate()
        except BaseException:
            self._con.close()
            raise

    # ------------------------------------------------------------------------------- schema
    def _has_table(self, name: str) -> bool:
        return bool(self._row(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'main' AND table_name = ?", [name]
        )[0])

    def _stored_version(self) -> int:
        """0 for a store from before versioning (or a new one)."""
        if not self._has_table("schema_version"):
            return 0
        return int(self._row("SELECT coalesce(max(version), 0) FROM schema_version")[0])

    def _migrate(self) -> None:
        """Apply the migrations the store lacks, in order, each in one transaction with its
        version row: an interrupted upgrade leaves the store at the last complete version."""
        self._con.execute(_VERSION_TABLE)
        for version, description, ddl in MIGRATIONS:
            if version <= self.schema_version:
                continue
            self._con.begin()
            try:
                self._con.execute(ddl)
                self._con.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?, ?)", [version, description, _utc_now(), __version__]
                )
                self._con.commit()
            except BaseException as exc:
                self._con.rollback()
                raise DataError(f"could not upgrade the store to schema version {version} ({description}): {exc}",
                                file=self.path) from exc
            self.schema_version = version

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    @_locked
    def close(self) -> None:
        self._con.close()

    def __repr__(self) -> str:
        return f"SensorStore({self.path!r})"

    # ------------------------------------------------------------------------------- writing
    @_locked
    def append(self, data: SensorSeries | pd.DataFrame, *, asset: str | None = None) -> int:
        """Add readings and return how many were new.

        ``data`` is a SensorSeries (its ``asset``, or ``asset=``) or a long frame. Readings
        already stored (same asset, signal and ts) are skipped, so appending twice is harmless;
        within one batch the first of several equal keys wins. Gaps (NaN values) are not stored.
        The whole batch goes in one transaction: either all new rows are stored or none.
        """
        return self._insert(self._as_batch(data, asset=asset))

    @_locked
    def append_rows(self, frame: pd.DataFrame) -> int:
        """Add already validated long rows (ts, asset, signal, value, quality) as one transaction
        and return how many were new (the ingest path: parsing has checked every field)."""
        return self._insert(frame)

    def _insert(self, frame: pd.DataFrame) -> int:
        """One transaction; the first of equal keys in the batch wins, stored keys are skipped."""
        con = self._con
        con.begin()
        try:
            con.register(_BATCH_VIEW, frame)
            # DuckDB answers an INSERT with the number of rows it inserted (conflicts excluded).
            inserted = int(con.execute(
                f"INSERT INTO readings SELECT DISTINCT ON (asset, signal, ts) ts, asset, signal, value, quality "
                f"FROM {_BATCH_VIEW} ON CONFLICT DO NOTHING"
            ).fetchall()[0][0])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        finally:
            con.unregister(_BATCH_VIEW)
        return inserted

    @_locked
    def add_dead_letters(self, rows: list[tuple]) -> None:
        """(received, source, topic, reason, payload) rows of rejected messages."""
        if rows:  # one INSERT from a frame: executemany costs ~3 ms a row, too slow for a flood
            frame = pd.DataFrame(rows, columns=["received", "source", "topic", "reason", "payload"])
            self._con.register(_BATCH_VIEW, frame)
            try:
                self._con.execute(f"INSERT INTO dead_letters SELECT received, source, topic, reason, payload FROM {_BATCH_VIEW}")
            finally:
                self._con.unregister(_BATCH_VIEW)

    @_locked
    def dead_letters(self, limit: int = 100) -> pd.DataFrame:
        return self._con.execute(
            "SELECT * FROM dead_letters ORDER BY received DESC LIMIT ?", [int(limit)]
        ).df()

    @_locked
    def count_dead_letters(self) -> int:
        return int(self._row("SELECT count(*) FROM dead_letters")[0])

    @_locked
    def record_audit(self, actor: str, action: str, target: str = "", detail: str = "") -> None:
        """Keep one write (who, what, on what, when) in the audit table."""
        self._con.execute(
            "INSERT INTO audit VALUES (?, ?, ?, ?, ?)", [_utc_now(), actor[:128], action[:128], target[:512], detail[:2048]]
        )

    @_locked
    def audit_log(self, limit: int = 100) -> pd.DataFrame:
        return self._con.execute("SELECT * FROM audit ORDER BY ts DESC LIMIT ?", [int(limit)]).df()

    @_locked
    def upsert_event(self, event: dict) -> None:
        """Insert or update one event (keyed by ``id``); a process event may leave out the
        security fields (kind defaults to ``process``)."""
        self._con.execute(
            f"INSERT OR REPLACE INTO events ({', '.join(EVENT_COLUMNS)}) VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            [event[c] if c not in _EVENT_DEFAULTS else event.get(c, _EVENT_DEFAULTS[c]) for c in EVENT_COLUMNS],
        )
        for listener in self.event_listeners:
            listener(event)

    @_locked
    def events(
        self, asset: str | None = None, *, start=None, end=None, limit: int = 500, kinds: tuple[str, ...] | None = None
    ) -> pd.DataFrame:
        """Events overlapping ``[start, end)``, newest first; ``kinds`` keeps only those kinds
        (process, integrity, traffic; a store before schema 3 holds process events only)."""
        where, params = self._filters(asset=asset, start=start, end=end, signals=None, first="start_ts", last="end_ts")
        if kinds is not None:
            if self.schema_version >= 3:
                where = f"{where} {'AND' if where else 'WHERE'} list_contains(?, coalesce(kind, 'process'))"
                params.append([str(k) for k in kinds])
            elif "process" not in kinds:
                limit = 0
        return self._con.execute(
            f"SELECT * FROM events {where} ORDER BY start_ts DESC LIMIT ?", [*params, int(limit)]
        ).df()

    @_locked
    def add_fills(self, frame: pd.DataFrame) -> None:
        """Live gap fills: (ts, asset, signal, value, lower, upper); a later fill replaces one."""
        if len(frame):
            self._con.register("geniot_fills_batch", frame)
            try:
                self._con.execute("INSERT OR REPLACE INTO fills SELECT ts, asset, signal, value, lower, upper FROM geniot_fills_batch")
            finally:
                self._con.unregister("geniot_fills_batch")

    @_locked
    def fills(self, asset: str, *, start=None, end=None) -> pd.DataFrame:
        where, params = self._filters(asset=asset, start=start, end=end, signals=None)
        return self._con.execute(f"SELECT * FROM fills {where} ORDER BY signal, ts", params).df()

    @staticmethod
    def _as_batch(data, *, asset: str | None) -> pd.DataFrame:
        if isinstance(data, SensorSeries):
            name = asset if asset is not None else data.asset
            if name is None:
                raise DataError("the series has no asset name; pass asset=...", file=data.source)
            long = data.to_long().assign(asset=name)
        elif isinstance(data, pd.DataFrame):
            long = normalize_long(data, asset=asset)
            if asset is not None:
                long = long.assign(asset=asset)
        else:
            raise TypeError(f"append takes a SensorSeries or a long DataFrame, got {type(data)}")
        long = long[long["value"].notna()]
        # The last gate for names from files and frames (ingest checks its own at the door).
        for kind in ("asset", "signal"):
            for value in pd.unique(long[kind]):
                check_name(value, kind)
        return long.drop_duplicates(["asset", "signal", "ts"]).reset_index(drop=True)

    # ------------------------------------------------------------------------------- reading
    @_locked
    def count_events(self) -> int:
        return int(self._row("SELECT count(*) FROM events")[0])

    @_locked
    def count(self) -> int:
        """Number of stored readings."""
        return int(self._row("SELECT count(*) FROM readings")[0])

    @_locked
    def assets(self) -> list[str]:
        rows = self._con.execute("SELECT DISTINCT asset FROM readings ORDER BY asset").fetchall()
        return [r[0] for r in rows]

    @_locked
    def signals(self, asset: str) -> list[str]:
        self._require_asset(asset)
        rows = self._con.execute(
            "SELECT DISTINCT signal FROM readings WHERE asset = ? ORDER BY signal", [asset]
        ).fetchall()
        return [r[0] for r in rows]

    @_locked
    def time_range(self, asset: str) -> tuple[pd.Timestamp, pd.Timestamp]:
        """First and last timestamp stored for ``asset``."""
        self._require_asset(asset)
        lo, hi = self._row("SELECT min(ts), max(ts) FROM readings WHERE asset = ?", [asset])
        return pd.Timestamp(lo), pd.Timestamp(hi)

    @_locked
    def read_long(
        self, asset: str | None = None, *, start=None, end=None, signals=None
    ) -> pd.DataFrame:
        """Raw readings with ``start <= ts < end`` as a long frame, sorted by asset, signal, ts.

        History older than the retention limit lives in aggregates once downsampled (see
        :meth:`downsample` and :meth:`read_aggregates`), not here."""
        where, params = self._filters(asset=asset, start=start, end=end, signals=signals)
        frame = self._con.execute(
            f"SELECT ts, asset, signal, value, quality FROM readings {where} "
            "ORDER BY asset, signal, ts",
            params,
        ).df()
        frame["ts"] = frame["ts"].astype("datetime64[ns]")
        return frame[list(LONG_COLUMNS)]

    @_locked
    def read_wide(self, asset: str, *, start=None, end=None, signals=None) -> SensorSeries:
        """One asset as a SensorSeries on the union of its timestamps (NaN where a signal has
        no reading, or a reading with quality <= 0). Channels follow ``signals`` when given,
        else are sorted by name. Raw readings only: downsampled history is in
        :meth:`read_aggregates`."""
        self._require_asset(asset)
        signals = _signal_list(signals)
        if signals is not None:
            missing = sorted(set(signals) - set(self.signals(asset)))
            if missing:
                raise DataError(f"asset {asset!r} has no signals {missing}", file=self.path)
        long = self.read_long(asset, start=start, end=end, signals=signals)
        if long.empty:
            raise DataError(
                f"asset {asset!r} has no readings between {start} and {end}", file=self.path
            )
        if signals is not None:  # order of appearance decides the channel order
            order = {s: i for i, s in enumerate(signals)}
            long = long.sort_values("signal", key=lambda s: s.map(order), kind="stable")
        return long_to_series(long, asset, source=self.path)

    # ------------------------------------------------------------------------------- lifecycle
    @_locked
    def delete_readings(self, asset: str, start=None, end=None) -> int:
        """Delete the readings of ``asset`` with ``start <= ts < end`` (all of them when both are
        None) and return how many; see :meth:`delete_history` for what else goes with them."""
        return self.delete_history(asset, start=start, end=end)["readings"]

    @_locked
    def delete_history(self, asset: str, start=None, end=None) -> dict[str, int]:
        """Delete what the store holds of ``asset`` in ``[start, end)``, in one transaction, and
        return the rows deleted per table.

        With the readings go what was derived from them: the live gap fills in the range, the
        anomaly events lying wholly inside it and the aggregate buckets lying wholly inside it.
        An event or a bucket that reaches outside the range also covers readings that stay, so
        it is kept (``kept_partial_buckets`` says how many buckets overlap the range and stay).
        Dead letters and the audit table are not touched.
        """
        check_name(asset, "asset")
        lo = None if start is None else _param_time(start)
        hi = None if end is None else _param_time(end)
        if lo is not None and hi is not None and lo >= hi:
            raise DataError(f"start {lo} is not before end {hi}", file=self.path)

        def within(first: str, last: str) -> tuple[str, list]:
            clauses, params = ["asset = ?"], [asset]
            if lo is not None:
                clauses.append(f"{first} >= ?")
                params.append(lo)
            if hi is not None:
                clauses.append(f"{last} < ?")
                params.append(hi)
            return " AND ".join(clauses), params

        bucket_end = "bucket + to_seconds(interval_s)"
        con = self._con
        con.begin()
        try:
            counts = {}
            for table, (first, last) in {"readings": ("ts", "ts"), "fills": ("ts", "ts"),
                                         "events": ("start_ts", "end_ts")}.items():  # fmt: skip
                where, params = within(first, last)
                counts[table] = int(con.execute(f"DELETE FROM {table} WHERE {where}", params).fetchall()[0][0])
            # a bucket [bucket, bucket_end) is wholly inside when bucket >= lo and bucket_end <= hi
            where, params = within("bucket", f"{bucket_end} - INTERVAL 1 MICROSECOND")
            counts["aggregates"] = int(con.execute(f"DELETE FROM aggregates WHERE {where}", params).fetchall()[0][0])
            # what is left that overlaps the range: buckets reaching over its edges
            where, params = within(bucket_end + " - INTERVAL 1 MICROSECOND", "bucket")
            counts["kept_partial_buckets"] = int(con.execute(f"SELECT count(*) FROM aggregates WHERE {where}", params).fetchall()[0][0])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return counts

    def has_asset(self, asset: str) -> bool:
        """Whether anything of ``asset`` is stored, raw or downsampled."""
        with self._lock:
            return bool(self._row(
                "SELECT (SELECT count(*) FROM (SELECT 1 FROM readings WHERE asset = ? LIMIT 1))"
                " + (SELECT count(*) FROM (SELECT 1 FROM aggregates WHERE asset = ? LIMIT 1))", [asset, asset]
            )[0])

    def downsample(self, before, interval="1h", *, chunk_buckets: int | None = None,
                   stop: threading.Event | None = None) -> dict:
        """Fold the raw readings older than ``before`` into ``aggregates`` and delete them.

        ``before`` is rounded down to the bucket grid (buckets of ``interval`` from DuckDB's
        ``time_bucket`` origin), so only whole buckets are folded. Work goes oldest first in
        chunks of ``chunk_buckets`` buckets (a day's worth by default), each one transaction that
        inserts (or merges into) the aggregate rows and deletes exactly the readings it counted,
        and that checks the two numbers agree: a reading is either raw or counted in an
        aggregate, never both and never neither, also if the process is killed mid-run. Between
        chunks the store is free for writers. A reading that arrives late for a folded bucket is
        merged into it on the next run. Running it again is a no-op. When ``stop`` is set, it
        returns after the current chunk with ``"stopped": True`` (the rest waits for a next run).
        """
        seconds = interval_seconds(interval)
        step = chunk_buckets or max(1, -(-86_400 // seconds))
        with self._lock:
            cutoff = self._row("SELECT time_bucket(to_seconds(?), ?::TIMESTAMP)", [seconds, _param_time(before)])[0]
        result = {"before": pd.Timestamp(cutoff).isoformat(), "interval_s": seconds, "readings_folded": 0,
                  "buckets_written": 0, "chunks": 0, "stopped": False}  # fmt: skip
        while True:
            if stop is not None and stop.is_set():
                result["stopped"] = True
                return result
            with self._lock:
                oldest = self._row("SELECT min(ts) FROM readings WHERE ts < ?", [cutoff])[0]
                if oldest is None:
                    return result
                folded, buckets = self._fold_chunk(oldest, cutoff, seconds, step)
            result["readings_folded"] += folded
            result["buckets_written"] += buckets
            result["chunks"] += 1

    def _fold_chunk(self, oldest, cutoff, seconds: int, step: int) -> tuple[int, int]:
        con = self._con
        con.begin()
        try:
            chunk_end = con.execute(
                "SELECT least(time_bucket(to_seconds(?), ?::TIMESTAMP) + to_seconds(?), ?::TIMESTAMP)",
                [seconds, oldest, seconds * step, cutoff],
            ).fetchall()[0][0]
            expected = int(con.execute("SELECT count(*) FROM readings WHERE ts < ?", [chunk_end]).fetchall()[0][0])
            buckets = int(con.execute(_FOLD_SQL, [seconds, seconds, chunk_end]).fetchall()[0][0])
            deleted = int(con.execute("DELETE FROM readings WHERE ts < ?", [chunk_end]).fetchall()[0][0])
            if deleted != expected:
                raise DataError(f"downsampling before {chunk_end}: counted {expected} readings but deleted {deleted}",
                                file=self.path)
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return expected, buckets

    @_locked
    def read_aggregates(self, asset: str | None = None, *, start=None, end=None, signals=None,
                        interval=None) -> pd.DataFrame:
        """Downsampled history (what :meth:`downsample` folded): one row per asset, signal and
        bucket whose start is in ``[start, end)``, with ``n_readings`` (raw readings folded in),
        ``n_valid`` (those with a value and quality > 0 or none, which the statistics cover),
        mean, std (population), min, max, first and last value and their times."""
        if not self._has_table("aggregates"):  # a read-only store from before version 2
            return pd.DataFrame(columns=list(_AGGREGATE_COLUMNS))
        where, params = self._filters(asset=asset, start=start, end=end, signals=signals, first="bucket", last="bucket")
        if interval is not None:
            where = (where + " AND " if where else "WHERE ") + "interval_s = ?"
            params.append(interval_seconds(interval))
        frame = self._con.execute(
            "SELECT bucket, interval_s, asset, signal, n_readings, n_valid, mean, "
            "CASE WHEN n_valid > 0 THEN sqrt(greatest(m2, 0) / n_valid) END AS std, value_min AS min, "
            "value_max AS max, value_first AS first, first_ts, value_last AS last, last_ts "
            f"FROM aggregates {where} ORDER BY asset, signal, interval_s, bucket",
            params,
        ).df()
        return frame[list(_AGGREGATE_COLUMNS)]

    @_locked
    def count_aggregated(self) -> int:
        """Raw readings folded into aggregates so far."""
        if not self._has_table("aggregates"):
            return 0
        return int(self._row("SELECT coalesce(sum(n_readings), 0) FROM aggregates")[0])

    @_locked
    def prune_dead_letters(self, *, older_than=None, max_rows: int | None = None) -> int:
        """Delete dead letters received before ``older_than`` and, beyond that, all but the
        newest ``max_rows``; one transaction; returns how many went."""
        con = self._con
        con.begin()
        try:
            deleted = 0
            if older_than is not None:
                deleted += int(con.execute(
                    "DELETE FROM dead_letters WHERE received < ?", [_param_time(older_than)]
                ).fetchall()[0][0])
            if max_rows is not None:
                deleted += int(con.execute(
                    "DELETE FROM dead_letters WHERE rowid IN (SELECT rowid FROM dead_letters "
                    "ORDER BY received DESC, rowid DESC OFFSET ?)", [max(0, int(max_rows))]
                ).fetchall()[0][0])
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return deleted

    def backup(self, folder: str | Path) -> dict:
        """Write every table to ``folder/<table>.parquet`` from one snapshot, then
        ``manifest.json`` (schema version, row counts); return the manifest.

        Online: the copy runs on its own DuckDB connection in one read transaction, so writers
        go on appending while it runs and the backup is exactly the store at its start. The
        folder must be new or empty; a folder without ``manifest.json`` is not a complete backup.
        Each file's row count is read back and checked against the snapshot.
        """
        folder = Path(folder)
        if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
            raise DataError(f"backup folder {folder} exists and is not empty")
        folder.mkdir(parents=True, exist_ok=True)
        with self._lock:
            cursor = self._con.cursor()
        tables = {}
        try:
            cursor.begin()
            present = {r[0] for r in cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()}
            version = self.schema_version  # a read-only store from before a migration lacks its tables
            taken = _utc_now()
            for table in (t for t in DATA_TABLES if t in present):
                target = folder / f"{table}.parquet"
                rows = int(cursor.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0])
                cursor.execute(f"COPY (SELECT * FROM {table}) TO ? (FORMAT parquet)", [str(target)])
                tables[table] = {"file": target.name, "rows": rows}
            cursor.commit()
            for table, info in tables.items():
                written = int(cursor.execute("SELECT count(*) FROM read_parquet(?)", [str(folder / info["file"])]).fetchall()[0][0])
                if written != info["rows"]:
                    raise DataError(f"backup of {table}: {written} rows in the file, {info['rows']} in the store",
                                    file=str(folder / info["file"]))
        finally:
            cursor.close()
        manifest = {"format": "geniot-backup", "schema_version": version, "geniot": __version__,
                    "taken": taken.isoformat() + "Z", "store": self.path, "tables": tables}  # fmt: skip
        partial = folder / (MANIFEST + ".partial")
        partial.write_text(json.dumps(manifest, indent=2))
        os.replace(partial, folder / MANIFEST)
        return manifest

    @_locked
    def restore(self, folder: str | Path) -> dict[str, int]:
        """Load a :meth:`backup` folder into this store, which must hold no rows; one transaction,
        each table's row count checked against the manifest; returns the rows loaded per table."""
        folder = Path(folder)
        try:
            manifest = json.loads((folder / MANIFEST).read_text())
            version, listed = int(manifest["schema_version"]), manifest["tables"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DataError(f"not a complete geniot backup ({MANIFEST} missing or unreadable): {exc}", file=str(folder)) from None
        if version > SCHEMA_VERSION:
            raise DataError(f"the backup has schema version {version}, newer than this geniot knows ({SCHEMA_VERSION})",
                            file=str(folder))
        unknown = sorted(set(listed) - set(DATA_TABLES))
        if unknown:
            raise DataError(f"the backup lists tables this geniot does not know: {unknown}", file=str(folder))
        held = {t: n for t in DATA_TABLES if (n := int(self._row(f"SELECT count(*) FROM {t}")[0]))}
        if held:
            raise DataError(f"restore needs an empty store; it holds {held}", file=self.path)
        con = self._con
        loaded = {}
        con.begin()
        try:
            for table in DATA_TABLES:  # fixed names and order; files only as listed by the manifest
                if table not in listed:
                    continue
                source = folder / f"{table}.parquet"
                if not source.is_file():
                    raise DataError(f"the backup lacks {source.name}", file=str(folder))
                n = int(con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM read_parquet(?)", [str(source)]).fetchall()[0][0])
                if n != int(listed[table]["rows"]):
                    raise DataError(f"{source.name} has {n} rows, the manifest says {listed[table]['rows']}", file=str(folder))
                loaded[table] = n
            con.commit()
        except BaseException:
            con.rollback()
            raise
        return loaded

    def _row(self, sql: str, params: list | None = None) -> tuple:
        """The single row of a query. fetchall, not fetchone: DuckDB 2 refuses further work on a
        connection while a result is only partly fetched."""
        return self._con.execute(sql, params or []).fetchall()[0]

    def _require_asset(self, asset: str) -> None:
        if (
            self._row(
                "SELECT count(*) FROM (SELECT 1 FROM readings WHERE asset = ? LIMIT 1)", [asset]
            )[0]
            == 0
        ):
            raise DataError(
                f"unknown asset {asset!r}; the store has {self.assets()}", file=self.path
            )

    @staticmethod
    def _filters(*, asset, start, end, signals, first: str = "ts", last: str = "ts") -> tuple[str, list]:
        """A WHERE clause built from fixed fragments, with every user value as a parameter.
        Rows spanning ``first``..``last`` (events) match when they overlap ``[start, end)``."""
        clauses, params = [], []
        if asset is not None:
            clauses.append("asset = ?")
            params.append(asset)
        if start is not None:
            clauses.append(f"{last} >= ?")
            params.append(_param_time(start))
        if end is not None:
            clauses.append(f"{first} < ?")
            params.append(_param_time(end))
        if signals is not None:
            clauses.append("list_contains(?, signal)")
            params.append(_signal_list(signals))
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params
