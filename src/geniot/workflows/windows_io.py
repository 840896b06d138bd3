"""Read and write arrays of windows: .npy (n, window, channels) or a table per window step.

Tables can be written in the layout of the model's training file (separator, decimal mark,
headers with units), so that synthetic data opens in the same tools as the real data; reading
them back uses the same reader as every data file.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.io import read_data, sniff_layout, write_frame
from geniot.data.layout import IGNORED, ColumnSpec, FileLayout

SUFFIXES = (".npy", ".csv", ".parquet")
_INDEX = ("window", "step")


def training_layout(generator) -> FileLayout | None:
    """The layout of the file a model was trained on, when that file is still there."""
    source = generator.training_.source
    if not source or not Path(source).exists():
        return None
    return sniff_layout(source)


def write_windows(windows: np.ndarray, path, channels, *, layout: FileLayout | None = None) -> Path:
    """Write windows; tables have one row per (window, step) and one column per channel, written
    in ``layout`` (e.g. :func:`training_layout`) when given."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        np.save(path, np.asarray(windows, dtype=np.float64), allow_pickle=False)
        return path
    if suffix not in SUFFIXES:
        raise DataError(f"output must end in one of {', '.join(SUFFIXES)}", file=str(path))
    n, t, c = windows.shape
    frame = pd.DataFrame(windows.reshape(n * t, c), columns=list(channels))
    frame.insert(0, "step", np.tile(np.arange(t), n))
    frame.insert(0, "window", np.repeat(np.arange(n), t))
    if layout is not None:  # window and step lead, then the signals in the file's order
        index = tuple(ColumnSpec(name, IGNORED) for name in _INDEX)
        layout = dataclasses.replace(layout, layout="wide", time=None, columns=index + layout.columns)
    write_frame(frame, path, layout=layout)
    return path


def read_windows(path) -> tuple[np.ndarray, list[str] | None]:
    """Read windows written by :func:`write_windows` (never unpickles: allow_pickle=False)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except ValueError as exc:
            raise DataError(f"not a plain numeric .npy array ({exc})", file=str(path)) from exc
        if arr.ndim != 3:
            raise DataError(f"expected windows shaped (n, window, channels), got {arr.shape}", file=str(path))
        return arr.astype(np.float64), None
    if suffix not in (".csv", ".parquet"):
        raise DataError(f"windows must be in one of {', '.join(SUFFIXES)}", file=str(path))
    (series,) = read_data(path).table.values()  # any separator, decimal mark, headers with units
    for col in _INDEX:
        if col not in series.channels:
            raise DataError(f"a windows table needs a {col!r} column", file=str(path), column=col)
    frame = pd.DataFrame(series.values, columns=list(series.channels))
    channels = [c for c in frame.columns if c not in _INDEX]
    n, t = frame["window"].nunique(), frame["step"].nunique()
    if n * t != len(frame):
        raise DataError("every window must have the same number of steps", file=str(path))
    frame = frame.sort_values(["window", "step"])
    return frame[channels].to_numpy(np.float64).reshape(n, t, len(channels)), channels
