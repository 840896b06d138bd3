"""Files into the embedded store and back out (``geniot import`` / ``geniot export-data``).

A user's own CSV or Parquet files (or a folder of them, one per asset) go into a DuckDB store so
that ``geniot ask``, ``serve``, ``fleet`` and ``fl`` work on them; readings come back out as a
file, wide or long, optionally in the layout of a file the user already has (``like``).
Every asset name passes the one name rule; signal names were made valid when the file was read.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.core.names import InvalidNameError, check_name
from geniot.data.io import DataRead, read_data, write_frame, write_table
from geniot.data.layout import FileLayout
from geniot.data.series import SensorSeries
from geniot.data.store import SensorStore

AUDIT_ACTOR = "cli"


@dataclass(frozen=True)
class ImportResult:
    """Per asset: (readings offered, readings new to the store); plus what the store cannot keep."""

    store: str
    assets: dict[str, tuple[int, int]]
    read: DataRead | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def new(self) -> int:
        return sum(new for _, new in self.assets.values())

    def lines(self) -> list[str]:
        out = [f"{name}: {new} new readings of {offered} ({offered - new} already stored)" for name, (offered, new) in self.assets.items()]
        return out + [f"note: {n}" for n in self.notes]


def _open(path: Path, *, read_only: bool = False) -> SensorStore:
    try:
        return SensorStore(path, read_only=read_only)
    except duckdb.IOException as exc:
        raise DataError(f"the store cannot be opened (is another geniot process, e.g. `geniot serve`, using it?): {exc}", file=str(path)) from None


def _asset_name(name: str, *, given: str | None, data: Path) -> str:
    """The asset name by the name rule; a file name that breaks it asks for --asset."""
    try:
        return check_name(name, "asset")
    except InvalidNameError as exc:
        if given is None:  # named after the file or the file's asset column
            raise InvalidNameError(f"{exc} (from {data}); name it with --asset NAME") from None
        raise


def import_files(data: Path, store: Path, *, asset: str | None = None) -> ImportResult:
    """Read ``data`` (a file or a folder) and append every asset's readings to ``store``.

    Readings already stored (same asset, signal and time) are skipped, so importing twice is
    harmless. Text (categorical) columns and units are said in ``notes``: the store keeps numbers.
    """
    data, store = Path(data), Path(store)
    if asset is not None:
        check_name(asset, "asset")
    read = read_data(data, asset=asset)
    table = {_asset_name(name, given=asset, data=data): s for name, s in read.table.items()}
    with _open(store) as st:
        counts = {}
        for name, series in table.items():
            new = st.append(series, asset=name)
            counts[name] = (int(series.mask.sum()), new)
            st.record_audit(AUDIT_ACTOR, "import", target=name, detail=f"{new} new readings from {data}")
    return ImportResult(str(store), counts, read, tuple(_not_stored(table)))


def _not_stored(table: dict[str, SensorSeries]) -> list[str]:
    notes = []
    texts = sorted({c for s in table.values() for c in s.categorical})
    if texts:
        notes.append(f"text columns {texts} are not stored (the store keeps numbers); they stay in the file")
    units = {c: u for s in table.values() for c, u in s.units.items()}
    if units:
        shown = ", ".join(f"{c} [{u}]" for c, u in units.items())
        notes.append(f"units are not stored ({shown}); export with --like FILE to write headers with units again")
    zones = sorted({s.layout.time.zone for s in table.values() if s.layout is not None and s.layout.time is not None and s.layout.time.zone})
    if zones:
        notes.append(f"times are stored as UTC (the files' zone {', '.join(zones)}: export with --like FILE to write it again)")
    return notes


def append_long(store: Path, frame: pd.DataFrame, *, what: str = "simulate") -> int:
    """Append a long frame (ts, asset, signal, value[, quality]) to ``store``; the new readings."""
    for name in pd.unique(frame["asset"]):
        check_name(str(name), "asset")
    with _open(Path(store)) as st:
        new = st.append(frame)
        st.record_audit(AUDIT_ACTOR, what, target=",".join(map(str, pd.unique(frame["asset"])))[:512], detail=f"{new} new readings")
    return new


@dataclass(frozen=True)
class ExportResult:
    out: str
    layout: str
    assets: tuple[str, ...]
    rows: int


def _time(value: str | None, option: str):
    if value is None:
        return None
    try:
        return pd.Timestamp(value)
    except (ValueError, TypeError):
        raise DataError(f"{option} {value!r} is not a time; write e.g. 2026-01-31 or 2026-01-31T12:00:00+01:00") from None


def export_store(
    store: Path,
    out: Path,
    *,
    asset: str | None = None,
    start: str | None = None,
    end: str | None = None,
    layout: str | None = None,
    like: FileLayout | None = None,
) -> ExportResult:
    """Write readings of ``store`` with ``start <= ts < end`` to ``out`` (.csv or .parquet).

    ``layout``: ``wide`` (one asset) or ``long`` (any number); default wide for one asset, else
    long. ``like``: the layout of a file to copy (separator, decimal, time zone, headers, units).
    """
    if asset is not None:
        check_name(asset, "asset")
    lo, hi = _time(start, "--start"), _time(end, "--end")
    with _open(Path(store), read_only=True) as st:
        assets = [asset] if asset is not None else st.assets()
        if not assets:
            raise DataError("the store holds no readings", file=str(store))
        layout = layout or ("wide" if len(assets) == 1 else "long")
        if layout == "wide":
            if len(assets) != 1:
                raise DataError(f"the wide layout holds one asset per file; the store has {assets}: pass --asset or --layout long", file=str(store))
            series = st.read_wide(assets[0], start=lo, end=hi)
            write_table(series, out, layout="wide", like=like)
            return ExportResult(str(out), layout, tuple(assets), series.n_steps)
        if layout != "long":
            raise DataError(f"--layout must be 'wide' or 'long', got {layout!r}")
        frame = st.read_long(asset, start=lo, end=hi)
    if frame.empty:
        raise DataError(f"no readings between {start} and {end}", file=str(store))
    if like is not None and like.layout != "long":
        like = dataclasses.replace(like, layout="long", columns=())
    write_frame(frame, out, layout=like)
    return ExportResult(str(out), "long", tuple(pd.unique(frame["asset"])), len(frame))

