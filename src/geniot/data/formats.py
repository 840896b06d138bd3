"""How plants write numbers, times and headers: detect a column's format from its text, parse it.

Historian and spreadsheet exports differ by country and tool: ``12,5`` or ``12.5``, ``1.234,5``
or ``1,234.5``, ``31.01.2026 13:05``, ``01/31/2026 1:05 PM``, ISO times with ``+01:00``, Excel
serial day numbers, ``Temp [°C]`` headers. Each format is detected per column from the values
themselves and remembered, so that output can be written the same way. Nothing here guesses
silently: an ambiguity is either resolved by evidence elsewhere in the file or said in ``note``.
"""

from __future__ import annotations

import datetime
import re
import zoneinfo
from dataclasses import dataclass

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geniot.core.exceptions import DataError

# ------------------------------------------------------------------------------------- numbers
_INT = re.compile(r"^[+-]?\d+(?:[eE][+-]?\d+)?$")  # 12 or 1e-07: no decimal mark, fits any column
_EXP = r"(?:[eE][+-]?\d+)?"
_DOT = re.compile(rf"^[+-]?(?:\d+\.\d*|\.\d+){_EXP}$")
_COMMA = re.compile(rf"^[+-]?(?:\d+,\d*|,\d+){_EXP}$")
_GROUPED = {  # thousands mark -> integer part grouped in threes, optional decimal part
    ".": re.compile(r"^[+-]?[1-9]\d{0,2}(?:\.\d{3})+(?:,\d*)?$"),
    ",": re.compile(r"^[+-]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d*)?$"),
}  # grouped numbers never start with 0, so "0.123" is a decimal
_ONE_GROUP = {".": re.compile(r"^[+-]?[1-9]\d{0,2}\.\d{3}$"), ",": re.compile(r"^[+-]?[1-9]\d{0,2},\d{3}$")}


@dataclass(frozen=True)
class NumberFormat:
    """How one column writes its numbers."""

    decimal: str = "."
    thousands: str | None = None
    integer: bool = False  # every value was written without a decimal part
    note: str | None = None  # an ambiguity, said in the read report
    decimals: int | None = None  # every value was written with this many decimals (1,610): kept on output


def detect_number_format(text: pd.Series, *, decimal_hint: str | None = None) -> NumberFormat | None:
    """The number format of a column of non-blank, stripped cells, or None when no cell looks like
    a number. ``decimal_hint`` (the file's decimal mark from its other columns) settles a column
    whose every value fits both readings (``1.234`` is 1.234 or 1234)."""
    cells = text.astype("str")
    fast = _plain_format(cells)
    if fast is not None:
        return fast
    dot = cells.str.match(_DOT)
    comma = cells.str.match(_COMMA)
    grouped = {mark: cells.str.match(rx) for mark, rx in _GROUPED.items()}
    one_group = {mark: cells.str.match(rx) for mark, rx in _ONE_GROUP.items()}
    integer = cells.str.match(_INT)
    if not (dot | comma | grouped["."] | grouped[","] | integer).any():
        return None
    # Evidence that cannot be read the other way round.
    comma_decimal = (comma & ~one_group[","]) | (grouped["."] & cells.str.contains(",", regex=False))
    comma_decimal |= grouped["."] & ~one_group["."] & ~dot  # 1.234.567 groups by dots
    dot_decimal = (dot & ~one_group["."]) | (grouped[","] & cells.str.contains(".", regex=False))
    dot_decimal |= grouped[","] & ~one_group[","] & ~comma  # 1,234,567 groups by commas
    if comma_decimal.any() and dot_decimal.any():
        i, j = int(np.argmax(dot_decimal.to_numpy())), int(np.argmax(comma_decimal.to_numpy()))
        raise _MixedMarks(cells.iloc[i], cells.iloc[j], i, j)
    note = None
    if comma_decimal.any():
        decimal = ","
    elif dot_decimal.any():
        decimal = "."
    elif one_group["."].any() or one_group[","].any():
        decimal, source = _ambiguous_decimal(one_group, integer, decimal_hint)
        example = cells[one_group["."] | one_group[","]].iloc[0]
        reading = _parse(pd.Series([example]), decimal, "." if decimal == "," else ",").iloc[0]
        note = f"values such as {example!r} fit two readings; read as {reading:g} (decimal {decimal!r}, {source})"
    else:
        decimal = decimal_hint or "."
    other = "," if decimal == "." else "."
    thousands = other if cells.str.contains(other, regex=False).any() else None
    parsed_int = integer | (grouped[other] & ~cells.str.contains(decimal, regex=False)) if thousands else integer
    numeric = dot | comma | grouped["."] | grouped[","] | integer
    return NumberFormat(decimal, thousands, bool(parsed_int[numeric].all()), note, _fixed_decimals(cells, decimal))


