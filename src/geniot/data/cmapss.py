"""Loader for NASA C-MAPSS run-to-failure files (train_FD00x, test_FD00x, RUL_FD00x).

Each row: unit, cycle, 3 operational settings, 21 sensors, separated by spaces. Training units
run to failure (the last cycle is the failure); test units stop earlier and ``RUL_FD00x.txt``
gives the remaining cycles after each test unit's last cycle.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

SETTINGS = ("setting_1", "setting_2", "setting_3")
SENSORS = tuple(f"s{i}" for i in range(1, 22))
COLUMNS = ("unit", "cycle", *SETTINGS, *SENSORS)


def read_cmapss(path) -> pd.DataFrame:
    """A C-MAPSS train or test file as a frame with columns :data:`COLUMNS`, sorted by unit, cycle."""
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    try:
        frame = pd.read_csv(path, sep=r"\s+", header=None, engine="python")
    except pd.errors.EmptyDataError:
        raise DataError("the file is empty", file=str(path)) from None
    if frame.shape[1] != len(COLUMNS):
        raise DataError(
            f"expected {len(COLUMNS)} space-separated columns (unit, cycle, 3 settings, 21 sensors), "
            f"got {frame.shape[1]}",
            file=str(path),
        )
    frame.columns = list(COLUMNS)
    bad = ~frame.apply(lambda c: pd.to_numeric(c, errors="coerce")).notna()
    if bad.any().any():
        row, col = np.argwhere(bad.to_numpy())[0]
        raise DataError("not a number", file=str(path), column=COLUMNS[col], row=int(row) + 1)
    frame = frame.astype(float)
    frame[["unit", "cycle"]] = frame[["unit", "cycle"]].astype(int)
    return frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)


def read_rul(path) -> np.ndarray:
    """True remaining cycles after each test unit's last cycle (one number per line)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    values = pd.read_csv(path, sep=r"\s+", header=None, engine="python").iloc[:, 0]
    return values.to_numpy(dtype=float)


def training_rul(frame: pd.DataFrame, cap: float | None = 125.0) -> np.ndarray:
    """RUL of every row of run-to-failure units: cycles left until the unit's last cycle,
    capped at ``cap`` (the usual piecewise-linear target: early life counts as healthy)."""
    last = frame.groupby("unit")["cycle"].transform("max")
    rul = (last - frame["cycle"]).to_numpy(dtype=float)
    return np.minimum(rul, cap) if cap is not None else rul
