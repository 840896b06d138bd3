"""``SensorStore``: the long table of readings in embedded DuckDB (one file, or ``":memory:"``).

The long table ``readings(ts, asset, signal, value, quality)`` is the storage truth: it takes
any mix of assets and signals without schema changes, and its primary key (asset, signal, ts)
makes appends idempotent, so replaying a batch (a re-sent MQTT message, a re-imported file)
never doubles data. Wide series are built on read. Every user value reaches SQL as a
parameter, never as SQL text.

Timestamps are stored as DuckDB ``TIMESTAMP`` (microsecond precision); naive, meant as UTC.
"""

from __future__ import annotations

import functools
import threading
from pathlib import Path
from typing import Self

import duckdb
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.io import long_to_series, normalize_long
from geniot.data.series import LONG_COLUMNS, SensorSeries

_SCHEMA = """
CREATE TABLE IF NOT EXISTS readings (
    ts TIMESTAMP NOT NULL,
    asset VARCHAR NOT NULL,
    signal VARCHAR NOT NULL,
    value DOUBLE,
    quality DOUBLE,
    PRIMARY KEY (asset, signal, ts)
)
"""
_SIDE_TABLES = """
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
_BATCH_VIEW = "geniot_append_batch"
EVENT_COLUMNS = ("id", "asset", "start_ts", "end_ts", "peak_ts", "peak_score", "threshold", "top_sensors", "is_open")


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
        if not read_only:
            self._con.execute(_SCHEMA)
            self._con.execute(_SIDE_TABLES)

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
        if rows:
            self._con.executemany("INSERT INTO dead_letters VALUES (?, ?, ?, ?, ?)", rows)

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
            "INSERT INTO audit VALUES (now()::TIMESTAMP, ?, ?, ?, ?)", [actor[:128], action[:128], target[:512], detail[:2048]]
        )

    @_locked
    def audit_log(self, limit: int = 100) -> pd.DataFrame:
        return self._con.execute("SELECT * FROM audit ORDER BY ts DESC LIMIT ?", [int(limit)]).df()

    @_locked
    def upsert_event(self, event: dict) -> None:
        """Insert or update one anomaly event (keyed by ``id``)."""
        self._con.execute(
            f"INSERT OR REPLACE INTO events VALUES ({', '.join('?' * len(EVENT_COLUMNS))})",
            [event[c] for c in EVENT_COLUMNS],
        )

    @_locked
    def events(self, asset: str | None = None, *, start=None, end=None, limit: int = 500) -> pd.DataFrame:
        """Anomaly events overlapping ``[start, end)``, newest first."""
        where, params = self._filters(asset=asset, start=start, end=end, signals=None, first="start_ts", last="end_ts")
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
        """Readings with ``start <= ts < end`` as a long frame, sorted by asset, signal, ts."""
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
        else are sorted by name."""
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