def _ambiguous_decimal(one_group: dict[str, pd.Series], integer: pd.Series, hint: str | None) -> tuple[str, str]:
    """The decimal mark of a column whose every marked value is like ``1,234`` (one mark, three
    digits after it), decided from the whole column, with the reason. The file's other columns
    decide first; a dot is then a decimal point. A comma groups thousands where some values are
    written bare (``999``: values under 1000 need no mark), else the column writes three decimals."""
    if hint:
        return hint, "as the file's other columns"
    if one_group["."].any():  # 1.234 alone: a decimal point, as in most files
        return ".", "the default; no other column tells"
    if integer.any():
        return ".", "some values are written without ',', so it groups thousands"
    return ",", "every value has three digits after ',' and none is written without it"


def _plain_format(cells: pd.Series) -> NumberFormat | None:
    """The common case at C speed: every cell a plain number with a decimal point (or none), and
    nothing that could be a thousands mark; None to look closer."""
    if cells.str.contains(",", regex=False).any() or fast_floats(cells) is None:
        return None
    has_dot = cells.str.contains(".", regex=False)
    if has_dot.any() and cells[has_dot].str.match(_ONE_GROUP["."].pattern).all():
        return None  # only values like "1.234": they may hold a thousands mark, look closer
    integer = not (has_dot.any() or cells.str.contains(r"[eE]-", regex=True).any())
    return NumberFormat(".", None, integer, decimals=_fixed_decimals(cells, "."))


def _fixed_decimals(cells: pd.Series, decimal: str) -> int | None:
    """The number of decimals every cell is written with (``1,610`` and ``2,000``: 3), or None
    when they differ, a cell has none, or a cell is in exponent notation."""
    if cells.empty or cells.str.contains(r"[eE]", regex=True).any():
        return None
    after = cells.str.rpartition(decimal)
    if (after[1] != decimal).any():
        return None
    lengths = after[2].str.len().unique()
    return int(lengths[0]) if len(lengths) == 1 and lengths[0] > 0 else None


class _MixedMarks(Exception):
    def __init__(self, dot_cell: str, comma_cell: str, dot_pos: int, comma_pos: int) -> None:
        super().__init__(dot_cell, comma_cell)
        self.dot_cell, self.comma_cell, self.dot_pos, self.comma_pos = dot_cell, comma_cell, dot_pos, comma_pos


def parse_numbers(text: pd.Series, fmt: NumberFormat) -> pd.Series:
    """Cells as float64 in ``fmt``; a cell that is not a number in that format becomes NaN."""
    return _parse(text, fmt.decimal, fmt.thousands)


def fast_floats(cells: pd.Series) -> np.ndarray | None:
    """Cells that are all plain numbers (``1.5``, ``1e-07``; missing as NaN) as floats, parsed by
    Arrow in C++; None when any cell is not one."""
    try:
        return pc.cast(pa.array(cells.astype("str").array), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError):
        return None


