"""Turn a data file or the store into training windows (shared by CLI and service)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.clock import fill_missing_steps
from geniot.data.io import read_table
from geniot.data.series import SensorSeries
from geniot.data.splits import interleaved_holdout
from geniot.data.windows import make_windows, window_starts


@dataclass(frozen=True)
class WindowSet:
    """Windows pooled from one or more assets, with the names needed to write them back."""

    windows: np.ndarray  # (n_windows, window, n_channels)
    channels: tuple[str, ...]
    assets: tuple[str, ...]
    units: dict[str, str]
    source: str
    #: where the windows sit in time: sampling interval, first and last timestamp per asset
    #: (see :func:`series_timing`); empty for index-only data
    timing: dict = field(default_factory=dict)
    #: fault type -> learned profile (``FaultProfile.to_dict``) when fitted with labels
    faults: dict = field(default_factory=dict)
    #: (n_windows, n_conditions) conditions of each window at its first step, and their names
    conditions: np.ndarray | None = None
    condition_names: tuple[str, ...] = ()
    #: text (categorical) columns the series carry that the windows leave out
    text_columns: tuple[str, ...] = ()
    #: asset -> (gap rows inserted for missing timestamps, stretches of them): see
    #: :func:`geniot.data.clock.fill_missing_steps`
    missing_steps: dict = field(default_factory=dict)


def pool_windows(
    series: dict[str, SensorSeries], window: int, stride: int = 1, source: str = "", *, calendar: bool = False
) -> WindowSet:
    """Window every asset's series and stack them; all assets must share the same channels.

    ``calendar`` gives each window the calendar conditions (time of day, day of week) of its
    first step, for generators that learn daily and weekly cycles as conditions. Timestamps
    missing from a regular clock (an outage) become gap rows first, so no window joins the two
    sides of an outage; windows with nothing observed are left out."""
    if not series:
        raise DataError("no sensor series to train on", file=source or None)
    fills = {a: fill_missing_steps(s) for a, s in series.items()}
    items = [(a, f.series) for a, f in fills.items()]
    channels = items[0][1].channels
    chunks, keeps = [], []
    for asset, s in items:
        if s.channels != channels:
            raise DataError(
                f"asset {asset!r} has channels {list(s.channels)} but asset {items[0][0]!r} has "
                f"{list(channels)}; pass --asset to pick one",
                file=source or s.source,
            )
        w = make_windows(s, window, stride)
        # only where gap rows were inserted: windows wholly inside an outage hold nothing
        keeps.append(~np.isnan(w).all(axis=(1, 2)) if fills[asset].inserted else np.ones(len(w), dtype=bool))
        chunks.append(w[keeps[-1]])
    units: dict[str, str] = {}
    for _, s in items:
        units.update(s.units)
    text = tuple(dict.fromkeys(name for _, s in items for name in s.categorical))
    pooled = WindowSet(
        np.concatenate(chunks), tuple(channels), tuple(a for a, _ in items), units, source, series_timing(series),
        text_columns=text, missing_steps={a: (f.inserted, f.gaps) for a, f in fills.items() if f.inserted},
    )
    if not calendar:
        return pooled
    from geniot.tasks.long_synthesis import CALENDAR_CONDITIONS, calendar_conditions

    missing = [a for a, s in items if s.timestamps is None]
    if missing:
        raise DataError(f"--calendar needs timestamps; asset(s) {missing} have none", file=source or None)
    cond = [calendar_conditions(s.timestamps[window_starts(s.n_steps, window, stride)[keep]]) for (_, s), keep in zip(items, keeps, strict=True)]
    return dataclasses.replace(pooled, conditions=np.concatenate(cond), condition_names=CALENDAR_CONDITIONS)


def series_timing(series: dict[str, SensorSeries]) -> dict:
    """The sampling interval (median step, seconds) and each asset's first and last timestamp.

    A model records it so that synthetic data can come out on the training data's own clock.
    Empty when the series have no timestamps.
    """
    stamped = {a: s for a, s in series.items() if s.timestamps is not None and s.n_steps >= 2}
    if not stamped:
        return {}
    steps = np.concatenate([np.diff(s.timestamps).astype("timedelta64[ns]").astype(np.int64) for s in stamped.values()])
    interval_s = float(np.median(steps)) / 1e9
    regular = float(np.mean(np.isclose(steps / 1e9, interval_s, rtol=1e-3)))
    return {
        "interval_s": interval_s,
        "share_at_interval": regular,  # 1.0 = a perfectly regular clock
        "start": {a: str(s.timestamps[0]) for a, s in stamped.items()},
        "end": {a: str(s.timestamps[-1]) for a, s in stamped.items()},
    }


MIN_CLEAN_SHARE = 0.5  # windows clear of any fault needed (share) to train on those alone


def windows_from_file(
    path,
    window: int,
    *,
    stride: int = 1,
    asset: str | None = None,
    train_rows: int | None = None,
    labels=None,
    calendar: bool = False,
) -> WindowSet:
    """Read a CSV/Parquet file (wide or long) and cut it into windows; ``train_rows`` keeps only
    the first rows of each series (e.g. the normal start of a SKAB file). With ``labels`` (a
    labels file, or True for the data file's own fault column) fault rows become gaps and every
    labelled fault is learned (:mod:`geniot.workflows.fault_labels`). ``calendar``: see
    :func:`pool_windows`."""
    path = Path(path)
    table = read_table(path)
    if train_rows is not None:
        if train_rows < 1:
            raise DataError(f"--train-rows must be at least 1, got {train_rows}", file=str(path))
        table = {a: s.head(train_rows) for a, s in table.items()}
    if asset is not None:
        if asset not in table:
            raise DataError(f"asset {asset!r} is not in the file; assets: {sorted(table)}", file=str(path))
        table = {asset: table[asset]}
    if labels is None or labels is False:
        return pool_windows(table, window, stride, source=str(path), calendar=calendar)
    from geniot.workflows.fault_labels import fault_keys, learn_from_labels, without_faults

    keys = fault_keys(table, None if labels is True else Path(labels), path)
    channels = list(next(iter(table.values())).channels)
    profiles = learn_from_labels(table, keys, channels)
    pooled = pool_windows(without_faults(table, keys), window, stride, source=str(path), calendar=calendar)
    # Windows that touch a fault are left out: their fault rows are gaps now, and windows cut
    # around gaps are what a pairwise-complete Gaussian turns into directions no window has (a
    # long continuation then drifts along them). Only where too few windows would be left are
    # they kept with the fault rows as gaps (those lying wholly inside a fault always go).
    blank_row = np.isnan(pooled.windows).all(axis=2)
    keep = ~blank_row.any(axis=1)
    if keep.sum() < MIN_CLEAN_SHARE * len(keep):
        keep = ~blank_row.all(axis=1)
    return dataclasses.replace(
        pooled,
        windows=pooled.windows[keep],
        conditions=None if pooled.conditions is None else pooled.conditions[keep],
        faults={k: p.to_dict() for k, p in profiles.items()},
    )


def time_split_windows(windows: np.ndarray, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """First part for training, the rest held out; a gap of one window avoids overlap leaks."""
    n = len(windows)
    cut = int(n * train_fraction)
    gap = windows.shape[1]
    if cut < 2 or n - cut - gap < 2:
        raise DataError(f"{n} windows are too few to hold out {1 - train_fraction:.0%} of them")
    return windows[:cut], windows[cut + gap :]


#: how ``geniot fit --holdout`` picks the held-out windows: blocks across the span (default) or
#: the latest stretch of time
HOLDOUT_SPLITS = ("blocks", "time")


def holdout_split(windows: np.ndarray, fraction: float, how: str = "blocks") -> tuple[np.ndarray, np.ndarray]:
    """(train, holdout) windows: interleaved blocks over the whole span, or the latest stretch."""
    if how == "time":
        return time_split_windows(windows, 1.0 - fraction)
    if how != "blocks":
        raise DataError(f"unknown holdout split {how!r}; choose from {list(HOLDOUT_SPLITS)}")
    train, held = interleaved_holdout(len(windows), fraction, gap=windows.shape[1])
    return windows[train], windows[held]


def describe_holdout(meta: dict) -> str:
    """Where a model's held-out windows lie in time, in words (from its training record)."""
    fraction = float(meta.get("holdout", 0.0))
    if fraction <= 0:
        return "no holdout"
    how = meta.get("holdout_split", "time")  # models fitted before blocks existed used time
    timing = meta.get("timing") or {}
    starts, ends = timing.get("start") or {}, timing.get("end") or {}
    span = ""
    if starts and ends:
        span = f" of {min(starts.values())[:19]} to {max(ends.values())[:19]}"
    if how == "blocks":
        return f"{fraction:.0%} of the windows in 10 blocks spread over the whole span{span}"
    return f"the latest {fraction:.0%} of the windows (a separate time span at the end{span})"
