"""Train/test splits by time or by asset, never shuffled.

Shuffling windows of one series before splitting puts neighbouring, nearly identical windows
on both sides and inflates every score, so all splits here keep time order (or hold out whole
assets). Split a series *before* cutting windows when windows overlap: windows split after
cutting still share the steps around the boundary.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.series import SensorSeries, to_datetime64


def _take(series: SensorSeries, start: int, stop: int) -> SensorSeries:
    return series.take(slice(start, stop))  # keeps categorical columns in step


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


def interleaved_holdout(
    n: int, fraction: float, *, gap: int, n_blocks: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """(train, holdout) indices of ``n`` consecutive windows: ``n_blocks`` held-out blocks spread
    evenly over the whole span, each the last ``fraction`` of its stretch.

    A holdout from the last part of time differs from training whenever the machine trends or
    wears, so every model then looks as if it copies; blocks across the span share its regimes.
    ``gap`` windows on each side of a held-out block are dropped from training (windows that
    overlap a held-out one would leak it). Fewer blocks are used when the data are too short.
    """
    if not 0.0 < fraction < 1.0:
        raise DataError(f"the holdout fraction must be between 0 and 1, got {fraction}")
    blocks = max(1, min(int(n_blocks), n // max(4 * gap, 1)))
    edges = np.linspace(0, n, blocks + 1).round().astype(int)
    is_holdout = np.zeros(n, dtype=bool)
    near = np.zeros(n, dtype=bool)
    for lo, hi in itertools.pairwise(edges):
        start = hi - max(1, round((hi - lo) * fraction))
        is_holdout[start:hi] = True
        near[max(0, start - gap) : start] = True
        near[hi : min(n, hi + gap)] = True
    train = np.flatnonzero(~is_holdout & ~near)
    holdout = np.flatnonzero(is_holdout)
    if len(train) < 2 or len(holdout) < 2:
        raise DataError(f"{n} windows are too few to hold out {fraction:.0%} of them in blocks")
    return train, holdout
