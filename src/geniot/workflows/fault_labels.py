"""Fault labels of real data: which rows are faults, the normal data left, and each fault learned.

``geniot fit DATA --labels LABELS`` keeps the fault rows out of training (they become gaps, so
the generator learns the machine's normal behaviour) and learns every labelled fault type's
profile (:func:`geniot.tasks.long_synthesis.learn_fault_profiles`), which the model records for
``geniot synthesize --fault``. Sensor faults are learned per signal (``TYPE:SIGNAL``).

Labels are a table with ``ts`` (or ``timestamp``), optional ``asset``, ``fault`` and optional
``fault_signal`` (as ``geniot simulate --labels`` writes), or the data file's own ``fault``
column when no labels file is given.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.io import read_labels
from geniot.data.series import SensorSeries
from geniot.tasks.long_synthesis import FaultProfile, learn_fault_profiles

_NORMAL = ("normal", "", "0", "none", "nan")


def read_label_file(labels: Path, table: dict[str, SensorSeries], column: str) -> pd.DataFrame:
    """A labels file (CSV or Parquet, e.g. from `geniot simulate --labels`) with ``ts`` (or
    ``timestamp``), ``column`` and ``asset`` (filled in when the data hold one asset)."""
    labels = Path(labels)
    if not labels.is_file():
        raise DataError("the labels file does not exist", file=str(labels))
    lower = labels.name.lower()
    frame = pd.read_parquet(labels) if lower.endswith((".parquet", ".pq")) else pd.read_csv(labels)
    frame = frame.rename(columns={"timestamp": "ts"})
    for col in ("ts", column):
        if col not in frame.columns:
            raise DataError(f"the labels have no {col!r} column (columns: {list(frame.columns)})", file=str(labels))
    if "asset" not in frame.columns:
        if len(table) != 1:
            raise DataError(f"the labels have no asset column but the data hold {sorted(table)}", file=str(labels))
        frame["asset"] = next(iter(table))
    return frame


def fault_keys(table: dict[str, SensorSeries], labels: Path | None, data: Path) -> dict[str, pd.Series]:
    """Per asset, the fault key of every row of its series ('normal' where there is none)."""
    if labels is None:
        lab = read_labels(data)
        if lab is None or "fault" not in lab.columns:
            raise DataError("the data file has no fault column; pass a labels file", file=str(data))
        frame = lab.reset_index().rename(columns={"timestamp": "ts"})
        frame["asset"] = next(iter(table))
        source = str(data)
    else:
        frame = read_label_file(labels, table, "fault")
        source = str(labels)
    frame["ts"] = pd.to_datetime(frame["ts"])
    key = frame["fault"].astype(object).where(frame["fault"].notna(), "normal").astype(str)
    if "fault_signal" in frame.columns:
        sig = frame["fault_signal"].astype(object).where(frame["fault_signal"].notna(), "").astype(str)
        key = key.where(sig == "", key + ":" + sig)
    key = key.where(~key.str.lower().isin(_NORMAL), "normal")
    frame["key"] = key
    out = {}
    for asset, series in table.items():
        if series.timestamps is None:
            raise DataError(f"asset {asset!r} has no timestamps to match the labels to", file=str(data))
        rows = frame[frame["asset"].astype(str) == str(asset)].drop_duplicates("ts").set_index("ts")["key"]
        out[asset] = rows.reindex(pd.DatetimeIndex(series.timestamps)).fillna("normal").reset_index(drop=True)
    if not any((k != "normal").any() for k in out.values()):
        raise DataError("no labelled fault rows match the data's assets and timestamps", file=source)
    return out


def learn_from_labels(
    table: dict[str, SensorSeries], keys: dict[str, pd.Series], channels: list[str]
) -> dict[str, FaultProfile]:
    values = [table[a].select(channels).values for a in table]
    return learn_fault_profiles(values, [keys[a] for a in table], tuple(channels))


def without_faults(table: dict[str, SensorSeries], keys: dict[str, pd.Series]) -> dict[str, SensorSeries]:
    """The series with fault rows turned into gaps (the generator then learns normal behaviour)."""
    out = {}
    for asset, series in table.items():
        fault = (keys[asset] != "normal").to_numpy()
        values = np.array(series.values)
        values[fault] = np.nan
        out[asset] = series.with_values(values)
    return out
