"""Leak-free loader of the TON_IoT telemetry ``Train_Test_IoT_*.csv`` files (one per device).

The files leak the label three ways (``../shared/data/iiot-ids/SOURCE.md``), and this loader
closes each one:

* **string format**: normal rows spell text values with trailing spaces (``'high  '``,
  ``'false  '``), attack rows without (``'high'``, ``'0'``). Every text value is stripped,
  lower-cased and mapped to a number through one table per column (``'true'``/``'1'`` -> 1);
  a value outside the table is an error naming file, row and column, never a silent NaN.
* **date/time**: every class falls on its own calendar days, so ``date`` and ``time`` are not
  read as features at all.
* **duplicates**: exact repeats of (feature vector, type) are dropped, and every distinct feature
  vector is one *group*: :func:`group_split` keeps a group on one side of the split, so no test
  row has its twin in training. Vectors that carry more than one class stay (that is the data's
  honest ambiguity) and are counted by :meth:`DeviceTable.ambiguity`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

# device -> (file name, feature columns in file order)
DEVICES: dict[str, tuple[str, tuple[str, ...]]] = {
    "fridge": ("Train_Test_IoT_Fridge.csv", ("fridge_temperature", "temp_condition")),
    "gps_tracker": ("Train_Test_IoT_GPS_Tracker.csv", ("latitude", "longitude")),
    "garage_door": ("Train_Test_IoT_Garage_Door.csv", ("door_state", "sphone_signal")),
    "modbus": (
        "Train_Test_IoT_Modbus.csv",
        ("FC1_Read_Input_Register", "FC2_Read_Discrete_Value", "FC3_Read_Holding_Register", "FC4_Read_Coil"),
    ),
    "motion_light": ("Train_Test_IoT_Motion_Light.csv", ("motion_status", "light_status")),
    "thermostat": ("Train_Test_IoT_Thermostat.csv", ("current_temperature", "thermostat_status")),
    "weather": ("Train_Test_IoT_Weather.csv", ("temperature", "pressure", "humidity")),
}

# Text columns: normalised spelling -> number. Both spellings of a state map to one value.
TEXT_VALUES: dict[str, dict[str, float]] = {
    "temp_condition": {"low": 0.0, "high": 1.0},
    "door_state": {"closed": 0.0, "open": 1.0},
    "sphone_signal": {"false": 0.0, "0": 0.0, "true": 1.0, "1": 1.0},
    "light_status": {"off": 0.0, "on": 1.0},
    "motion_status": {"0": 0.0, "1": 1.0},
    "thermostat_status": {"0": 0.0, "1": 1.0},
}
TYPES = ("normal", "backdoor", "ddos", "injection", "password", "ransomware", "scanning", "xss")
IGNORED = ("date", "time")  # class-blocked calendar days: read, never used as features


@dataclass(frozen=True)
class DeviceTable:
    """One device's deduplicated rows: features ``X``, attack ``type`` and binary ``label``
    (1 = attack), and ``groups`` (one id per distinct feature vector)."""

    device: str
    source: str
    features: tuple[str, ...]
    X: np.ndarray  # (n, n_features) float64
    type: np.ndarray  # (n,) str
    label: np.ndarray  # (n,) int, 0 normal / 1 attack
    groups: np.ndarray  # (n,) int
    file_rows: np.ndarray  # (n,) int, the 1-based data row each kept row comes from (file order)
    rows_read: int
    duplicates_dropped: int

    @property
    def classes(self) -> list[str]:
        return sorted(set(self.type.tolist()))

    def target(self, task: str) -> np.ndarray:
        """``task="binary"``: 0/1 labels; ``"multiclass"``: the attack types."""
        if task == "binary":
            return self.label
        if task == "multiclass":
            return self.type
        raise DataError(f"task must be 'binary' or 'multiclass', got {task!r}")

    def ambiguity(self, task: str = "multiclass") -> dict:
        """How far the feature vectors alone can separate the classes: distinct vectors, vectors
        carrying more than one class and their rows, and the best accuracy any classifier can
        reach on these rows (each vector predicted as its most frequent class)."""
        y = self.target(task)
        frame = pd.DataFrame({"g": self.groups, "y": y})
        per_group = frame.groupby("g")["y"].agg(["nunique", "size"])
        mixed = per_group["nunique"] > 1
        majority = frame.groupby(["g", "y"]).size().groupby(level=0).max()
        return {
            "rows": len(y),
            "vectors": len(per_group),
            "mixed_vectors": int(mixed.sum()),
            "rows_in_mixed_vectors": int(per_group.loc[mixed, "size"].sum()),
            "best_accuracy": float(majority.sum() / len(y)) if len(y) else float("nan"),
        }


def _number(values: pd.Series, column: str, source: str) -> np.ndarray:
    """A column as floats: text through its table, numbers parsed; errors name the first bad row."""
    text = values.str.strip().str.lower()
    table = TEXT_VALUES.get(column)
    if table is not None:
        out = text.map(table)
        bad = out.isna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataError(f"value {values.iloc[i]!r} is not one of {sorted(table)}", file=source, column=column, row=i + 1)
        return out.to_numpy(dtype=np.float64)
    out = pd.to_numeric(text, errors="coerce")
    bad = out.isna() | ~np.isfinite(out.to_numpy(dtype=np.float64, na_value=np.nan))
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataError(f"value {values.iloc[i]!r} is not a finite number", file=source, column=column, row=i + 1)
    return out.to_numpy(dtype=np.float64)


def read_device_csv(path: str | Path, features: tuple[str, ...], *, device: str = "") -> DeviceTable:
    """Read one TON_IoT device file (UTF-8 with BOM), normalise it and drop exact duplicates."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise DataError("TON_IoT device file not found", file=source)
    frame = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in (*features, "label", "type"):
        if column not in frame.columns:
            raise DataError(f"column missing; the file has {list(frame.columns)}", file=source, column=column)
    unread = sorted(set(frame.columns) - set(features) - {"label", "type", *IGNORED})
    if unread:
        raise DataError(f"unexpected column(s) {unread}: not a {device or 'TON_IoT'} telemetry file", file=source)
    X = np.column_stack([_number(frame[c], c, source) for c in features])
    kind = frame["type"].str.strip().str.lower()
    unknown = ~kind.isin(TYPES)
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataError(f"attack type {frame['type'].iloc[i]!r} is not one of {list(TYPES)}", file=source, column="type", row=i + 1)
    label = frame["label"].str.strip()
    if not label.isin(("0", "1")).all():
        i = int(np.flatnonzero(~label.isin(("0", "1")).to_numpy())[0])
        raise DataError(f"label {frame['label'].iloc[i]!r} is not 0 or 1", file=source, column="label", row=i + 1)
    label = label.astype(int).to_numpy()
    kind = kind.to_numpy(dtype=object)
    wrong = (label == 1) == (kind == "normal")
    if wrong.any():
        i = int(np.flatnonzero(wrong)[0])
        raise DataError(f"label {label[i]} contradicts type {kind[i]!r}", file=source, column="label", row=i + 1)
    clean = pd.DataFrame(X, columns=list(features))
    clean["type"] = kind
    keep = ~clean.duplicated(keep="first").to_numpy()
    X, kind, label = X[keep], kind[keep].astype(str), label[keep]
    groups = pd.DataFrame(X).groupby(list(range(X.shape[1])), sort=False).ngroup().to_numpy()
    file_rows = np.flatnonzero(keep) + 1
    return DeviceTable(device or path.stem, source, tuple(features), X, kind, label, groups, file_rows, len(frame), int((~keep).sum()))


