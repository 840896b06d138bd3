"""Loader for the CWRU bearing recordings in ``../shared/data/cwru`` (see its ``manifest.csv``).

Each recording is one ``.npz`` with a 1-D drive-end acceleration array ``DE``; the manifest gives
its rpm, load, condition and labels. Windows are cut per recording, so a split by recording or by
load never puts neighbouring windows of one recording on both sides (random window splits leak).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError


@dataclass(frozen=True)
class Recording:
    file: str
    signal: np.ndarray  # acceleration in g
    fs_hz: int
    load_hp: int
    rpm: int
    label: int  # label10: 0 normal, 1-3 IR, 4-6 ball, 7-9 outer race (0.007/0.014/0.021 in)
    condition: str


def read_manifest(root) -> pd.DataFrame:
    root = Path(root)
    path = root / "manifest.csv"
    if not path.is_file():
        raise DataError("no manifest.csv: not a CWRU folder", file=str(root))
    return pd.read_csv(path)


def load_recordings(root, *, fs_hz: int = 12_000, loads: tuple[int, ...] | None = None) -> list[Recording]:
    """Recordings at ``fs_hz`` (the 12 kHz drive-end set by default), optionally of some loads."""
    root = Path(root)
    manifest = read_manifest(root)
    rows = manifest[manifest["fs_hz"] == fs_hz]
    if loads is not None:
        rows = rows[rows["load_hp"].isin(loads)]
    out = []
    for row in rows.itertuples():
        with np.load(root / row.file, allow_pickle=False) as npz:
            if "DE" not in npz.files:
                raise DataError("no 'DE' array in the recording", file=str(root / row.file))
            signal = np.asarray(npz["DE"], dtype=np.float64).reshape(-1)
        out.append(Recording(row.file, signal, int(row.fs_hz), int(row.load_hp), int(row.rpm), int(row.label10), str(row.condition)))
    if not out:
        raise DataError(f"no recordings at {fs_hz} Hz with loads {loads}", file=str(root))
    return out


def cut_windows(signal: np.ndarray, length: int, stride: int | None = None) -> np.ndarray:
    """(n, length) windows of a 1-D signal, every ``stride`` samples (default: no overlap)."""
    stride = stride or length
    if len(signal) < length:
        raise DataError(f"a recording of {len(signal)} samples is shorter than a window of {length}")
    view = np.lib.stride_tricks.sliding_window_view(np.asarray(signal, dtype=np.float64), length)[::stride]
    return np.ascontiguousarray(view)


def labelled_windows(recordings: list[Recording], loads, length: int, stride: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(windows, labels) of the recordings at the motor loads ``loads`` (HP), cut by :func:`cut_windows`."""
    xs, ys = [], []
    for r in recordings:
        if r.load_hp in loads:
            w = cut_windows(r.signal, length, stride)
            xs.append(w)
            ys.append(np.full(len(w), r.label))
    if not xs:
        raise DataError(f"no recording at load(s) {sorted(loads)} HP")
    return np.concatenate(xs), np.concatenate(ys)
