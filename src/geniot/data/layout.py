"""How a data file was written, what reading it took and left, and writing output the same way.

Reading a file records a :class:`FileLayout` (separator, decimal marks, time format and zone,
headers with their units, column order) and a :class:`ReadReport` (every column and what became
of it). The layout travels with the series (``SensorSeries.layout``), so that every command that
writes data (impute, detect, forecast, export) writes it in the input's own layout:
:func:`render` turns a frame with geniot's names into one with the file's headers and formats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
from pandas.api import types as ptypes

from geniot.data.formats import Header, NumberFormat, TimeFormat, format_numbers, format_times

# Roles of a column in a file.
TIME, SIGNAL, CATEGORICAL, LABEL, IGNORED, LONG = "time", "signal", "categorical", "label", "ignored", "long"
DERIVED_SUFFIXES = ("_lower", "_upper")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a file: its header as written, its role, and what geniot calls it."""

    header: str
    role: str
    name: str | None = None  # signal/condition name, or the canonical long column (ts, signal, ...)
    unit: str | None = None
    number: NumberFormat | None = None
    split: Header | None = None
    reason: str | None = None  # why an ignored column was not read
    note: str | None = None  # anything else the user should know (renamed, ambiguous, empty)


@dataclass(frozen=True)
class FileLayout:
    """How a file lays out and writes its readings; the writer's recipe for output."""

    layout: str = "wide"  # "wide" or "long"
    file_type: str = "csv"  # "csv" or "parquet"
    sep: str = ","
    decimal: str = "."
    encoding: str = "utf-8"
    time: TimeFormat | None = None
    columns: tuple[ColumnSpec, ...] = ()
    signal_text: dict[str, str] = field(default_factory=dict)  # long layout: signal name -> as written

    def column(self, role: str, name: str | None = None) -> ColumnSpec | None:
        return next((c for c in self.columns if c.role == role and (name is None or c.name == name)), None)

    @property
    def time_header(self) -> str | None:
        spec = self.column(TIME)
        return None if spec is None else spec.header

    def describe(self) -> str:
        parts = [f"{self.layout} layout"]
        if self.file_type == "csv":
            parts.append(f"separator {_shown(self.sep)}, decimal {self.decimal!r}")
            if self.encoding.startswith("cp"):
                parts.append(f"encoding {self.encoding} (Windows)")
            marks = sorted({c.number.thousands for c in self.columns if c.number and c.number.thousands})
            if marks:
                parts.append(f"thousands {', '.join(map(repr, marks))}")
        if self.time is not None:
            parts.append(f"times {self.time.describe()}")
        else:
            parts.append("no time column (rows are steps)")
        return "; ".join(parts)


def _shown(sep: str) -> str:
    return "tab" if sep == "\t" else repr(sep)


@dataclass(frozen=True)
class ReadReport:
    """What reading one file took, what it left and why, and how the file is written."""

    file: str
    layout: FileLayout
    rows: int
    assets: tuple[str, ...]
    gaps: dict[str, int] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        out = [f"read {self.file}: {self.rows} rows, {len(self.assets)} asset(s) {', '.join(self.assets)}; {self.layout.describe()}"]
        by_role: dict[str, list[str]] = {}
        for c in self.layout.columns:
            by_role.setdefault(c.role, []).append(_column_text(c))
        for role, title in ((TIME, "time"), (SIGNAL, "signals"), (CATEGORICAL, "conditions (text, kept as categories)"),
                            (LABEL, "labels (kept out of the signals)"), (LONG, "long-layout columns"),
                            (IGNORED, "ignored")):  # fmt: skip
            if role in by_role:
                out.append(f"  {title}: {'; '.join(by_role[role])}")
        gaps = {k: v for k, v in self.gaps.items() if v}
        if gaps:
            out.append(f"  gaps (empty cells): {sum(gaps.values())} ({', '.join(f'{k} {v}' for k, v in gaps.items())})")
        if self.layout.time is not None and self.layout.time.note:
            out.append(f"  note: {self.layout.time.note}")
        out.extend(f"  note: {n}" for n in self.notes)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())

    @property
    def ignored(self) -> dict[str, str]:
        return {c.header: c.reason or "" for c in self.layout.columns if c.role == IGNORED}


