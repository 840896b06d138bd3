"""Read and write sensor tables: CSV (``,`` ``;`` or tab, optionally ``.gz``) and Parquet.

Files are read the way plants export them, and every read says what it did (a
:class:`~geniot.data.layout.ReadReport`, logged on ``geniot.data.read`` and printed by the CLI):

* **separator** ``,`` ``;`` or tab, chosen by the header and the first rows agreeing;
* **numbers** per column: decimal ``.`` or ``,``, thousands ``.`` ``,`` (``1.234,5``), detected
  from the values; a column that fits both readings follows the file's other columns and says so;
* **times**: ISO 8601 with or without an offset (``+01:00`` is kept for output; inside geniot
  times are naive UTC), ``dd.mm.yyyy hh:mm[:ss]``, ``mm/dd/yyyy`` or ``dd/mm/yyyy`` (the order
  is taken from the values; an ambiguous file is said), Excel serial day numbers in a time column;
* **headers** with units: ``Temp [°C]`` and ``Druck (bar)`` give the signal ``Temp``/``Druck``
  with its unit in ``series.units``; a header that breaks the name rule is made valid and said;
* **text columns**: a status or operating mode with few values is kept as a categorical column
  (``series.categorical``); free text is ignored with the reason printed.

Layouts, detected from the columns so that users need no flags:

* **long** when there are a time column (``ts``/``timestamp``/``time``/...), a signal column
  (``signal``/``sensor``/``tag``) and ``value``; optional ``asset``, ``quality`` and ``unit``.
  Each asset becomes one series on the union of its timestamps, NaN where a signal has no
  reading. A reading with ``quality <= 0`` is kept out (a gap); a missing quality counts as good.
* **wide** otherwise: an optional time column (the first column named like a time, else the
  first column if all of it parses as dates) and one signal per numeric column. Label columns
  (``anomaly``, ``changepoint``, ``label``, ``fault``, ``rul``) are kept out of the signals and
  returned by :func:`read_labels`.

A folder is read file by file (``.csv``, ``.csv.gz``, ``.parquet``): one asset per file (named
after the file) unless ``asset`` names them all, in which case the files are parts of one
asset's history and are joined in time.

Output keeps the input's layout: :func:`write_frame` with ``layout=series.layout`` writes the
same separator, decimal marks, time format and offset, headers (with units) and column order.

Errors name the file, the column and the *data row* (row 1 is the first row below the header;
a text editor shows it on line 2), and timestamps as the file writes them, so that a plant
engineer can go and fix the cell. An empty cell is a gap, never an error.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.api import types as ptypes

from geniot.core.exceptions import DataError
from geniot.core.names import is_valid_name, safe_component
from geniot.data import formats
from geniot.data.formats import NumberFormat, TimeFormat
from geniot.data.layout import (
    CATEGORICAL,
    IGNORED,
    LABEL,
    LONG,
    SIGNAL,
    TIME,
    ColumnSpec,
    FileLayout,
    ReadReport,
    render,
)
from geniot.data.series import LONG_COLUMNS, SensorSeries, check_increasing, to_datetime64

TIME_NAMES = ("ts", "timestamp", "time", "datetime", "date")
# Further names plants' exports give their time column (matched like TIME_NAMES, unit removed).
_MORE_TIME_NAMES = ("zeitstempel", "zeit", "datum", "date/time", "datum/zeit", "time stamp", "local time", "utc")
SIGNAL_NAMES = ("signal", "sensor", "tag")
LABEL_NAMES = frozenset({"anomaly", "changepoint", "label", "fault", "rul"})
_SEPARATORS = (",", ";", "\t")
_CSV_SUFFIXES = (".csv", ".csv.gz")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_MAX_CATEGORIES = 50  # a text column with more distinct values is a note, not an operating mode
_ENCODINGS = ("utf-8-sig", "cp1252")  # what spreadsheet tools write; cp1252 is said when used
log = logging.getLogger("geniot.data.read")


@dataclass(frozen=True)
class DataRead:
    """What reading a file or a folder gave: ``{asset: SensorSeries}`` and one report per file."""

    table: dict[str, SensorSeries]
    reports: tuple[ReadReport, ...]

    def text(self) -> str:
        return "\n".join(r.text() for r in self.reports)


# ---------------------------------------------------------------------------------- public API
def read_data(path, *, asset: str | None = None) -> DataRead:
    """Every asset in a file or a folder of files, with a report of what was read and ignored.

    A wide file holds one asset, named ``asset`` or else the file name without extension. For a
    long file, ``asset`` picks one of its assets. In a folder, ``asset`` names the asset of every
    wide file (the files are then parts of its history, joined in time).
    """
    path = Path(path)
    if path.is_dir():
        return _read_folder(path, asset=asset)
    return _read_file(path, asset=asset)


def read_table(path, *, asset: str | None = None) -> dict[str, SensorSeries]:
    """Every asset in a file (or folder) as ``{asset: SensorSeries}``; the read report is logged
    on ``geniot.data.read`` (the CLI prints it)."""
    read = read_data(path, asset=asset)
    for report in read.reports:
        log.info(report.text())
    return read.table


def read_series(path, *, asset: str | None = None) -> SensorSeries:
    """The one series in a file; a file with several assets needs ``asset`` to pick one."""
    return only_series(read_table(path, asset=asset), source=str(path))


def file_layout(path) -> str:
    """``"long"`` or ``"wide"``: how the file at ``path`` lays out its readings."""
    return "long" if _long_columns(_read_frame(Path(path))[0]) is not None else "wide"


def sniff_layout(path, *, rows: int = 2000) -> FileLayout | None:
    """The layout of a file (or a folder's first file) from its first ``rows`` rows: enough to
    write output the same way without reading all of it. None when it cannot be read."""
    path = Path(path)
    if path.is_dir():
        path = next(iter(sorted(p for p in path.iterdir() if p.is_file() and is_data_file(p))), path)
    try:
        frame, base = _read_frame(path, nrows=rows)
        read = _frame_to_read(frame, source=str(path), default_asset=file_stem(path), base=base)
    except DataError:
        return None
    return next(iter(read.table.values())).layout


def write_frame(frame: pd.DataFrame, path, *, layout: FileLayout | None = None) -> None:
    """Write a frame to CSV or Parquet, chosen by the file extension (the folder is created).

    With ``layout`` (a read's :class:`FileLayout`, e.g. ``series.layout``) the frame's geniot
    names (``timestamp``/``ts``, signal names, ``<signal>_lower``) get the file's headers and the
    output its separator, decimal marks, time format and zone and column order.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    lower = path.name.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        render(frame, layout, as_text=False).to_parquet(path, index=False)
    elif lower.endswith(_CSV_SUFFIXES):
        out = render(frame, layout, as_text=True)
        sep = layout.sep if layout is not None else ","
        encoding = layout.encoding if layout is not None else "utf-8"
        out.to_csv(path, index=False, sep=sep, encoding=encoding.replace("-sig", ""))
    else:
        raise DataError("unsupported file type; use .csv, .csv.gz or .parquet", file=str(path))


def read_labels(path) -> pd.DataFrame | None:
    """The label columns of a wide file (e.g. SKAB's ``anomaly``, ``changepoint``), or None.

    The index matches the series' steps: its timestamps, or positions for index-only files.
    """
    frame, _ = _read_frame(Path(path))
    if _long_columns(frame) is not None:
        return None
    labels = [c for c in frame.columns if _is_label(c)]
    if not labels:
        return None
    time = _wide_time(frame, time_column=None, source=str(path))
    out = pd.DataFrame({c: _label_values(frame[c]) for c in labels})
    if time.times is not None:
        out.index = pd.DatetimeIndex(time.times, name="timestamp")
    return out


def untouched_columns(path, layout: FileLayout | None = None) -> pd.DataFrame | None:
    """The columns of a wide file that are not signals, for writing the file back whole: labels
    (as numbers where they are) and, given the read's ``layout``, the columns it ignored (as
    written). One row per data row; None for a long file or when there are none."""
    frame, _ = _read_frame(Path(path))
    if _long_columns(frame) is not None:
        return None
    ignored = {c.header for c in layout.columns if c.role == IGNORED} if layout is not None else set()
    names = [c for c in frame.columns if _is_label(c) or c in ignored]
    if not names:
        return None
    return pd.DataFrame({c: _label_values(frame[c]) if _is_label(c) else frame[c].reset_index(drop=True) for c in names})


def write_table(series_or_dict, path, *, layout: str = "wide", like: FileLayout | None = None) -> None:
    """Write series to CSV or Parquet, chosen by the file extension; ``like`` writes them in a
    read file's layout (separator, decimal marks, time zone, headers), else comma-separated.

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
        frame = next(iter(table.values())).to_dataframe(categorical=True)
    elif layout == "long":
        frame = pd.concat([_long_for(name, s) for name, s in table.items()], ignore_index=True)
    else:
        raise ValueError(f"layout must be 'wide' or 'long', got {layout!r}")
    if like is not None and like.layout != layout:
        like = dataclasses.replace(like, layout=layout, columns=())  # formats only, not headers
    write_frame(frame, path, layout=like)


def frame_to_table(
    df: pd.DataFrame,
    *,
    time_column: str | None = None,
    asset: str | None = None,
    source: str | None = None,
    default_asset: str | None = None,
) -> dict[str, SensorSeries]:
    """Parse a frame, long or wide, with the rules for files; ``source`` names it in errors."""
    return _frame_to_read(df, time_column=time_column, asset=asset, source=source, default_asset=default_asset).table


def normalize_long(
    df: pd.DataFrame, *, asset: str | None = None, source: str | None = None
) -> pd.DataFrame:
    """A long frame with canonical columns and types: ts, asset, signal, value, quality.

    Column names are matched case-insensitively (``timestamp``/``sensor``/... are accepted).
    ``asset`` fills a missing asset column. Rows keep their order; duplicates are not checked.
    """
    return _normalize_long(df, asset=asset, source=source)[0]


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


def series_from_frame(
    df: pd.DataFrame, *, time_column: str | None = None, asset: str | None = None, source: str | None = None
) -> SensorSeries:
    """The one series in a frame, read with the same rules as a file: the time column detected
    by name or content (or a DatetimeIndex), wide or long."""
    return only_series(frame_to_table(df, time_column=time_column, asset=asset, source=source), source=source)


def only_series(table: Mapping[str, SensorSeries], *, source: str | None = None) -> SensorSeries:
    """The single series of a table; several assets are an error that lists them."""
    if len(table) != 1:
        raise DataError(
            f"the data holds {len(table)} assets {sorted(table)}; pass asset=... to pick one",
            file=source,
        )
    return next(iter(table.values()))


def is_data_file(path) -> bool:
    return Path(path).name.lower().endswith((*_CSV_SUFFIXES, *_PARQUET_SUFFIXES))


def file_stem(path) -> str:
    """The file name without its data extensions (``pump-3.csv.gz`` -> ``pump-3``)."""
    name = Path(path).name
    for suffix in (".gz", *_CSV_SUFFIXES, *_PARQUET_SUFFIXES):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    return name


# ---------------------------------------------------------------------------------- reading files
def _read_file(path: Path, *, asset: str | None) -> DataRead:
    frame, base = _read_frame(path)
    read = _frame_to_read(frame, asset=asset, source=str(path), default_asset=file_stem(path), base=base)
    return read


def _read_folder(folder: Path, *, asset: str | None) -> DataRead:
    files = sorted(p for p in folder.iterdir() if p.is_file() and is_data_file(p))
    skipped = sorted(p.name for p in folder.iterdir() if p.is_file() and not is_data_file(p) and not p.name.startswith("."))
    if not files:
        raise DataError("the folder holds no .csv, .csv.gz or .parquet file", file=str(folder))
    parts: dict[str, list[tuple[Path, SensorSeries]]] = {}
    reports = []
    for path in files:
        read = _read_file(path, asset=asset)
        reports.extend(read.reports)
        for name, series in read.table.items():
            parts.setdefault(name, []).append((path, series))
    if skipped:
        note = f"skipped {len(skipped)} file(s) that are not .csv/.parquet: {', '.join(skipped[:10])}"
        reports[0] = dataclasses.replace(reports[0], notes=(*reports[0].notes, note))
    table = {name: _join_parts(name, items) for name, items in parts.items()}
    return DataRead(table, tuple(reports))


def _join_parts(asset: str, items: list[tuple[Path, SensorSeries]]) -> SensorSeries:
    """Several files of one asset joined in time (the union of their signals, NaN elsewhere)."""
    if len(items) == 1:
        return items[0][1]
    for path, s in items:
        if s.timestamps is None:
            raise DataError(f"asset {asset!r} comes from several files, so each needs a time column", file=str(path))
    items = sorted(items, key=lambda item: item[1].timestamps[0])
    frames, cats = [], []
    for _, s in items:
        frames.append(pd.DataFrame(s.values, index=pd.DatetimeIndex(s.timestamps), columns=list(s.channels)))
        cats.append(pd.DataFrame(dict(s.categorical), index=frames[-1].index))
    joined = pd.concat(frames)
    if not joined.index.is_unique:
        ts = joined.index[joined.index.duplicated()][0]
        owners = [str(p) for p, s in items if np.isin(np.datetime64(ts), s.timestamps)]
        raise DataError(f"asset {asset!r}: timestamp {ts} (UTC) is in more than one file: {', '.join(owners)}")
    order = np.argsort(joined.index.to_numpy(), kind="stable")
    joined = joined.iloc[order]
    categorical = pd.concat(cats).iloc[order].astype(object)
    categorical = categorical.where(categorical.notna(), None)
    units: dict[str, str] = {}
    for _, s in items:
        units.update(s.units)
    first = items[0][1]
    return SensorSeries(
        timestamps=joined.index.to_numpy(),
        values=joined.to_numpy(dtype=np.float64),
        channels=tuple(joined.columns),
        asset=asset,
        units=units,
        source=str(items[0][0].parent),
        categorical={c: categorical[c].to_numpy(dtype=object) for c in categorical.columns},
        layout=first.layout,
    )


def _read_frame(path: Path, *, nrows: int | None = None) -> tuple[pd.DataFrame, FileLayout]:
    """The file's cells (text for CSV, typed for Parquet) and what is known of its layout."""
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    lower = path.name.lower()
    if lower.endswith(_PARQUET_SUFFIXES):
        frame = pd.read_parquet(path)
        base = FileLayout(file_type="parquet")
    elif lower.endswith(_CSV_SUFFIXES):
        frame, base = _read_csv(path, nrows=nrows)
    else:
        raise DataError("unsupported file type; use .csv, .csv.gz or .parquet", file=str(path))
    if len(frame) == 0:
        raise DataError("the file has a header but no data rows", file=str(path))
    frame = frame.rename(columns=lambda c: str(c).strip())
    if isinstance(frame.index, pd.DatetimeIndex):  # a Parquet file written with its index
        frame = frame.reset_index(names="timestamp")
    return frame, base


def _sample_lines(path: Path, encoding: str, n: int = 50) -> list[str]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines = []
    with opener(path, "rt", encoding=encoding, newline="") as fh:
        for line in fh:
            if line.strip():
                lines.append(line)
            if len(lines) >= n:
                break
    return lines


def _pick_separator(lines: list[str]) -> str:
    """The separator that splits the header and on which the first rows agree with it."""

    def score(sep: str) -> tuple[float, int]:
        rows = list(csv.reader(lines, delimiter=sep))
        width = len(rows[0])
        if width < 2:
            return 0.0, width
        body = rows[1:] or rows
        return sum(len(r) == width for r in body) / len(body), width

    return max(_SEPARATORS, key=score)


def _read_csv(path: Path, *, nrows: int | None = None) -> tuple[pd.DataFrame, FileLayout]:
    for encoding in _ENCODINGS:
        try:
            lines = _sample_lines(path, encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise DataError("the file is neither UTF-8 nor Windows-1252 text", file=str(path))
    if not lines:
        raise DataError("the file is empty", file=str(path))
    sep = _pick_separator(lines)
    seen: set[str] = set()
    for name in (n.strip() for n in next(csv.reader([lines[0]], delimiter=sep))):
        if name in seen:
            raise DataError(
                "the column name appears twice in the header", file=str(path), column=name
            )
        seen.add(name)
    frame = None
    if nrows is None:  # Arrow's reader is several times faster; the C reader says what is wrong
        try:
            frame = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, engine="pyarrow")
        except Exception:  # noqa: BLE001 - any failure: read again with the reader that explains
            frame = None
    if frame is None:
        try:
            frame = pd.read_csv(path, sep=sep, encoding=encoding, dtype=str, keep_default_na=True, low_memory=False, nrows=nrows)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise DataError(f"the file is not valid CSV: {exc}", file=str(path)) from None
    return frame, FileLayout(file_type="csv", sep=sep, encoding=encoding)


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


def _is_text(col: pd.Series) -> bool:
    return not (ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col) or ptypes.is_datetime64_any_dtype(col))


def _cells(col: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Stripped text cells and the mask of blank ones (a blank cell is a gap)."""
    text = col.astype("str").str.strip()  # pandas' string dtype: fast, vectorized string methods
    blank = (text.isna() | text.eq("")).to_numpy(dtype=bool)
    return text, blank


def _numeric(col: pd.Series, *, name: str, source: str | None, hint: str | None = None) -> tuple[np.ndarray, NumberFormat]:
    """A column as float64; empty cells are gaps (NaN), any other non-number is an error."""
    out = _numeric_or_none(col, name=name, source=source, allow_text=False, hint=hint)
    assert out is not None  # allow_text=False never gives None
    return out


def _numeric_or_none(
    col: pd.Series, *, name: str, source: str | None, allow_text: bool, hint: str | None = None
) -> tuple[np.ndarray, NumberFormat] | None:
    """A column as float64 and its number format, or None for a text/bool/date column when
    ``allow_text``. A text column whose cells are mostly numbers is a signal with typos: its first
    non-number is an error, so that a bad cell is never silently turned into a gap."""
    if ptypes.is_bool_dtype(col) or ptypes.is_datetime64_any_dtype(col):
        if allow_text:
            return None
        raise DataError(f"expected numbers, found {col.dtype} values", file=source, column=name)
    if ptypes.is_numeric_dtype(col):
        values = col.to_numpy(dtype=np.float64, na_value=np.nan)
        fmt = NumberFormat(integer=ptypes.is_integer_dtype(col))
    else:
        parsed = _parse_numbers(col, name=name, source=source, allow_text=allow_text, hint=hint)
        if parsed is None:
            return None
        values, fmt = parsed
    infinite = np.isinf(values)
    if infinite.any():
        raise DataError(
            "the value is infinite", file=source, column=name, row=_first_bad(infinite) + 1
        )
    return values, fmt


def _parse_numbers(
    col: pd.Series, *, name: str, source: str | None, allow_text: bool, hint: str | None
) -> tuple[np.ndarray, NumberFormat] | None:
    text, blank = _cells(col)
    filled = text[~blank]
    if filled.empty:
        return np.full(len(col), np.nan), NumberFormat()
    try:
        fmt = formats.detect_number_format(filled, decimal_hint=hint)
    except formats._MixedMarks as exc:
        positions = np.flatnonzero(~blank)
        exc.dot_pos, exc.comma_pos = int(positions[exc.dot_pos]), int(positions[exc.comma_pos])
        raise formats.mixed_marks_error(exc, column=name, source=source) from None
    if fmt is None:
        if allow_text:
            return None
        fmt = NumberFormat()
    parsed = np.full(len(col), np.nan)
    parsed[~blank] = formats.parse_numbers(filled, fmt).to_numpy()
    bad = np.isnan(parsed) & ~blank
    if not bad.any():
        return parsed, fmt
    if allow_text and bad.sum() * 2 >= (~blank).sum():
        return None  # mostly text: a label or note column, not a signal
    i = _first_bad(bad)
    raise DataError(f"{text.iloc[i]!r} is not a number", file=source, column=name, row=i + 1)


def _text_column(col: pd.Series, *, name: str, source: str | None) -> np.ndarray:
    missing = col.isna().to_numpy() | col.astype(str).str.strip().eq("").to_numpy()
    if missing.any():
        raise DataError("the cell is empty", file=source, column=name, row=_first_bad(missing) + 1)
    return col.astype(str).str.strip().to_numpy(dtype=object)


def _label_values(col: pd.Series) -> pd.Series:
    """Label cells as numbers when they are numbers (``0``/``1``), else as text."""
    if not _is_text(col):
        return col.reset_index(drop=True)
    parsed = _numeric_or_none(col, name=str(col.name), source=None, allow_text=True)
    if parsed is None:
        return col.reset_index(drop=True)
    values, fmt = parsed
    if fmt.integer and not np.isnan(values).any():
        return pd.Series(values.astype(np.int64))
    return pd.Series(values)


@dataclass(frozen=True)
class _Times:
    times: np.ndarray | None
    name: str | None = None
    fmt: TimeFormat | None = None
    shown: np.ndarray | None = None  # as written, for messages


def _parse_times(col: pd.Series, *, name: str, source: str | None) -> _Times:
    """Timestamps as datetime64[ns] naive UTC, the format they were written in, and the cells as
    written; bad cells are errors."""
    if ptypes.is_datetime64_any_dtype(col):
        zone = getattr(col.dt, "tz", None)
        times = to_datetime64(col)
        fmt = TimeFormat("native", zone=None if zone is None else str(zone))
        shown = col.astype(str).to_numpy()
    elif ptypes.is_numeric_dtype(col) or ptypes.is_bool_dtype(col):
        times, fmt = _excel_or_refuse(col.to_numpy(dtype=np.float64, na_value=np.nan), name=name, source=source)
        shown = col.astype(str).to_numpy()
    else:
        times, fmt, shown = _parse_time_text(col, name=name, source=source)
    missing = np.isnat(times)
    if missing.any():
        raise DataError(
            "the timestamp is missing", file=source, column=name, row=_first_bad(missing) + 1
        )
    return _Times(times, name, fmt, shown)


def _excel_or_refuse(values: np.ndarray, *, name: str, source: str | None) -> tuple[np.ndarray, TimeFormat]:
    """Numbers in the time column: Excel serial days, or Unix epoch times, or an error."""
    times = formats.excel_times(values)
    if times is not None:
        return times, TimeFormat("excel", note="times are Excel serial day numbers (days since 1899-12-30)")
    epoch = formats.epoch_times(values)
    if epoch is not None:
        times, unit = epoch
        return times, TimeFormat("epoch", unit, note=f"times are {formats.epoch_text(unit)}; output writes them the same way")
    raise DataError(
        "holds numbers, not timestamps: neither Excel serial days nor Unix epoch times (seconds to nanoseconds "
        "since 1970, 1973-2099); write dates such as 2024-01-31 12:00:00",
        file=source,
        column=name,
    )


def _parse_time_text(col: pd.Series, *, name: str, source: str | None) -> tuple[np.ndarray, TimeFormat, np.ndarray]:
    text, blank = _cells(col)
    filled = text[~blank]
    shown = text.fillna("").to_numpy(dtype=object)
    if filled.empty:
        raise DataError("the timestamp is missing", file=source, column=name, row=1)
    numbers = formats.fast_floats(filled.str.replace(",", ".", regex=False))
    if numbers is not None:
        values = np.full(len(col), np.nan)
        values[~blank] = numbers
        times, fmt = _excel_or_refuse(values, name=name, source=source)
        return times, fmt, shown
    try:
        fmt = formats.detect_time_format(filled)
    except formats._TimeProblem as exc:
        row = int(np.flatnonzero(~blank)[exc.position]) + 1
        raise DataError(exc.message, file=source, column=name, row=row) from None
    if fmt is None:
        fmt = TimeFormat("iso", note="times in a format geniot does not know were read by pandas' guesser; output writes them as ISO 8601")
    parsed, fmt = formats.parse_time_text(filled, fmt)
    times = np.full(len(col), np.datetime64("NaT"), dtype="datetime64[ns]")
    times[~blank] = parsed.to_numpy(dtype="datetime64[ns]")
    bad = np.isnat(times) & ~blank
    if bad.any():
        i = _first_bad(bad)
        raise DataError(f"{col.iloc[i]!r} is not a timestamp", file=source, column=name, row=i + 1)
    return times, fmt, shown


# ------------------------------------------------------------------------------------ layouts
def _base_name(header: str) -> str:
    return formats.split_header(str(header)).name.lower()


def _is_time_name(header: str) -> bool:
    lower = str(header).strip().lower()
    return lower in TIME_NAMES or lower in _MORE_TIME_NAMES or _base_name(header) in (*TIME_NAMES, *_MORE_TIME_NAMES)


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
    for extra in ("asset", "quality", "unit"):
        if extra in lower:
            found[extra] = lower[extra]
    return found


def _frame_to_read(
    df: pd.DataFrame,
    *,
    time_column: str | None = None,
    asset: str | None = None,
    source: str | None = None,
    default_asset: str | None = None,
    base: FileLayout | None = None,
) -> DataRead:
    if len(df) == 0:
        raise DataError("there are no data rows", file=source)
    df = df.rename(columns=lambda c: str(c).strip())
    base = base or FileLayout(file_type="frame")
    if time_column is None and _long_columns(df) is not None:
        return _long_to_read(df, asset=asset, source=source, default_asset=default_asset, base=base)
    groups = _wide_assets(df, source=source)
    if groups is not None:  # a wide file of several assets (``geniot simulate --layout wide``)
        if asset is not None and asset not in groups:
            raise DataError(f"asset {asset!r} is not in the file; assets: {sorted(groups)}", file=source)
        table, reports = {}, []
        for name, rows in groups.items():
            if asset is not None and name != asset:
                continue
            try:
                series, report = _wide_to_series(df.iloc[rows].reset_index(drop=True), time_column=time_column,
                                                 asset=name, source=source, base=base)  # fmt: skip
            except DataError as exc:  # name the row of the file, not of the asset's rows
                row = None if exc.row is None else int(rows[exc.row - 1]) + 1
                raise DataError(f"{exc.reason} (asset {name!r})", file=exc.file, column=exc.column, row=row) from None
            table[name] = series
            reports.append(report)
        return DataRead(table, tuple(reports))
    name = asset if asset is not None else default_asset
    series, report = _wide_to_series(df, time_column=time_column, asset=name, source=source, base=base)
    return DataRead({name: series}, (report,))


def _wide_assets(df: pd.DataFrame, *, source: str | None) -> dict[str, np.ndarray] | None:
    """Row positions of each asset of a wide frame whose ``asset`` column names more than one
    asset (in order of appearance); None for a file of one asset. The column stays in each
    asset's frame, so that it is written back as it was."""
    column = _lower_names(df).get("asset")
    if column is None:
        return None
    cells = df[column].astype(str).str.strip()
    names = pd.unique(cells[df[column].notna()])
    if len(names) < 2:
        return None
    names_all = _text_column(df[column], name=column, source=source)  # an empty asset cell is an error
    return {str(a): np.flatnonzero(names_all == a) for a in names}


def _normalize_long(
    df: pd.DataFrame, *, asset: str | None, source: str | None
) -> tuple[pd.DataFrame, dict[str, str], _Times, dict[str, NumberFormat], dict[str, str]]:
    """(canonical long frame, columns, times, number formats of value and quality, units by signal)."""
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
    quality_fmt = NumberFormat()
    if "quality" in columns:
        quality, quality_fmt = _numeric(df[columns["quality"]], name=columns["quality"], source=source)
    else:
        quality = np.ones(n)
    times = _parse_times(df[columns["ts"]], name=columns["ts"], source=source)
    values, value_fmt = _numeric(df[columns["value"]], name=columns["value"], source=source)
    signals = _text_column(df[columns["signal"]], name=columns["signal"], source=source)
    units: dict[str, str] = {}
    if "unit" in columns:
        unit_cells, blank = _cells(df[columns["unit"]])
        for sig, unit in zip(signals[~blank], unit_cells[~blank], strict=True):
            units.setdefault(sig, unit)
    long = pd.DataFrame(
        {"ts": times.times, "asset": assets, "signal": signals, "value": values, "quality": quality},
        columns=list(LONG_COLUMNS),
    )
    return long, columns, times, {"value": value_fmt, "quality": quality_fmt}, units


def _long_to_read(
    df: pd.DataFrame, *, asset: str | None, source: str | None, default_asset: str | None, base: FileLayout
) -> DataRead:
    long, columns, times, number_fmts, units = _normalize_long(df, asset=asset if asset is not None else default_asset, source=source)
    key = ["asset", "signal", "ts"]
    duplicate = long.duplicated(key).to_numpy()
    if duplicate.any():
        i = _first_bad(duplicate)
        asset_, signal, _ = long[key].iloc[i]
        first = int(np.flatnonzero((long[key] == long[key].iloc[i]).all(axis=1))[0]) + 1
        raise DataError(
            f"duplicate reading for asset {asset_!r}, signal {signal!r} at "
            f"{times.shown[i]} (same as row {first})",
            file=source,
            column=columns["ts"],
            row=i + 1,
        )
    renamed, notes = {}, []
    for text in pd.unique(long["signal"]):
        good = _signal_name(text, set(renamed.values()))
        if good != text:
            renamed[text] = good
            notes.append(f"signal {text!r} renamed {good!r} (names allow letters, digits, '_', '.', '-', ':' and spaces)")
    if renamed:
        long["signal"] = long["signal"].map(lambda s: renamed.get(s, s))
        units = {renamed.get(k, k): v for k, v in units.items()}
    names = list(pd.unique(long["asset"]))
    if asset is not None and "asset" in columns:
        if asset not in names:
            raise DataError(
                f"asset {asset!r} is not in the data; it has {sorted(names)}", file=source
            )
        names = [asset]
    specs = []
    for header in df.columns:
        canonical = next((k for k, v in columns.items() if v == header), None)
        if canonical is None:
            specs.append(ColumnSpec(header, IGNORED, reason="not a column of the long layout (ts, asset, signal, value, quality, unit)"))
        else:
            specs.append(ColumnSpec(header, LONG, canonical, number=number_fmts.get(canonical)))
    layout = dataclasses.replace(
        base, layout="long", decimal=number_fmts["value"].decimal, time=times.fmt, columns=tuple(specs),
        signal_text={v: k for k, v in renamed.items()},
    )  # fmt: skip
    table = {}
    for name in names:
        s = long_to_series(long, name, source=source)
        table[name] = dataclasses.replace(s, units={c: u for c, u in units.items() if c in s.channels}, layout=layout)
    gaps = {}
    report = ReadReport(str(source), layout, len(df), tuple(names), gaps, tuple(notes))
    return DataRead(table, (report,))


def _signal_name(text: str, taken: set[str]) -> str:
    name = text if is_valid_name(text) else safe_component(text)
    if name in taken:
        raise DataError(f"two columns or signals give the signal name {name!r}; rename one", column=text)
    return name


def _is_label(column) -> bool:
    return str(column).strip().lower() in LABEL_NAMES


def _wide_time(df: pd.DataFrame, *, time_column: str | None, source: str | None) -> _Times:
    """The timestamps of a wide frame; ``times`` is None when it has no time column."""
    if time_column is not None:
        if time_column not in df.columns:
            raise DataError(f"there is no time column {time_column!r}", file=source)
        name = time_column
    else:
        name = next((c for c in df.columns if _is_time_name(c)), None)
    if name is None:
        if isinstance(df.index, pd.DatetimeIndex):
            times = to_datetime64(df.index)
            check_increasing(times, file=source, column="index")
            zone = df.index.tz
            return _Times(times, None, TimeFormat("native", zone=None if zone is None else str(zone)))
        return _first_column_times(df, source=source)
    found = _parse_times(df[name], name=name, source=source)
    check_increasing(found.times, file=source, column=name, shown=found.shown)
    return found


def _first_column_times(df: pd.DataFrame, *, source: str | None) -> _Times:
    """Use the first column as time when every cell of it is a date (e.g. an unnamed index)."""
    name = df.columns[0]
    col = df[name]
    if not (ptypes.is_datetime64_any_dtype(col) or _all_date_text(col)):
        return _Times(None)
    found = _parse_times(col, name=name, source=source)
    check_increasing(found.times, file=source, column=name, shown=found.shown)
    return found


def _all_date_text(col: pd.Series) -> bool:
    """True for a text column whose every cell is a date and none is a plain number."""
    if not _is_text(col) or col.isna().any():
        return False
    cells = col.astype(str).str.strip()
    if pd.to_numeric(cells, errors="coerce").notna().any():
        return False
    number = formats.detect_number_format(cells.head(50))
    if number is not None and formats.parse_numbers(cells.head(50), number).notna().any():
        return False  # numbers such as 12,5 are not dates
    try:
        fmt = formats.detect_time_format(cells)
    except formats._TimeProblem:
        return False
    if fmt is not None:
        return bool(formats.parse_time_text(cells, fmt)[0].notna().all())
    # an unknown format: pandas' guesser, on a few cells first (it is slow on free text)
    if pd.to_datetime(cells.head(20), errors="coerce", utc=True, format="mixed").isna().any():
        return False
    return bool(pd.to_datetime(cells, errors="coerce", utc=True, format="mixed").notna().all())


def _file_decimal(df: pd.DataFrame, skip: set[str]) -> str | None:
    """The decimal mark the file's columns show evidence of (None when none does)."""
    votes: Counter[str] = Counter()
    for name in df.columns:
        if name in skip or not _is_text(df[name]):
            continue
        text, blank = _cells(df[name].head(2000))
        try:
            fmt = formats.detect_number_format(text[~blank]) if (~blank).any() else None
        except formats._MixedMarks:
            continue
        if fmt is not None and fmt.note is None and (fmt.decimal == "," or fmt.thousands or not fmt.integer):
            votes[fmt.decimal] += 1
    return votes.most_common(1)[0][0] if votes else None


def _wide_to_series(
    df: pd.DataFrame, *, time_column: str | None, asset: str | None, source: str | None, base: FileLayout
) -> tuple[SensorSeries, ReadReport]:
    time = _wide_time(df, time_column=time_column, source=source)
    specs: list[ColumnSpec] = []
    channels, columns, units, categorical, gaps = [], [], {}, {}, {}
    hint = _file_decimal(df, skip={time.name} if time.name else set())
    taken: set[str] = set()
    for name in df.columns:
        if name == time.name:
            specs.append(ColumnSpec(name, TIME, "timestamp"))
            continue
        if _is_label(name):
            specs.append(ColumnSpec(name, LABEL, str(name)))
            continue
        col = df[name]
        parsed = _numeric_or_none(col, name=name, source=source, allow_text=True, hint=hint)
        split = formats.split_header(str(name))
        if parsed is None:
            specs.append(_text_spec(col, split, taken, categorical))
            continue
        values, fmt = parsed
        signal = _signal_name(split.name, taken) if split.unit else _signal_name(str(name), taken)
        taken.add(signal)
        note = None
        if signal != split.name:
            note = f"renamed {signal!r} (names allow letters, digits, '_', '.', '-', ':' and spaces)"
        if np.isnan(values).all():
            note = "every cell is empty" if note is None else f"{note}; every cell is empty"
        channels.append(signal)
        columns.append(values)
        gaps[signal] = int(np.isnan(values).sum())
        if split.unit:
            units[signal] = split.unit
        specs.append(ColumnSpec(name, SIGNAL, signal, split.unit, fmt, split, note=note))
    decimal = hint or next((s.number.decimal for s in specs if s.number is not None), ".")
    layout = dataclasses.replace(base, layout="wide", decimal=decimal, time=time.fmt, columns=tuple(specs))
    report = ReadReport(str(source), layout, len(df), (str(asset),), gaps)
    if not channels:
        raise DataError(
            f"there is no numeric signal column (columns: {[str(c) for c in df.columns]}); "
            + "; ".join(report.lines()[1:]).strip(),
            file=source,
        )
    series = SensorSeries(
        timestamps=time.times,
        values=np.column_stack(columns),
        channels=tuple(channels),
        asset=asset,
        units=units,
        source=source,
        categorical=categorical,
        layout=layout,
    )
    return series, report


def _text_spec(col: pd.Series, split, taken: set[str], categorical: dict) -> ColumnSpec:
    """A text column: an operating mode/status kept as categorical, or ignored with the reason."""
    header = split.text
    if ptypes.is_datetime64_any_dtype(col) or _all_date_text(col):
        return ColumnSpec(header, IGNORED, reason="a second time column")
    text, blank = _cells(col)
    filled = text[~blank]
    distinct = filled.nunique()
    if distinct <= min(_MAX_CATEGORIES, max(1, len(filled) // 2)):
        name = _signal_name(header, taken)
        taken.add(name)
        categorical[name] = np.where(blank, None, text.to_numpy(dtype=object, na_value=None))
        values = ", ".join(map(str, pd.unique(filled)[:8])) + (" ..." if distinct > 8 else "")
        return ColumnSpec(header, CATEGORICAL, name, note=f"{distinct} value(s): {values}")
    return ColumnSpec(
        header, IGNORED, reason=f"free text ({distinct} different values in {len(filled)} cells), not a signal or an operating mode"
    )
