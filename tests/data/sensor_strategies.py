"""Hypothesis strategies for sensor data shared by the data-layer tests."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from geniot.data.io import LABEL_NAMES, SIGNAL_NAMES, TIME_NAMES
from geniot.data.series import SensorSeries

_RESERVED = {*TIME_NAMES, *SIGNAL_NAMES, *LABEL_NAMES, "value", "asset", "quality"}

channel_names = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,6}", fullmatch=True).filter(
    lambda name: name.lower() not in _RESERVED
)
finite = st.floats(allow_nan=False, allow_infinity=False, width=64)
value_or_gap = st.one_of(finite, st.just(np.nan))


@st.composite
def timestamps(draw, n_steps: int) -> np.ndarray:
    """Strictly increasing timestamps with microsecond resolution (what the store keeps)."""
    start = draw(st.integers(946_684_800, 1_893_456_000)) * 1_000_000  # 2000..2030, in us
    steps = draw(st.lists(st.integers(1, 10**11), min_size=n_steps, max_size=n_steps))
    us = start + np.cumsum(steps) - steps[0]
    return us.astype("datetime64[us]").astype("datetime64[ns]")


@st.composite
def sensor_series(
    draw, *, max_steps: int = 25, max_channels: int = 4, with_time: bool = True, values=value_or_gap
) -> SensorSeries:
    n_steps = draw(st.integers(1, max_steps))
    channels = draw(st.lists(channel_names, min_size=1, max_size=max_channels, unique_by=str.lower))
    cells = draw(
        st.lists(values, min_size=n_steps * len(channels), max_size=n_steps * len(channels))
    )
    return SensorSeries(
        timestamps=draw(timestamps(n_steps)) if with_time else None,
        values=np.array(cells, dtype=np.float64).reshape(n_steps, len(channels)),
        channels=tuple(channels),
        asset=draw(st.from_regex(r"[a-z][a-z0-9\-]{0,8}", fullmatch=True)),
    )


def observed_part(series: SensorSeries) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """(timestamps, values, channels) of what a long table can carry: gaps have no row, so a
    channel or a step with no observed value disappears."""
    keep_channels = series.mask.any(axis=0)
    keep_steps = series.mask.any(axis=1)
    channels = tuple(c for c, k in zip(series.channels, keep_channels, strict=False) if k)
    return (
        series.timestamps[keep_steps],
        series.values[np.ix_(keep_steps, keep_channels)],
        channels,
    )
