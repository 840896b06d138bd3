"""``SensorSeries``: one asset's signals on one time index, validated once and then immutable.

Everything downstream (windows, scalers, models) trusts a ``SensorSeries`` without re-checking
it, so the checks live here: values are float64 shaped (n_steps, n_channels) with NaN marking a
gap, channel names are unique, timestamps (when present) strictly increase, and no value is
infinite. Arrays are made read-only so that a series cannot change after it was validated.

Error rows are *data rows*: row 1 is the first row below the header, as a spreadsheet shows it
(the line number in a text editor is one more).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

if TYPE_CHECKING:
    from geniot.data.layout import FileLayout

LONG_COLUMNS = ("ts", "asset", "signal", "value", "quality")


def to_datetime64(timestamps) -> np.ndarray:
    """Timestamps as a 1-D datetime64[ns] array; time-zone-aware input is converted to naive UTC."""
    index = pd.DatetimeIndex(timestamps)
    if index.tz is not None:
        index = index.tz_convert("UTC").tz_localize(None)
    return index.to_numpy(dtype="datetime64[ns]")


def check_increasing(
    timestamps: np.ndarray,
    *,
    file: str | None = None,
    column: str | None = None,
    shown: Sequence[str] | None = None,
) -> None:
    """Raise a DataError at the first data row that is missing, repeats or goes back in time.

    ``shown`` holds the timestamps as the file writes them (e.g. ``01:38:51+01:00``), so that the
    message names what the user sees, not the naive UTC time geniot keeps.
    """
    missing = np.isnat(timestamps)
    if missing.any():
        row = int(np.argmax(missing)) + 1
        raise DataError("the timestamp is missing", file=file, column=column, row=row)
    steps = np.diff(timestamps).astype(np.int64)
    bad = np.flatnonzero(steps <= 0)
    if bad.size == 0:
        return
    i = int(bad[0]) + 1  # 0-based position of the offending row

    def text(k: int) -> str:
        return str(shown[k]) if shown is not None else str(pd.Timestamp(timestamps[k]))

    if steps[bad[0]] == 0:
        message = f"duplicate timestamp {text(i)} (same as row {i})"
    else:
        message = f"timestamps are not sorted: {text(i)} comes after {text(i - 1)} (row {i})"
    raise DataError(message, file=file, column=column, row=i + 1)


def _as_time_bound(value) -> np.datetime64 | None:
    return None if value is None else to_datetime64([value])[0]


@dataclass(frozen=True, eq=False)
class SensorSeries:
    """Signals of one asset on one time index.

    ``timestamps`` is None for index-only data (benchmark files without a time column); the
    steps are then just positions 0..n_steps-1. ``values`` holds NaN where a reading is missing.
    ``source`` (usually a file path) is kept only so that later errors can name it.
    ``categorical`` holds text columns of the same steps (an operating mode, a status): one object
    array of strings (None for an empty cell) per name; they are conditions, not signals.
    ``layout`` is how the file the series came from was written (a
    :class:`~geniot.data.layout.FileLayout`), so that output can be written the same way.
    Equality is identity: arrays make field-wise ``==`` ambiguous, compare ``values`` instead.
    """

    timestamps: np.ndarray | None
    values: np.ndarray
    channels: tuple[str, ...]
    asset: str | None = None
    units: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    categorical: dict[str, np.ndarray] = field(default_factory=dict)
    layout: FileLayout | None = None

    def __post_init__(self) -> None:
        values = self._checked_values()
        channels = self._checked_channels(values.shape[1])
        timestamps = self._checked_timestamps(values.shape[0])
        self._check_finite(values, channels)
        unknown = sorted(set(self.units) - set(channels))
        if unknown:
            raise DataError(f"units given for unknown channels {unknown}", file=self.source)
        categorical = self._checked_categorical(values.shape[0], channels)
        values.setflags(write=False)
        if timestamps is not None:
            timestamps.setflags(write=False)
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "channels", channels)
        object.__setattr__(self, "timestamps", timestamps)
        object.__setattr__(self, "units", dict(self.units))
        object.__setattr__(self, "categorical", categorical)

    def _checked_values(self) -> np.ndarray:
        try:
            values = np.array(self.values, dtype=np.float64)  # a private copy, safe to freeze
        except (TypeError, ValueError) as exc:
            raise DataError(f"values must be numeric: {exc}", file=self.source) from None
        if values.ndim != 2 or values.shape[0] == 0 or values.shape[1] == 0:
            raise DataError(
                f"values must be shaped (n_steps, n_channels) with at least one step and one "
                f"channel, got shape {values.shape}",
                file=self.source,
            )
        return values

    def _checked_channels(self, n_channels: int) -> tuple[str, ...]:
        channels = (self.channels,) if isinstance(self.channels, str) else tuple(self.channels)
        if len(channels) != n_channels:
            raise DataError(
                f"{len(channels)} channel names for {n_channels} value columns", file=self.source
            )
        if not all(isinstance(c, str) and c for c in channels):
            raise DataError(
                f"channel names must be non-empty strings: {channels}", file=self.source
            )
        seen: set[str] = set()
        for name in channels:
            if name in seen:
                raise DataError("channel name is used twice", file=self.source, column=name)
            seen.add(name)
        return channels

    def _checked_timestamps(self, n_steps: int) -> np.ndarray | None:
        if self.timestamps is None:
            return None
        try:
            timestamps = np.array(to_datetime64(self.timestamps))
        except (TypeError, ValueError) as exc:
            raise DataError(
                f"timestamps could not be read as dates: {exc}", file=self.source
            ) from None
        if timestamps.shape != (n_steps,):
            raise DataError(
                f"{timestamps.size} timestamps for {n_steps} steps of values", file=self.source
            )
        check_increasing(timestamps, file=self.source)
        return timestamps

    def _checked_categorical(self, n_steps: int, channels: tuple[str, ...]) -> dict[str, np.ndarray]:
        out = {}
        for name, column in dict(self.categorical).items():
            if name in channels:
                raise DataError("a name is both a signal and a text (categorical) column", file=self.source, column=name)
            arr = np.array(column, dtype=object)
            if arr.shape != (n_steps,):
                raise DataError(f"{arr.size} categorical values for {n_steps} steps", file=self.source, column=name)
            arr.setflags(write=False)
            out[str(name)] = arr
        return out

    def _check_finite(self, values: np.ndarray, channels: tuple[str, ...]) -> None:
        infinite = np.isinf(values)
        if infinite.any():
            step, channel = (int(i) for i in np.argwhere(infinite)[0])
            raise DataError(
                "the value is infinite", file=self.source, column=channels[channel], row=step + 1
            )

    # ----------------------------------------------------------------------------- properties
    @property
    def n_steps(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_channels(self) -> int:
        return int(self.values.shape[1])

    @property
    def mask(self) -> np.ndarray:
        """True where a value was observed (not NaN)."""
        return ~np.isnan(self.values)

    @property
    def index(self) -> pd.Index:
        """A DatetimeIndex named ``timestamp``, or a RangeIndex of positions for index-only data."""
        if self.timestamps is None:
            return pd.RangeIndex(self.n_steps)
        return pd.DatetimeIndex(self.timestamps, name="timestamp")

    # Reading files and frames is geniot.data.io's (read_series, series_from_frame): the series
    # type itself imports no reader, so the two modules do not import each other.

    # ------------------------------------------------------------------------------ exporters
    def to_dataframe(self, *, categorical: bool = False) -> pd.DataFrame:
        """Wide frame: a ``timestamp`` column first (when there are timestamps), then channels;
        with ``categorical`` the text columns follow."""
        frame = pd.DataFrame(np.array(self.values), columns=list(self.channels))
        if self.timestamps is not None:
            frame.insert(0, "timestamp", self.timestamps)
        if categorical:
            for name, column in self.categorical.items():
                frame[name] = pd.Series(column, dtype=object)
        return frame

    def to_long(self) -> pd.DataFrame:
        """Long frame (ts, asset, signal, value, quality), one row per observed value.

        Gaps have no row. Rows are grouped by channel, in channel order, so that reading the
        frame back gives the channels in the same order.
        """
        if self.timestamps is None:
            raise DataError(
                "the long layout needs timestamps and this series has none; use the wide layout",
                file=self.source,
            )
        step, channel = np.nonzero(self.mask.T)[::-1]
        return pd.DataFrame(
            {
                "ts": self.timestamps[step],
                "asset": pd.Series([self.asset] * step.size, dtype=object),
                "signal": np.asarray(self.channels, dtype=object)[channel],
                "value": self.values[step, channel],
                "quality": np.ones(step.size),
            },
            columns=list(LONG_COLUMNS),
        )

    # ------------------------------------------------------------------------------ selection
    def select(self, channels: str | Sequence[str]) -> SensorSeries:
        """A series with only the given channels, in the given order."""
        names = [channels] if isinstance(channels, str) else list(channels)
        unknown = [c for c in names if c not in self.channels]
        if unknown:
            raise DataError(
                f"unknown channels {unknown}; the series has {list(self.channels)}",
                file=self.source,
            )
        positions = [self.channels.index(c) for c in names]
        return dataclasses.replace(
            self,
            values=self.values[:, positions],
            channels=tuple(names),
            units={c: u for c, u in self.units.items() if c in names},
        )

    def slice_time(self, start=None, end=None) -> SensorSeries:
        """Steps with ``start <= t < end`` (half-open, so consecutive slices never overlap)."""
        if self.timestamps is None:
            raise DataError(
                "slice_time needs timestamps and this series has none", file=self.source
            )
        keep = np.ones(self.n_steps, dtype=bool)
        lo, hi = _as_time_bound(start), _as_time_bound(end)
        if lo is not None:
            keep &= self.timestamps >= lo
        if hi is not None:
            keep &= self.timestamps < hi
        if not keep.any():
            raise DataError(f"no steps between {start} and {end}", file=self.source)
        return self.take(keep)

    def head(self, n: int) -> SensorSeries:
        """The first ``n`` steps (e.g. the normal start of a recording)."""
        return self.take(slice(0, n))

    def take(self, steps) -> SensorSeries:
        """The steps selected by ``steps`` (a slice, a bool mask or positions), with their
        timestamps and categorical values."""
        ts = None if self.timestamps is None else self.timestamps[steps]
        categorical = {k: v[steps] for k, v in self.categorical.items()}
        return dataclasses.replace(self, values=self.values[steps], timestamps=ts, categorical=categorical)

    def with_values(self, values) -> SensorSeries:
        """Same index, channels and metadata with new values (e.g. imputed or scaled)."""
        new = np.asarray(values, dtype=np.float64)
        if new.shape != self.values.shape:
            raise DataError(
                f"new values have shape {new.shape}, the series has {self.values.shape}",
                file=self.source,
            )
        return dataclasses.replace(self, values=new)

    def __repr__(self) -> str:
        span = (
            f"{pd.Timestamp(self.timestamps[0])} .. {pd.Timestamp(self.timestamps[-1])}"
            if self.timestamps is not None
            else "no timestamps"
        )
        return (
            f"SensorSeries(asset={self.asset!r}, n_steps={self.n_steps}, "
            f"channels={list(self.channels)}, {span})"
        )