def _column_text(c: ColumnSpec) -> str:
    text = c.header
    if c.name is not None and c.name != c.header and c.role != LONG:
        text += f" -> {c.name}"
    if c.role == LONG:
        text += f" ({c.name})"
    extra = [f"unit {c.unit}"] if c.unit else []
    if c.number is not None and c.role in (SIGNAL, LONG) and (c.number.decimal != "." or c.number.thousands):
        extra.append(f"decimal {c.number.decimal!r}" + (f", thousands {c.number.thousands!r}" if c.number.thousands else ""))
    for item in (c.reason, c.note, c.number.note if c.number else None):
        if item:
            extra.append(item)
    return text + (f" ({'; '.join(extra)})" if extra else "")


# ---------------------------------------------------------------------------------------- writing
def render(frame: pd.DataFrame, layout: FileLayout | None, *, as_text: bool) -> pd.DataFrame:
    """``frame`` (geniot's names: ``timestamp``/``ts``, signal names, ``<signal>_lower``...) with the
    file's headers, column order, time format and zone; with ``as_text`` (CSV) numbers are written
    with each column's decimal and thousands marks."""
    if layout is None:
        return frame
    out = frame.copy()
    headers: dict[str, str] = {}
    for name in out.columns:
        spec, suffix = _spec_for(layout, str(name))
        if spec is None:
            continue
        headers[name] = spec.header if not suffix else (spec.split.with_name(spec.name + suffix) if spec.split else spec.header + suffix)
        number = spec.number if spec.role in (SIGNAL, LONG) else NumberFormat(layout.decimal)
        if ptypes.is_datetime64_any_dtype(out[name]):
            out[name] = format_times(out[name], layout.time if as_text else _native(layout.time))
        elif as_text and number is not None and ptypes.is_float_dtype(out[name]):
            out[name] = format_numbers(out[name], number)
    for name in out.columns:
        if name in headers:
            continue
        if ptypes.is_datetime64_any_dtype(out[name]):
            out[name] = format_times(out[name], layout.time if as_text else _native(layout.time))
        elif as_text and ptypes.is_float_dtype(out[name]):
            out[name] = format_numbers(out[name], NumberFormat(layout.decimal))
    if layout.layout == "long" and "signal" in out.columns and layout.signal_text:
        out["signal"] = out["signal"].map(lambda s: layout.signal_text.get(s, s))
    out = out.rename(columns=headers)
    order = [c.header for c in layout.columns if c.header in out.columns]
    return out[order + [c for c in out.columns if c not in order]]


def _native(time: TimeFormat | None) -> TimeFormat | None:
    """Typed timestamps (Parquet) in the input's zone."""
    if time is None:
        return None
    return TimeFormat("native", zone=time.zone)


def _spec_for(layout: FileLayout, name: str) -> tuple[ColumnSpec | None, str]:
    """The file's column behind ``name``, and the suffix of a derived column (``Temp_lower``)."""
    if name in ("timestamp", "ts"):
        spec = layout.column(TIME) if layout.layout == "wide" else layout.column(LONG, "ts")
        return (spec if spec is not None else None), ""
    roles = (LONG,) if layout.layout == "long" else (SIGNAL, CATEGORICAL, LABEL)
    for spec in layout.columns:
        if spec.role in roles and spec.name == name:
            return spec, ""
    if layout.layout == "long":
        value = layout.column(LONG, "value")
        if value is not None and name in ("lower", "upper"):
            return ColumnSpec(name, LONG, name, number=value.number), ""
        return None, ""
    for suffix in DERIVED_SUFFIXES:
        if name.endswith(suffix):
            spec = layout.column(SIGNAL, name[: -len(suffix)])
            if spec is not None:
                return spec, suffix
    return None, ""