def load_device(root: str | Path, device: str) -> DeviceTable:
    """One device of the TON_IoT telemetry folder (``../shared/data/iiot-ids/ton_iot_telemetry``)."""
    if device not in DEVICES:
        raise DataError(f"unknown TON_IoT device {device!r}; known: {sorted(DEVICES)}")
    file, features = DEVICES[device]
    return read_device_csv(Path(root) / file, features, device=device)


def group_split(table: DeviceTable, *, test_fraction: float = 0.2, seed: int = 0, task: str = "multiclass") -> tuple[np.ndarray, np.ndarray]:
    """(train, test) row indices, sorted: whole groups (identical feature vectors) on one side.

    Stratified by group kind: groups are sorted by the set of classes they carry (one class for
    almost every group), and ``test_fraction`` of each kind, drawn at random, go to test.
    """
    if not 0.0 < test_fraction < 0.5:
        raise DataError(f"test_fraction must be in (0, 0.5), got {test_fraction}")
    y = table.target(task).astype(str)
    frame = pd.DataFrame({"g": table.groups, "y": y})
    kinds = frame.groupby("g")["y"].agg(lambda v: "|".join(sorted(set(v))))
    rng = np.random.default_rng(seed)
    test_groups: list[np.ndarray] = []
    for _, members in kinds.groupby(kinds, sort=True):
        ids = rng.permutation(members.index.to_numpy())
        test_groups.append(ids[: int(round(len(ids) * test_fraction))])
    in_test = np.isin(table.groups, np.concatenate(test_groups))
    if in_test.all() or not in_test.any():
        n_groups = len(kinds)
        raise DataError(
            f"{table.device}: {n_groups} distinct feature vector(s) are too few for a {test_fraction:.0%} group split",
            file=table.source,
        )
    return np.flatnonzero(~in_test), np.flatnonzero(in_test)
