"""Read and write sensor tables: CSV (``,`` ``;`` or tab, optionally ``.gz``) and Parquet.

The layout is detected from the columns so that users need no flags:

* **long** when there are a time column (``ts``/``timestamp``/``time``/...), a signal column
  (``signal``/``sensor``/``tag``) and ``value``; optional ``asset`` and ``quality``. Each asset
  becomes one series on the union of its timestamps, NaN where a signal has no reading. A
  reading with ``quality <= 0`` is kept out (a gap); a missing quality counts as good.
* **wide** otherwise: an optional time column (the first column named
  ``ts``/``timestamp``/``time``/``datetime``/``date``, else the first column if all of it parses
  as dates) and one signal per numeric column. Columns that are mostly text are metadata and
  are dropped; label columns (``anomaly``, ``changepoint``, ``label``, ``fault``, ``rul``) are
  kept out of the signals and returned by :func:`read_labels`.

Errors name the file, the column and the *data row* (row 1 is the first row below the
header; a text editor shows it on line 2), so that a plant engineer can go and fix the cell.
An empty cell is a gap, never an error.
"""

from __future__ import annotations

import csv
import gzip
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from geniot.core.exceptions import DataError
from geniot.data.series import LONG_COLUMNS, SensorSeries, check_increasing, to_datetime64

TIME_NAMES = ("ts", "timestamp", "time", "datetime", "date")
SIGNAL_NAMES = ("signal", "sensor", "tag")
LABEL_NAMES = frozenset({"anomaly", "changepoint", "label", "fault", "rul"})
_SEPARATORS = (",", ";", "\t")
_CSV_SUFFIXES = (".csv", ".csv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")


# ---------------------------------------------------------------------------------- public API
def read_table(path, *, asset: str | None = None) -> dict[str, SensorSeries]:
    """Every asset in a file as ``{asset: SensorSeries}``.

    A wide file holds one asset, named ``asset`` or else the file name without extension. For a
    long file, ``asset`` picks one of its assets.
    """
    frame = _read_frame(path)
    return frame_to_table(frame, asset=asset, source=str(path), default_asset=_stem(path))


def read_series(path, *, asset: str | None = None) -> SensorSeries:
    """The one series in a file; a file with several assets needs ``asset`` to pick one."""
    return only_series(read_table(path, asset=asset), source=str(path))


def file_layout(path) -> str:
    """``"long"`` or ``"wide"``: how the file at ``path`` lays out its readings."""
    return "long" if _long_columns(_read_frame(path)) is not None else "wide"


