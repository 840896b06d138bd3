"""Train/test splits by time or by asset, never shuffled.

Shuffling windows of one series before splitting puts neighbouring, nearly identical windows
on both sides and inflates every score, so all splits here keep time order (or hold out whole
assets). Split a series *before* cutting windows when windows overlap: windows split after
cutting still share the steps around the boundary.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.series import SensorSeries, to_datetime64


def _take(series: SensorSeries, start: int, stop: int) -> SensorSeries:
    timestamps = None if series.timestamps is None else series.timestamps[start:stop]
    return dataclasses.replace(series, timestamps=timestamps, values=series.values[start:stop])


def split_by_time(
    series: SensorSeries, fraction: float | None = None, *, at=None
) -> tuple[SensorSeries, SensorSeries]:
    """(train, test): the first ``fraction`` of the steps (0.8 unless given), or the steps before
    ``at``; the rest is test. Give at most one of the two; both parts must be non-empty."""
    if fraction is not None and at is not None:
        raise DataError("give fraction=... or at=..., not both")
    if at is None:
        fraction = 0.8 if fraction is None else fraction
        if not 0.0 < fraction < 1.0:
            raise DataError(f"fraction must be between 0 and 1, got {fraction}")
        cut = round(series.n_steps * fraction)
    elif series.timestamps is None:
        raise DataError("at=... needs timestamps and this series has none", file=series.source)
    else:
        cut = int(np.searchsorted(series.timestamps, to_datetime64([at])[0], side="left"))
    if not 0 < cut < series.n_steps:
        raise DataError(
            f"the split leaves one side empty (cut at step {cut} of {series.n_steps})",
            file=series.source,
        )
    return _take(series, 0, cut), _take(series, cut, series.n_steps)


def split_by_asset(
    table: Mapping[str, SensorSeries], test_assets: Sequence[str]
) -> tuple[dict[str, SensorSeries], dict[str, SensorSeries]]:
    """(train, test) dicts: the listed assets are test, all others train."""
    held_out = [test_assets] if isinstance(test_assets, str) else list(test_assets)
    unknown = sorted(set(held_out) - set(table))
    if unknown:
        raise DataError(f"unknown assets {unknown}; the data has {sorted(table)}")
    train = {k: v for k, v in table.items() if k not in held_out}
    test = {k: v for k, v in table.items() if k in held_out}
    if not train or not test:
        raise DataError("the split leaves no asset for training or none for testing")
    return train, test


def train_val_test(data, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> tuple:
    """Three consecutive parts of a SensorSeries (by step) or of an array (by its first axis,
    e.g. windows), in time order. Each part must get at least one element."""
    if len(fractions) != 3 or min(fractions) <= 0 or not np.isclose(sum(fractions), 1.0):
        raise DataError(f"fractions must be three positive numbers summing to 1, got {fractions}")
    n = data.n_steps if isinstance(data, SensorSeries) else len(data)
    cuts = [0, round(n * fractions[0]), round(n * (fractions[0] + fractions[1])), n]
    if any(lo >= hi for lo, hi in itertools.pairwise(cuts)):
        raise DataError(f"{n} elements are too few to split into parts of {fractions}")
    if isinstance(data, SensorSeries):
        return tuple(_take(data, lo, hi) for lo, hi in itertools.pairwise(cuts))
    arr = np.asarray(data)
    return tuple(arr[lo:hi] for lo, hi in itertools.pairwise(cuts))
