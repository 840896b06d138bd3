"""Missing timestamps as gap rows, so that no window joins readings from either side of an outage.

A long-layout file cannot hold a row in which every signal is missing, and many historian exports
simply skip the rows of an outage. Cut into windows as they are, the readings before and after the
outage sit next to each other: a window then holds a jump in time (and often a change of regime)
that the machine never made, which scores as an extreme anomaly and, in training or calibration,
makes the normal data look heavy-tailed. On a regular clock each missing timestamp becomes a row
of NaN (a gap the masks carry), so every window covers one stretch of real time.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from geniot.core.clock import clock_of, missed_readings
from geniot.data.series import SensorSeries

MAX_GAP_ROWS = 4096  # rows inserted per gap at most: longer than any window, so none spans it


@dataclass(frozen=True)
class ClockFill:
    """A series with its missing timestamps as gap rows, and where its own rows went."""

    series: SensorSeries
    rows: np.ndarray  # positions of the original rows in ``series``
    inserted: int  # gap rows added
    gaps: int  # stretches of missing timestamps
    left: int = 0  # stretches longer than the cap, left as they were (``cap=False``)


def fill_missing_steps(series: SensorSeries, *, cap: bool = True) -> ClockFill:
    """``series`` with one NaN row per timestamp missing from its regular clock (the rule of
    ``geniot.core.clock``; an irregular clock is left as it is), evenly spaced over the step, at
    most ``MAX_GAP_ROWS`` per step: with ``cap`` (windowing) a
    shutdown of weeks gets that many rows further apart than the clock, still more than any
    window; without it (rows someone will read, e.g. filled gaps) such a stretch is left as it is
    and counted in ``left``. Series without timestamps are returned unchanged."""
    n = series.n_steps
    unchanged = ClockFill(series, np.arange(n), 0, 0)
    if series.timestamps is None or n < 3:
        return unchanged
    ts = series.timestamps.astype("datetime64[ns]").astype(np.int64)
    clock = clock_of(ts)
    if clock is None:
        return unchanged
    steps = np.diff(ts)
    extra = missed_readings(steps, *clock)
    left = 0 if cap else int(np.count_nonzero(extra > MAX_GAP_ROWS))
    extra = np.minimum(extra, MAX_GAP_ROWS) if cap else np.where(extra > MAX_GAP_ROWS, 0, extra)
    if not extra.any():
        return ClockFill(series, np.arange(n), 0, 0, left)
    rows = np.arange(n) + np.concatenate([[0], np.cumsum(extra)])
    total = n + int(extra.sum())
    new_ts = np.empty(total, dtype=np.int64)
    new_ts[rows] = ts
    for i in np.flatnonzero(extra):
        k = int(extra[i])
        new_ts[rows[i] + 1 : rows[i] + 1 + k] = ts[i] + (np.arange(1, k + 1) * (steps[i] / (k + 1))).astype(np.int64)
    values = np.full((total, series.n_channels), np.nan)
    values[rows] = series.values
    categorical = {}
    for name, col in series.categorical.items():
        filled = np.full(total, None, dtype=object)
        filled[rows] = col
        categorical[name] = filled
    stamps = new_ts.astype("datetime64[ns]").astype(series.timestamps.dtype)
    out = dataclasses.replace(series, values=values, timestamps=stamps, categorical=categorical)
    return ClockFill(out, rows, int(extra.sum()), int(np.count_nonzero(extra)), left)