def write_frame(frame: pd.DataFrame, path) -> None:
    """Write a frame to CSV or Parquet, chosen by the file extension (the folder is created)."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _write_frame(frame, path)


def read_labels(path) -> pd.DataFrame | None:
    """The label columns of a wide file (e.g. SKAB's ``anomaly``, ``changepoint``), or None.

    The index matches the series' steps: its timestamps, or positions for index-only files.
    """
    frame = _read_frame(path)
    if _long_columns(frame) is not None:
        return None
    labels = [c for c in frame.columns if _is_label(c)]
    if not labels:
        return None
    timestamps, _ = _wide_time(frame, time_column=None, source=str(path))
    out = frame[labels].reset_index(drop=True)
    if timestamps is not None:
        out.index = pd.DatetimeIndex(timestamps, name="timestamp")
    return out


def write_table(series_or_dict, path, *, layout: str = "wide") -> None:
    """Write series to CSV (comma separated) or Parquet, chosen by the file extension.

    The wide layout holds one asset per file (the asset name is not stored; reading takes it
    from the file name). The long layout holds any number of assets.
    """
    table = _as_table(series_or_dict)
    if layout == "wide":
        if len(table) != 1:
            raise DataError(
                f"the wide layout holds one asset per file, got {len(table)} "
                f"({list(table)}); use layout='long'",
                file=str(path),
            )
        frame = next(iter(table.values())).to_dataframe()
    elif layout == "long":
        frame = pd.concat([_long_for(name, s) for name, s in table.items()], ignore_index=True)
    else:
        raise ValueError(f"layout must be 'wide' or 'long', got {layout!r}")
    _write_frame(frame, path)


def frame_to_table(
    df: pd.DataFrame,
    *,
    time_column: str | None = None,
    asset: str | None = None,
    source: str | None = None,
    default_asset: str | None = None,
) -> dict[str, SensorSeries]:
    """Parse a frame, long or wide, with the rules for files; ``source`` names it in errors."""
    if len(df) == 0:
        raise DataError("there are no data rows", file=source)
    df = df.rename(columns=lambda c: str(c).strip())
    if time_column is None and _long_columns(df) is not None:
        return _long_to_table(df, asset=asset, source=source, default_asset=default_asset)
    name = asset if asset is not None else default_asset
    return {name: _wide_to_series(df, time_column=time_column, asset=name, source=source)}


def normalize_long(
    df: pd.DataFrame, *, asset: str | None = None, source: str | None = None
) -> pd.DataFrame:
    """A long frame with canonical columns and types: ts, asset, signal, value, quality.

    Column names are matched case-insensitively (``timestamp``/``sensor``/... are accepted).
    ``asset`` fills a missing asset column. Rows keep their order; duplicates are not checked.
    """
    df = df.rename(columns=lambda c: str(c).strip())
    columns = _long_columns(df)
    if columns is None:
        raise DataError(
            f"a long table needs columns ts, signal and value; found {list(df.columns)}",
            file=source,
        )
    n = len(df)
    if "asset" in columns:
        assets = _text_column(df[columns["asset"]], name=columns["asset"], source=source)
    elif asset is not None:
        assets = np.full(n, asset, dtype=object)
    else:
        raise DataError("the table has no asset column; pass asset=...", file=source)
    if "quality" in columns:
        quality = _numeric(df[columns["quality"]], name=columns["quality"], source=source)
    else:
        quality = np.ones(n)
    return pd.DataFrame(
        {
            "ts": _parse_times(df[columns["ts"]], name=columns["ts"], source=source),
            "asset": assets,
            "signal": _text_column(df[columns["signal"]], name=columns["signal"], source=source),
            "value": _numeric(df[columns["value"]], name=columns["value"], source=source),
            "quality": quality,
        },
        columns=list(LONG_COLUMNS),
    )


def long_to_series(long: pd.DataFrame, asset: str, *, source: str | None = None) -> SensorSeries:
    """Pivot one asset of a canonical long frame to a series (channels in order of appearance)."""
    rows = long[long["asset"] == asset]
    observed = rows["quality"].isna() | (rows["quality"] > 0)
    rows = rows.assign(value=rows["value"].where(observed))
    order = list(pd.unique(rows["signal"]))
    wide = rows.pivot(index="ts", columns="signal", values="value").reindex(columns=order)
    return SensorSeries(
        timestamps=wide.index.to_numpy(),
        values=wide.to_numpy(dtype=np.float64),
        channels=tuple(order),
        asset=asset,
        source=source,
    )


def only_series(table: Mapping[str, SensorSeries], *, source: str | None = None) -> SensorSeries:
    """The single series of a table; several assets are an error that lists them."""
    if len(table) != 1:
        raise DataError(
            f"the data holds {len(table)} assets {sorted(table)}; pass asset=... to pick one",
            file=source,
        )
    return next(iter(table.values()))


# ---------------------------------------------------------------------------------- reading files
def _stem(path) -> str:
    name = Path(path).name
    for suffix in (".gz", *_CSV_SUFFIXES, *_PARQUET_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


def _read_frame(path) -> pd.DataFrame:
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    lower = path.name.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        frame = pd.read_parquet(path)
    elif lower.endswith(_CSV_SUFFIXES):
        frame = _read_csv(path)
    else:
        raise DataError("unsupported file type; use .csv, .csv.gz or .parquet", file=str(path))
    if len(frame) == 0:
        raise DataError("the file has a header but no data rows", file=str(path))
    frame = frame.rename(columns=lambda c: str(c).strip())
    if isinstance(frame.index, pd.DatetimeIndex):  # a Parquet file written with its index
        frame = frame.reset_index(names="timestamp")
    return frame


def _header_line(path: Path) -> str:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as fh:
        for line in fh:
            if line.strip():
                return line
    raise DataError("the file is empty", file=str(path))


def _read_csv(path: Path) -> pd.DataFrame:
    header = _header_line(path)
    names = {sep: next(csv.reader([header], delimiter=sep)) for sep in _SEPARATORS}
    sep = max(_SEPARATORS, key=lambda s: len(names[s]))  # the one that splits the header most
    seen: set[str] = set()
    for name in (n.strip() for n in names[sep]):
        if name in seen:
            raise DataError(
                "the column name appears twice in the header", file=str(path), column=name
            )
        seen.add(name)
    try:
        return pd.read_csv(path, sep=sep, encoding="utf-8-sig", low_memory=False)
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"the file is not valid CSV: {exc}", file=str(path)) from None


def _write_frame(frame: pd.DataFrame, path) -> None:
    lower = Path(path).name.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        frame.to_parquet(path, index=False)
    elif lower.endswith(_CSV_SUFFIXES):
        frame.to_csv(path, index=False)
    else:
        raise DataError("unsupported file type; use .csv, .csv.gz or .parquet", file=str(path))


def _long_for(name: str | None, series: SensorSeries) -> pd.DataFrame:
    """Long rows of one series; without an asset name the column is left out (the reader then
    names the asset after the file)."""
    long = series.to_long()
    return long.drop(columns="asset") if name is None else long.assign(asset=name)


def _as_table(series_or_dict) -> dict[str, SensorSeries]:
    if isinstance(series_or_dict, SensorSeries):
        return {series_or_dict.asset: series_or_dict}
    return dict(series_or_dict)


# ----------------------------------------------------------------------------------- cell parsing
def _first_bad(bad: np.ndarray) -> int:
    return int(np.argmax(bad))


def _numeric(col: pd.Series, *, name: str, source: str | None) -> np.ndarray:
    """A column as float64; empty cells are gaps (NaN), any other non-number is an error."""
    values = _numeric_or_none(col, name=name, source=source, allow_text=False)
    assert values is not None  # allow_text=False never gives None
    return values


def _numeric_or_none(
    col: pd.Series, *, name: str, source: str | None, allow_text: bool
) -> np.ndarray | None:
    """A column as float64, or None for a text/bool/date column when ``allow_text``.

    A text column whose cells are mostly numbers is a signal with typos: its first non-number
    is an error, so that a bad cell is never silently turned into a gap.
    """
    if ptypes.is_bool_dtype(col) or ptypes.is_datetime64_any_dtype(col):
        if allow_text:
            return None
        raise DataError(f"expected numbers, found {col.dtype} values", file=source, column=name)
    if ptypes.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        values = _parse_numbers(col, name=name, source=source, allow_text=allow_text)
        if values is None:
            return None
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            "the value is infinite", file=source, column=name, row=_first_bad(infinite) + 1
        )
    return values


def _parse_numbers(
    col: pd.Series, *, name: str, source: str | None, allow_text: bool
) -> np.ndarray | None:
    text = col.astype(object).where(col.notna(), None)
    blank = text.map(lambda v: v is None or (isinstance(v, str) and not v.strip()))
    parsed = pd.to_numeric(text.where(~blank, None), errors="coerce").astype(np.float64)
    bad = (parsed.isna() & ~blank).to_numpy()
    if not bad.any():
        return parsed.to_numpy()
    if allow_text and bad.sum() * 2 >= (~blank).sum():
        return None  # mostly text: a label or note column, not a signal
    i = _first_bad(bad)
    raise DataError(f"{text.iloc[i]!r} is not a number", file=source, column=name, row=i + 1)


def _text_column(col: pd.Series, *, name: str, source: str | None) -> np.ndarray:
    missing = col.isna().to_numpy() | col.astype(str).str.strip().eq("").to_numpy()
    if missing.any():
        raise DataError("the cell is empty", file=source, column=name, row=_first_bad(missing) + 1)
    return col.astype(str).str.strip().to_numpy(dtype=object)


def _parse_times(col: pd.Series, *, name: str, source: str | None) -> np.ndarray:
    """Timestamps as datetime64[ns] (aware ones converted to naive UTC); bad cells are errors."""
    if ptypes.is_datetime64_any_dtype(col):
        times = to_datetime64(col)
    elif ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
        raise DataError(
            "holds numbers, not timestamps; write dates such as 2024-01-31 12:00:00",
            file=source,
            column=name,
        )
    else:
        times = _parse_time_text(col, name=name, source=source)
    missing = np.isnat(times)
    if missing.any():
        raise DataError(
            "the timestamp is missing", file=source, column=name, row=_first_bad(missing) + 1
        )
    return times


def _try_times(col: pd.Series) -> pd.Series:
    """Parse ISO 8601 fast; retry only the cells it failed on with per-cell format guessing."""
    parsed = pd.to_datetime(col, errors="coerce", utc=True, format="ISO8601")
    retry = parsed.isna() & col.notna()
    if retry.any():
        parsed[retry] = pd.to_datetime(col[retry], errors="coerce", utc=True, format="mixed")
    return parsed


def _parse_time_text(col: pd.Series, *, name: str, source: str | None) -> np.ndarray:
    parsed = _try_times(col)
    bad = (parsed.isna() & col.notna()).to_numpy()
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{col.iloc[i]!r} is not a timestamp", file=source, column=name, row=i + 1)
    return to_datetime64(parsed)


# ------------------------------------------------------------------------------------ layouts
def _lower_names(df: pd.DataFrame) -> dict[str, str]:
    """Lower-case name -> actual column name (the first one wins)."""
    out: dict[str, str] = {}
    for c in df.columns:
        out.setdefault(str(c).strip().lower(), c)
    return out


def _long_columns(df: pd.DataFrame) -> dict[str, str] | None:
    """Canonical name -> actual column for a long table, or None when the frame is wide."""
    lower = _lower_names(df)
    found = {
        "ts": next((lower[n] for n in TIME_NAMES if n in lower), None),
        "signal": next((lower[n] for n in SIGNAL_NAMES if n in lower), None),
        "value": lower.get("value"),
    }
    if None in found.values():
        return None
    for extra in ("asset", "quality"):
        if extra in lower:
            found[extra] = lower[extra]
    return found


def _long_to_table(
    df: pd.DataFrame, *, asset: str | None, source: str | None, default_asset: str | None
) -> dict[str, SensorSeries]:
    columns = _long_columns(df)
    assert columns is not None
    long = normalize_long(df, asset=asset if asset is not None else default_asset, source=source)
    key = ["asset", "signal", "ts"]
    duplicate = long.duplicated(key).to_numpy()
    if duplicate.any():
        i = _first_bad(duplicate)
        asset_, signal, ts = long[key].iloc[i]
        first = int(np.flatnonzero((long[key] == long[key].iloc[i]).all(axis=1))[0]) + 1
        raise DataError(
            f"duplicate reading for asset {asset_!r}, signal {signal!r} at "
            f"{pd.Timestamp(ts)} (same as row {first})",
            file=source,
            column=columns["ts"],
            row=i + 1,
        )
    names = list(pd.unique(long["asset"]))
    if asset is not None and "asset" in columns:
        if asset not in names:
            raise DataError(
                f"asset {asset!r} is not in the data; it has {sorted(names)}", file=source
            )
        names = [asset]
    return {name: long_to_series(long, name, source=source) for name in names}


def _is_label(column) -> bool:
    return str(column).strip().lower() in LABEL_NAMES


def _wide_time(
    df: pd.DataFrame, *, time_column: str | None, source: str | None
) -> tuple[np.ndarray | None, str | None]:
    """(timestamps, time column name) of a wide frame; (None, None) when it has no time column."""
    if time_column is not None:
        if time_column not in df.columns:
            raise DataError(f"there is no time column {time_column!r}", file=source)
        name = time_column
    else:
        name = next((c for c in df.columns if str(c).strip().lower() in TIME_NAMES), None)
    if name is None:
        if isinstance(df.index, pd.DatetimeIndex):
            times = to_datetime64(df.index)
            check_increasing(times, file=source, column="index")
            return times, None
        return _first_column_times(df, source=source)
    times = _parse_times(df[name], name=name, source=source)
    check_increasing(times, file=source, column=name)
    return times, name


def _first_column_times(
    df: pd.DataFrame, *, source: str | None
) -> tuple[np.ndarray | None, str | None]:
    """Use the first column as time when every cell of it is a date (e.g. an unnamed index)."""
    name = df.columns[0]
    col = df[name]
    if not (ptypes.is_datetime64_any_dtype(col) or _all_date_text(col)):
        return None, None
    times = _parse_times(col, name=name, source=source)
    check_increasing(times, file=source, column=name)
    return times, name


def _all_date_text(col: pd.Series) -> bool:
    """True for a text column whose every cell is a date and none is a plain number."""
    if ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col) or col.isna().any():
        return False
    if pd.to_numeric(col, errors="coerce").notna().any():
        return False
    return not _try_times(col).isna().any()


def _wide_to_series(
    df: pd.DataFrame, *, time_column: str | None, asset: str | None, source: str | None
) -> SensorSeries:
    timestamps, time_name = _wide_time(df, time_column=time_column, source=source)
    channels, columns = [], []
    for name in df.columns:
        if name == time_name or _is_label(name):
            continue
        values = _numeric_or_none(df[name], name=name, source=source, allow_text=True)
        if values is not None:
            channels.append(str(name))
            columns.append(values)
    if not channels:
        raise DataError(
            f"there is no numeric signal column (columns: {[str(c) for c in df.columns]})",
            file=source,
        )
    return SensorSeries(
        timestamps=timestamps,
        values=np.column_stack(columns),
        channels=tuple(channels),
        asset=asset,
        source=source,
    )