def _parse(text: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    if decimal == "." and not thousands:
        fast = fast_floats(text)
        if fast is not None:
            return pd.Series(fast, index=text.index)
    cells = text.astype("str")
    if thousands:
        well_grouped = cells.str.match(_GROUPED[thousands]) | ~cells.str.contains(thousands, regex=False)
        cells = cells.where(well_grouped, "x").str.replace(thousands, "", regex=False)
    if decimal == ",":
        cells = cells.where(~cells.str.contains(".", regex=False), "x").str.replace(",", ".", regex=False)
    else:
        cells = cells.where(~cells.str.contains(",", regex=False), "x")
    return pd.to_numeric(cells, errors="coerce").astype(np.float64)


def mixed_marks_error(exc: _MixedMarks, *, column: str, source: str | None) -> DataError:
    return DataError(
        f"the column mixes decimal marks: {exc.dot_cell!r} (row {exc.dot_pos + 1}) and "
        f"{exc.comma_cell!r} (row {exc.comma_pos + 1}); write every value the same way",
        file=source,
        column=column,
        row=max(exc.dot_pos, exc.comma_pos) + 1,
    )


def format_numbers(values: pd.Series, fmt: NumberFormat) -> pd.Series:
    """Floats as text in ``fmt`` (shortest round-trip digits, or the column's fixed decimals; NaN
    as an empty cell)."""
    arr = values.to_numpy(dtype=np.float64)
    if fmt.decimals and not fmt.integer:  # the file's fixed number of decimals
        text = pd.Series([f"{v:.{fmt.decimals}f}" if np.isfinite(v) else repr(float(v)) for v in arr], index=values.index, dtype=object)
    else:
        text = pd.Series([repr(float(v)) for v in arr], index=values.index, dtype=object)
    text = text.where(~np.isnan(arr), "")
    if fmt.integer:
        text = text.str.replace(r"\.0$", "", regex=True)
    if fmt.decimal == "." and not fmt.thousands:
        return text
    plain = text.ne("") & ~text.str.contains(r"[eEn]", regex=True)  # not 1e-05, inf or nan
    if plain.any():
        parts = text[plain].str.partition(".")
        ints = parts[0]
        if fmt.thousands:
            ints = ints.str.replace(r"(\d)(?=(\d{3})+$)", r"\1" + fmt.thousands, regex=True)
        text[plain] = ints + np.where(parts[1] == ".", fmt.decimal + parts[2], "")
    exponent = text.ne("") & ~plain
    text[exponent] = text[exponent].str.replace(".", fmt.decimal, regex=False)
    return text


# ---------------------------------------------------------------------------------------- times
_ISO = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})(?:(?P<sep>[T ])(?P<hm>\d{2}:\d{2})(?P<s>:\d{2}(?P<frac>\.\d+)?)?)?"
    r"\s*(?P<off>Z|[+-]\d{2}:?\d{2})?$"
)
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_DMY_DOT = re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}")
_SLASH = re.compile(r"^(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4})")
_CLOCK = re.compile(r"\s+(?P<h>\d{1,2}):\d{2}(?P<s>:\d{2}(?P<frac>\.\d+)?)?(?:\s*(?P<ampm>[AaPp][Mm]))?$")
EXCEL_ORIGIN = pd.Timestamp("1899-12-30")
_EXCEL_RANGE = (20_000.0, 80_000.0)  # 1954 .. 2119: serial day numbers, not counters
_PREFERRED_ZONES = (
    "Europe/Berlin", "Europe/London", "Europe/Paris", "Europe/Vienna", "Europe/Zurich", "Europe/Helsinki",
    "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo",
    "Australia/Sydney", "Asia/Tokyo", "Asia/Shanghai", "Asia/Kolkata",
)  # fmt: skip


@dataclass(frozen=True)
class TimeFormat:
    """How a time column writes its timestamps; readings inside geniot are naive UTC.

    ``kind``: ``"iso"`` (``pattern`` is the strftime of the wall time, offsets appended in
    ``offset_style``), ``"pattern"`` (a strftime such as ``%d.%m.%Y %H:%M``), ``"excel"`` (serial
    day numbers), ``"epoch"`` (Unix epoch numbers, ``pattern`` the unit: s, ms, us or ns) or ``"native"`` (already typed, e.g. Parquet). ``zone`` is None for naive times,
    a fixed offset such as ``"+01:00"``, or a zone name found to match every offset in the file.
    """

    kind: str = "iso"
    pattern: str = "%Y-%m-%d %H:%M:%S"
    fraction_digits: int = 0
    zone: str | None = None
    offset_style: str = "+00:00"  # "+00:00", "+0000" or "Z" for UTC
    note: str | None = None

    def describe(self) -> str:
        if self.kind == "epoch":
            return epoch_text(self.pattern)
        shown = {"iso": "ISO 8601", "excel": "Excel serial day numbers", "native": "typed timestamps"}.get(
            self.kind, f"'{self.pattern}'"
        )
        zone = "no time zone (kept as written)" if self.zone is None else f"time zone {self.zone} (kept for output)"
        return f"{shown}, {zone}"


