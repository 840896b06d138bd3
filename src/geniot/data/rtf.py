"""Run-to-failure data from a user's CSV: ``unit``, a time column, sensors (``;`` or ``,``).

The time column is a ``timestamp`` (parsed; the RUL is then in seconds, minutes or hours, and
the sampling interval is read from the timestamps) or a ``cycle`` / ``time`` count (the RUL is
in cycles, or in a time unit when ``interval`` says how long one cycle step is). Every choice is
returned as a sentence in ``notes`` so that the caller can print it. The truth file for scoring
is a CSV of ``unit, rul``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

TIME_COLUMNS = ("timestamp", "time", "datetime", "date", "cycle", "cycles", "snapshot")
UNIT_COLUMNS = ("unit", "unit_id", "bearing", "asset", "machine", "engine", "id")
_SECONDS = {"s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0}


@dataclass
class RTFData:
    frame: pd.DataFrame  # unit, cycle (row order 1..n per unit), time (in time_unit), other columns
    time_unit: str
    interval: float  # median sampling interval in time_unit
    notes: list[str] = field(default_factory=list)


def parse_interval(text: str) -> tuple[float, str | None]:
    """``"10s"`` -> (10, "s"); ``"1.5h"`` -> (1.5, "h"); ``"2"`` -> (2, None)."""
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(s|sec|min|h|d)?\s*", str(text))
    if not m or float(m.group(1)) <= 0:
        raise DataError(f"--interval {text!r}: give a positive number with an optional unit s, min, h or d (e.g. 10s)")
    unit = {"sec": "s"}.get(m.group(2), m.group(2))
    return float(m.group(1)), unit


def _pick(frame: pd.DataFrame, wanted: str | None, candidates, what: str, source: str) -> str:
    if wanted is not None:
        if wanted not in frame:
            raise DataError(f"no {what} column {wanted!r}; columns are {list(frame.columns)[:12]}", file=source)
        return wanted
    lower = {str(c).lower(): c for c in frame.columns}
    for name in candidates:
        if name in lower:
            return lower[name]
    raise DataError(f"no {what} column: name one of {list(candidates)} or pass it by option; "
                    f"columns are {list(frame.columns)[:12]}", file=source)  # fmt: skip


def _time_unit_for(life_s: float) -> str:
    return "h" if life_s >= 10 * 3600 else "min" if life_s >= 10 * 60 else "s"


def read_rtf(
    path,
    *,
    unit_column: str | None = None,
    time_column: str | None = None,
    interval: str | None = None,
    time_unit: str | None = None,
) -> RTFData:
    """Read a run-to-failure CSV (or Parquet) into :class:`RTFData`."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=source)
    try:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read as CSV ({exc})", file=source) from None
    if frame.empty:
        raise DataError("there are no rows", file=source)
    return frame_to_rtf(frame, unit_column=unit_column, time_column=time_column, interval=interval,
                        time_unit=time_unit, source=source)  # fmt: skip


