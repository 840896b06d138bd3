"""Turn a data file or the store into training windows (shared by CLI and service)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.io import read_table
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows


@dataclass(frozen=True)
class WindowSet:
    """Windows pooled from one or more assets, with the names needed to write them back."""

    windows: np.ndarray  # (n_windows, window, n_channels)
    channels: tuple[str, ...]
    assets: tuple[str, ...]
    units: dict[str, str]
    source: str


def pool_windows(series: dict[str, SensorSeries], window: int, stride: int = 1, source: str = "") -> WindowSet:
    """Window every asset's series and stack them; all assets must share the same channels."""
    if not series:
        raise DataError("no sensor series to train on", file=source or None)
    items = list(series.items())
    channels = items[0][1].channels
    chunks = []
    for asset, s in items:
        if s.channels != channels:
            raise DataError(
                f"asset {asset!r} has channels {list(s.channels)} but asset {items[0][0]!r} has "
                f"{list(channels)}; pass --asset to pick one",
                file=source or s.source,
            )
        chunks.append(make_windows(s, window, stride))
    units: dict[str, str] = {}
    for _, s in items:
        units.update(s.units)
    return WindowSet(np.concatenate(chunks), tuple(channels), tuple(a for a, _ in items), units, source)


def windows_from_file(
    path, window: int, *, stride: int = 1, asset: str | None = None, train_rows: int | None = None
) -> WindowSet:
    """Read a CSV/Parquet file (wide or long) and cut it into windows; ``train_rows`` keeps only
    the first rows of each series (e.g. the normal start of a SKAB file)."""
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
    return pool_windows(table, window, stride, source=str(path))


def time_split_windows(windows: np.ndarray, train_fraction: float) -> tuple[np.ndarray, np.ndarray]:
    """First part for training, the rest held out; a gap of one window avoids overlap leaks."""
    n = len(windows)
    cut = int(n * train_fraction)
    gap = windows.shape[1]
    if cut < 2 or n - cut - gap < 2:
        raise DataError(f"{n} windows are too few to hold out {1 - train_fraction:.0%} of them")
    return windows[:cut], windows[cut + gap :]