def detect_time_format(text: pd.Series) -> TimeFormat | None:
    """The format of a column of non-blank timestamp texts, or None when it is not one."""
    cells = text.astype(str).str.strip()
    first = cells.iloc[0]
    iso = _ISO.match(first)
    if iso is not None:
        return _iso_format(cells, iso)
    if _DMY_DOT.match(first):
        return _pattern_format(cells, "%d.%m.%Y", note=None)
    slash = _SLASH.match(first)
    if slash is not None:
        parts = cells.str.extract(_SLASH)
        a, b = pd.to_numeric(parts["a"], errors="coerce"), pd.to_numeric(parts["b"], errors="coerce")
        if (a > 12).any() and (b > 12).any():
            return None
        if (a > 12).any():
            return _pattern_format(cells, "%d/%m/%Y", note=None)
        if (b > 12).any():
            return _pattern_format(cells, "%m/%d/%Y", note=None)
        return _ambiguous_slash(cells)
    return None


def _iso_format(cells: pd.Series, m: re.Match) -> TimeFormat:
    pattern = "%Y-%m-%d"
    if m["hm"]:
        pattern += f"{m['sep']}%H:%M" + (":%S" if m["s"] else "")
    digits = len(m["frac"]) - 1 if m["frac"] else 0
    has_offset = cells.str.contains(_OFFSET, regex=True).to_numpy(dtype=bool)
    if not has_offset.any():
        return TimeFormat("iso", pattern, digits)
    if not has_offset.all():
        i = int(np.argmax(~has_offset))
        raise _TimeProblem(i, f"{cells.iloc[i]!r} has no time-zone offset, while {cells[has_offset].iloc[0]!r} has one")
    style = "Z" if m["off"] == "Z" else ("+00:00" if ":" in m["off"] else "+0000")
    return TimeFormat("iso", pattern, digits, zone="pending", offset_style=style)


class _TimeProblem(Exception):
    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position, self.message = position, message


def _clock_pattern(cells: pd.Series) -> tuple[str, int]:
    m = _CLOCK.search(cells.iloc[0])
    if m is None:
        return "", 0
    hours = "%I" if m["ampm"] else "%H"
    pattern = f" {hours}:%M" + (":%S" if m["s"] else "") + (".%f" if m["frac"] else "") + (" %p" if m["ampm"] else "")
    return pattern, (len(m["frac"]) - 1 if m["frac"] else 0)


def _pattern_format(cells: pd.Series, date: str, *, note: str | None) -> TimeFormat:
    clock, digits = _clock_pattern(cells)
    return TimeFormat("pattern", date + clock, digits, note=note)


def _ambiguous_slash(cells: pd.Series) -> TimeFormat:
    """Every day and month is 12 or less: take the order that gives increasing times; when both
    do, month first (the spreadsheet default for '/') and say so."""
    clock, _ = _clock_pattern(cells)
    increasing = {}
    for order in ("%m/%d/%Y", "%d/%m/%Y"):
        parsed = pd.to_datetime(cells, format=order + clock, errors="coerce")
        increasing[order] = bool(parsed.notna().all() and parsed.is_monotonic_increasing)
    if increasing["%d/%m/%Y"] and not increasing["%m/%d/%Y"]:
        return _pattern_format(cells, "%d/%m/%Y", note="dates such as 01/02 read as day/month: only that order gives increasing times")
    note = (
        "dates such as 01/02/2026 are ambiguous (no day above 12): read as month/day (US); if they are "
        "day/month, write them as 2026-02-01 or 01.02.2026"
    )
    if increasing["%m/%d/%Y"] and not increasing["%d/%m/%Y"]:
        note = "dates such as 01/02 read as month/day: only that order gives increasing times"
    return _pattern_format(cells, "%m/%d/%Y", note=note)


def parse_time_text(cells: pd.Series, fmt: TimeFormat) -> tuple[pd.Series, TimeFormat]:
    """Timestamps as naive UTC (NaT where a cell does not parse) and the format with its zone."""
    if fmt.kind == "pattern":
        parsed = pd.to_datetime(cells, format=fmt.pattern, errors="coerce")
        retry = parsed.isna() & cells.notna()
        if retry.any():  # a spreadsheet drops ":00" seconds on some rows: the other clock pattern
            other = fmt.pattern.replace(":%M:%S", ":%M") if ":%S" in fmt.pattern else fmt.pattern.replace(":%M", ":%M:%S")
            parsed[retry] = pd.to_datetime(cells[retry], format=other, errors="coerce")
        return parsed, fmt
    parsed = pd.to_datetime(cells, errors="coerce", utc=True, format="ISO8601")
    retry = parsed.isna() & cells.notna()
    if retry.any():  # odd cells (e.g. a date without a clock time) in an otherwise ISO column
        parsed[retry] = pd.to_datetime(cells[retry], errors="coerce", utc=True, format="mixed")
    naive = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    if fmt.zone != "pending":
        return naive, fmt
    wall = pd.to_datetime(cells.str.replace(_OFFSET, "", regex=True), errors="coerce", format="ISO8601")
    offsets = ((wall - naive).dt.total_seconds() / 60).round()
    return naive, _with_zone(fmt, naive, offsets)


