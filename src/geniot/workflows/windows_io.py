"""Read and write arrays of windows: .npy (n, window, channels) or a table per window step."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

SUFFIXES = (".npy", ".csv", ".parquet")


def write_windows(windows: np.ndarray, path, channels) -> Path:
    """Write windows; tables have one row per (window, step) and one column per channel."""
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
    if suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
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
    frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    for col in ("window", "step"):
        if col not in frame.columns:
            raise DataError(f"a windows table needs a {col!r} column", file=str(path), column=col)
    channels = [c for c in frame.columns if c not in ("window", "step")]
    n, t = frame["window"].nunique(), frame["step"].nunique()
    if n * t != len(frame):
        raise DataError("every window must have the same number of steps", file=str(path))
    frame = frame.sort_values(["window", "step"])
    return frame[channels].to_numpy(np.float64).reshape(n, t, len(channels)), channels