def frame_to_rtf(
    frame: pd.DataFrame,
    *,
    unit_column: str | None = None,
    time_column: str | None = None,
    interval: str | None = None,
    time_unit: str | None = None,
    source: str = "<frame>",
) -> RTFData:
    notes: list[str] = []
    ucol = _pick(frame, unit_column, UNIT_COLUMNS, "unit", source)
    tcol = _pick(frame, time_column, TIME_COLUMNS, "time (timestamp or cycle)", source)
    if time_unit is not None and time_unit not in _SECONDS:
        raise DataError(f"--time-unit {time_unit!r}: use s, min, h or d")
    frame = frame.rename(columns={ucol: "unit"})
    raw = frame[tcol]
    numeric = pd.to_numeric(raw, errors="coerce")
    given = parse_interval(interval) if interval is not None else None
    if numeric.notna().all():  # a cycle / step count
        steps = numeric.to_numpy(dtype=float)
        if given is None or given[1] is None:
            step = given[0] if given else 1.0
            seconds, unit = None, "cycles"
            t = steps * step
            notes.append(f"time: column {tcol!r} counts cycles; RUL in cycles"
                         + (f" (one step = {step:g} cycles)" if given else " (give --interval 10s to have it in time units)"))
        else:
            seconds = steps * given[0] * _SECONDS[given[1]]
            unit, t = None, None
            notes.append(f"time: column {tcol!r} counts steps of {interval} (--interval)")
    else:
        stamps = pd.to_datetime(raw, errors="coerce", utc=True)
        bad = stamps.isna().to_numpy()
        if bad.any():
            row = int(np.flatnonzero(bad)[0])
            raise DataError(f"not a timestamp or number: {raw.iloc[row]!r}", file=source, column=str(tcol), row=row + 2)
        seconds = (stamps - stamps.min()).dt.total_seconds().to_numpy()
        unit, t = None, None
        notes.append(f"time: column {tcol!r} holds timestamps")
    frame = frame.drop(columns=[tcol])
    frame.insert(1, "_t", seconds if t is None else t)
    frame = frame.sort_values(["unit", "_t"], kind="stable").reset_index(drop=True)
    dup = frame.duplicated(["unit", "_t"])
    if dup.any():
        row = int(np.flatnonzero(dup.to_numpy())[0])
        raise DataError(f"unit {frame['unit'].iloc[row]!r} has two rows at the same time", file=source, column=str(tcol))
    if unit is None:  # seconds: choose the unit from the typical life
        lives_s = frame.groupby("unit")["_t"].agg(lambda s: s.max() - s.min())
        unit = time_unit or _time_unit_for(float(lives_s.median()))
        frame["_t"] = frame["_t"] / _SECONDS[unit]
        if time_unit is None:
            notes.append(f"time unit: {unit} (median unit life {lives_s.median() / _SECONDS[unit]:.3g} {unit}; --time-unit to change)")
    # time from each unit's first row, so that elapsed time and life mean the same for every unit
    frame["_t"] = frame["_t"] - frame.groupby("unit")["_t"].transform("min")
    diffs = frame.groupby("unit")["_t"].diff().dropna()
    if (diffs <= 0).any():
        raise DataError("time does not increase within a unit", file=source, column=str(tcol))
    step = float(diffs.median()) if len(diffs) else 1.0
    spread = float(diffs.std() / step) if len(diffs) > 1 and step > 0 else 0.0
    notes.append(f"sampling interval: {step:.4g} {unit} (median step{'; irregular, spread %.0f%%' % (100 * spread) if spread > 0.1 else ''})")
    frame.insert(1, "cycle", frame.groupby("unit").cumcount() + 1)
    frame = frame.rename(columns={"_t": "time"})
    return RTFData(frame, unit, step, notes)


def read_unit_rul(path) -> pd.DataFrame:
    """Truth for scoring: a CSV of ``unit, rul`` (``;`` or ``,``), one row per unit."""
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    try:
        frame = pd.read_csv(path, sep=None, engine="python")
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read as CSV ({exc})", file=str(path)) from None
    lower = {str(c).lower().strip(): c for c in frame.columns}
    ucol = next((lower[c] for c in UNIT_COLUMNS if c in lower), None)
    rcol = next((lower[c] for c in ("rul", "true_rul", "remaining") if c in lower), None)
    if ucol is None or rcol is None:
        raise DataError(f"a truth file needs columns unit and rul, got {list(frame.columns)}", file=str(path))
    rul = pd.to_numeric(frame[rcol], errors="coerce")
    if rul.isna().any():
        row = int(np.flatnonzero(rul.isna().to_numpy())[0])
        raise DataError("not a number", file=str(path), column=str(rcol), row=row + 2)
    if (rul < 0).any():
        raise DataError("a negative RUL", file=str(path), column=str(rcol))
    out = pd.DataFrame({"unit": frame[ucol], "rul": rul.astype(float)})
    if out["unit"].duplicated().any():
        raise DataError(f"unit {out['unit'][out['unit'].duplicated()].iloc[0]!r} appears twice", file=str(path))
    return out


def detect_conditions(frame: pd.DataFrame, columns, *, max_values: int = 12, max_changes: float = 0.05) -> list[str]:
    """Columns that look like operating conditions: few distinct values, piecewise constant per
    unit (changes on at most ``max_changes`` of the rows)."""
    found = []
    for c in columns:
        values = frame[c]
        n_distinct = values.nunique(dropna=True)
        if n_distinct < 2 or n_distinct > max_values:
            continue
        changes = (values.groupby(frame["unit"]).diff().fillna(0) != 0) if pd.api.types.is_numeric_dtype(values) \
            else (values != values.groupby(frame["unit"]).shift().fillna(values))  # fmt: skip
        if float(changes.mean()) <= max_changes:
            found.append(c)
    return found