def offset_text(minutes: float, style: str) -> str:
    if minutes == 0 and style == "Z":
        return "Z"
    sign = "-" if minutes < 0 else "+"
    h, m = divmod(int(abs(minutes)), 60)
    return f"{sign}{h:02d}:{m:02d}" if style != "+0000" else f"{sign}{h:02d}{m:02d}"


def _with_zone(fmt: TimeFormat, naive: pd.Series, offsets: pd.Series) -> TimeFormat:
    kinds = offsets.dropna().unique()
    style = fmt.offset_style
    if len(kinds) == 1:
        zone = "UTC" if kinds[0] == 0 else offset_text(kinds[0], "+00:00")
        return TimeFormat(fmt.kind, fmt.pattern, fmt.fraction_digits, zone, style)
    zone, others = _matching_zone(naive, offsets)
    if zone is None:
        shown = ", ".join(offset_text(k, "+00:00") for k in sorted(kinds))
        note = f"offsets {shown} match no known time zone; output uses the first offset"
        return TimeFormat(fmt.kind, fmt.pattern, fmt.fraction_digits, offset_text(offsets.dropna().iloc[0], "+00:00"), style, note)
    note = f"offsets {', '.join(offset_text(k, '+00:00') for k in sorted(kinds))} follow the rules of {zone}"
    if others:
        note += f" (and {others} other zone(s) with the same offsets in this period)"
    return TimeFormat(fmt.kind, fmt.pattern, fmt.fraction_digits, zone, style, note)


def _matching_zone(naive: pd.Series, offsets: pd.Series) -> tuple[str | None, int]:
    """The zone whose UTC offsets equal the file's at every change of offset (and a sample)."""
    ok = offsets.notna().to_numpy()
    times, mins = naive.to_numpy()[ok], offsets.to_numpy()[ok]
    change = np.flatnonzero(np.diff(mins) != 0)
    picks = np.unique(np.concatenate([change, change + 1, np.linspace(0, len(mins) - 1, 50).astype(int)]))
    utc = pd.DatetimeIndex(times[picks]).tz_localize("UTC")
    want = mins[picks]
    found, count = None, 0
    zones = list(_PREFERRED_ZONES) + sorted(zoneinfo.available_timezones() - set(_PREFERRED_ZONES))
    for zone in zones:
        try:
            local = utc.tz_convert(zone)
        except (KeyError, ValueError, zoneinfo.ZoneInfoNotFoundError):
            continue
        got = (local.tz_localize(None) - utc.tz_localize(None)).total_seconds().to_numpy() / 60
        if np.array_equal(got, want):
            count += 1
            found = found or zone
    return found, max(count - 1, 0)


def excel_times(values: np.ndarray) -> np.ndarray | None:
    """Excel serial day numbers as datetime64[ns] (to the second when they are that close), or None
    when the numbers are not plausibly serial dates (1954..2119, increasing)."""
    ok = values[~np.isnan(values)]
    if ok.size == 0 or ok.min() < _EXCEL_RANGE[0] or ok.max() > _EXCEL_RANGE[1] or not np.all(np.diff(ok) > 0):
        return None
    ns = np.round(values * 86_400e9)
    seconds = np.round(ns / 1e9) * 1e9
    if np.nanmax(np.abs(ns - seconds)) < 5e6:  # within 5 ms of whole seconds: the serial's rounding
        ns = seconds
    return (EXCEL_ORIGIN.to_datetime64() + ns.astype("int64").astype("timedelta64[ns]")).astype("datetime64[ns]")


# Unix epoch times by magnitude: seconds, milliseconds, microseconds, nanoseconds since 1970 (UTC),
# each accepted for 1973..2099 only, so a counter or a duration is never read as a date.
EPOCH_UNITS = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
_EPOCH_NAMES = {"s": "seconds", "ms": "milliseconds", "us": "microseconds", "ns": "nanoseconds"}
_EPOCH_RANGE_S = (1e8, 4.1e9)


def epoch_times(values: np.ndarray) -> tuple[np.ndarray, str] | None:
    """Unix epoch numbers as naive-UTC datetime64[ns] and their unit, or None when no unit puts
    every number between 1973 and 2099."""
    ok = values[~np.isnan(values)]
    if ok.size == 0:
        return None
    for unit, ns_per in EPOCH_UNITS.items():
        lo, hi = (b * 10**9 / ns_per for b in _EPOCH_RANGE_S)
        if ok.min() >= lo and ok.max() <= hi:
            times = np.full(values.shape, np.datetime64("NaT"), dtype="datetime64[ns]")
            finite = ~np.isnan(values)
            v = values[finite]
            whole = np.floor(v)
            ns = whole.astype("int64") * ns_per + np.round((v - whole) * ns_per).astype("int64")
            if ns_per >= 10**6:  # float64 holds seconds near 2026 to ~0.2 us: keep microseconds
                ns = np.round(ns / 1000).astype("int64") * 1000
            times[finite] = ns.astype("datetime64[ns]")
            return times, unit
    return None


def epoch_text(unit: str) -> str:
    return f"Unix epoch {_EPOCH_NAMES[unit]} (UTC)"


def _epoch_number(ns: int, per: int) -> str:
    whole, rest = divmod(int(ns), per)  # integers: no float rounding in what is written
    if not rest:
        return str(whole)
    return f"{whole}." + f"{rest:0{len(str(per)) - 1}d}".rstrip("0")


def format_times(times: pd.Series, fmt: TimeFormat | None) -> pd.Series:
    """Naive-UTC timestamps as text (or typed values for ``native``) in ``fmt``."""
    times = pd.to_datetime(times)
    if fmt is None or fmt.kind == "native":
        if fmt is not None and fmt.zone not in (None, "pending"):
            return times.dt.tz_localize("UTC").dt.tz_convert(_zone(fmt.zone))
        return times
    if fmt.kind == "excel":
        days = (times - EXCEL_ORIGIN) / pd.Timedelta(days=1)
        return days.map(lambda d: "" if pd.isna(d) else f"{d:.10f}".rstrip("0").rstrip("."))
    if fmt.kind == "epoch":  # whole numbers stay whole; finer times keep their fraction
        per = EPOCH_UNITS[fmt.pattern]
        return times.map(lambda t: "" if pd.isna(t) else _epoch_number(t.value, per))
    local = times if fmt.zone is None else times.dt.tz_localize("UTC").dt.tz_convert(_zone(fmt.zone))
    text = local.dt.strftime(fmt.pattern.replace(".%f", ""))
    digits = fmt.fraction_digits
    if not digits and ":%S" in fmt.pattern and (times.dt.microsecond != 0).any():
        digits = 6  # new times (a forecast) between whole seconds: never cut them silently
    if digits:
        text = text + "." + local.dt.strftime("%f").str[:digits]
    if fmt.zone is not None and fmt.kind == "iso":
        offsets = (local.dt.tz_localize(None) - times).dt.total_seconds() / 60
        text = text + offsets.map(lambda m: "" if pd.isna(m) else offset_text(m, fmt.offset_style))
    return text.where(times.notna(), "")


def _zone(zone: str):
    """A zone name or a fixed offset such as ``+01:00`` as something pandas converts to."""
    if zone[0] not in "+-":
        return zone
    sign = -1 if zone[0] == "-" else 1
    return datetime.timezone(sign * datetime.timedelta(hours=int(zone[1:3]), minutes=int(zone[4:6])))


# -------------------------------------------------------------------------------------- headers
_UNIT = re.compile(r"^(?P<name>.*?\S)(?P<space>\s*)(?:\[(?P<bracket>[^\[\]]+)\]|\((?P<paren>[^()]+)\))$")


@dataclass(frozen=True)
class Header:
    """A column header split into its name and its unit (``Temp [°C]`` -> ``Temp``, ``°C``)."""

    text: str
    name: str
    unit: str | None = None
    style: str = " [{}]"  # how the unit was attached, to write derived columns the same way

    def with_name(self, name: str) -> str:
        """A header for ``name`` (e.g. ``Temp_lower``) with this header's unit written the same way."""
        return name if self.unit is None else name + self.style.format(self.unit)


def split_header(text: str) -> Header:
    m = _UNIT.match(text.strip())
    if m is None:
        return Header(text, text.strip())
    unit = (m["bracket"] or m["paren"]).strip()
    style = m["space"] + ("[{}]" if m["bracket"] else "({})")
    return Header(text, m["name"].strip(), unit, style)
