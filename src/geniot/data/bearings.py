"""Bearings from raw vibration: snapshot folders, health indicators, onset of degradation.

Layout read by :func:`read_bearing_folder`: ``ROOT/<bearing>/<snapshot files>``, one CSV per
snapshot (``,`` or ``;``, header optional) whose last one or two numeric columns are acceleration
axes; with six columns (the PRONOSTIA / PHM 2012 layout: hour, minute, second, microsecond,
horizontal, vertical) the first four give the snapshot time. An optional ``ROOT/manifest.csv``
gives per bearing: ``bearing`` (folder name), and any of ``condition``, ``rpm``, ``fs_hz``,
``interval_s`` (time between snapshots); options fill what it leaves out.

Indicators per snapshot and axis (:func:`snapshot_indicators`): RMS, kurtosis, crest factor, and
the envelope-spectrum energy at the defect frequencies (BPFO, BPFI, BSF, first three harmonics,
relative to the envelope spectrum's median level) when the defect orders and the shaft speed are
known, else the energy of eight frequency bands. :func:`add_onset` normalises every indicator by
each unit's own healthy baseline (its first snapshots: log of the ratio to their median), so that
units in different operating conditions become comparable, and flags the onset of degradation as
the first sustained exceedance of that baseline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import signal as sps
from scipy import stats

from geniot.core.exceptions import DataError
from geniot.core.names import check_name
from geniot.data.rtf import RTFData, frame_to_rtf

ONSET_FEATURES = ("rms", "kurtosis", "env_bpfo", "env_bpfi", "env_bsf")


@dataclass
class BearingRecord:
    unit: str
    files: list[Path]
    times_s: np.ndarray
    fs_hz: float
    rpm: float | None = None
    condition: str = "default"
    notes: list[str] = field(default_factory=list)


def defect_orders(text: str | None = None, *, geometry: str | None = None) -> dict[str, float]:
    """Defect frequencies as multiples of the shaft frequency, from ``"bpfo=3.58,bpfi=5.42,bsf=4.71"``
    or from the geometry ``"n_balls,ball_diameter,pitch_diameter,contact_angle_deg"``."""
    if text and geometry:
        raise DataError("give --defect-orders or --geometry, not both")
    if geometry:
        try:
            n, d, pitch, angle = (float(v) for v in geometry.split(","))
        except ValueError:
            raise DataError(f"--geometry {geometry!r}: give n_balls,ball_diameter,pitch_diameter,contact_angle_deg") from None
        if n < 3 or d <= 0 or pitch <= d:
            raise DataError(f"--geometry {geometry!r}: needs at least 3 balls and a pitch diameter above the ball diameter")
        r = d / pitch * np.cos(np.radians(angle))
        return {"bpfo": n / 2 * (1 - r), "bpfi": n / 2 * (1 + r), "bsf": pitch / (2 * d) * (1 - r**2)}
    if not text:
        return {}
    out = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = key.strip().lower()
        if key not in ("bpfo", "bpfi", "bsf", "ftf"):
            raise DataError(f"--defect-orders: unknown {key!r}; use bpfo, bpfi, bsf, ftf")
        try:
            out[key] = float(value)
        except ValueError:
            raise DataError(f"--defect-orders: {part!r} is not name=number") from None
    return out


# ------------------------------------------------------------------ reading
def _natural(path: Path):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def read_snapshot(path) -> tuple[np.ndarray, float | None]:
    """(n_samples, n_axes) acceleration and the snapshot time in seconds if the file has one."""
    path = Path(path)
    try:
        first = path.open().readline()
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read ({exc})", file=str(path)) from None
    sep = ";" if first.count(";") > first.count(",") else ","
    header = None if re.match(r"^\s*[-+0-9.]", first) else 0
    try:
        frame = pd.read_csv(path, sep=sep, header=header)
    except (pd.errors.EmptyDataError, pd.errors.ParserError) as exc:
        raise DataError(f"cannot read as CSV ({exc})", file=str(path)) from None
    values = frame.apply(pd.to_numeric, errors="coerce")
    if values.isna().any().any():
        row, col = np.argwhere(values.isna().to_numpy())[0]
        raise DataError("not a number", file=str(path), column=str(frame.columns[col]), row=int(row) + 1)
    arr = values.to_numpy(dtype=float)
    if len(arr) < 64:
        raise DataError(f"{len(arr)} samples: a vibration snapshot needs at least 64", file=str(path))
    stamp = None
    if arr.shape[1] == 6:  # hour, minute, second, microsecond, horizontal, vertical
        stamp = float(arr[0, 0] * 3600 + arr[0, 1] * 60 + arr[0, 2] + arr[0, 3] * 1e-6)
    return arr[:, -min(2, arr.shape[1]):], stamp


def read_bearing_folder(
    root, *, fs_hz: float | None = None, rpm: float | None = None, interval_s: float | None = None
) -> tuple[list[BearingRecord], list[str]]:
    """Every bearing folder under ``root`` (see the module text) and notes on what was read."""
    root = Path(root)
    if not root.is_dir():
        raise DataError("not a folder of bearing snapshot folders", file=str(root))
    manifest = None
    if (root / "manifest.csv").is_file():
        manifest = pd.read_csv(root / "manifest.csv", sep=None, engine="python")
        if "bearing" not in manifest:
            raise DataError("manifest.csv needs a 'bearing' column (the folder name)", file=str(root / "manifest.csv"))
        manifest = manifest.set_index(manifest["bearing"].astype(str))
    notes = []
    records = []
    folders = sorted([p for p in root.iterdir() if p.is_dir()], key=_natural)
    if not folders:
        raise DataError("no bearing folders inside", file=str(root))
    for folder in folders:
        unit = check_name(folder.name, "bearing folder")
        files = sorted([p for p in folder.iterdir() if p.suffix.lower() in (".csv", ".txt")], key=_natural)
        if len(files) < 2:
            notes.append(f"skipped {unit}: {len(files)} snapshot file(s)")
            continue
        row = manifest.loc[unit] if manifest is not None and unit in manifest.index else None
        if manifest is not None and row is None:
            notes.append(f"{unit}: not in manifest.csv; options used")

        def get(key, given, row=row):
            if row is not None and key in row and pd.notna(row[key]):
                return row[key]
            return given

        fs = get("fs_hz", fs_hz)
        if fs is None:
            raise DataError(f"bearing {unit}: the sampling rate is unknown; give --fs or an fs_hz column in manifest.csv")
        step = get("interval_s", interval_s)
        if step is not None:
            times = np.arange(len(files)) * float(step)
        else:
            stamps = [read_snapshot(f)[1] for f in (files[0], files[1])]
            if stamps[0] is None:
                raise DataError(f"bearing {unit}: the time between snapshots is unknown; give --snapshot-interval "
                                "or an interval_s column in manifest.csv")  # fmt: skip
            times = None  # read from every file below
        r = get("rpm", rpm)
        records.append(BearingRecord(unit, files, times, float(fs), None if r is None else float(r),
                                     str(get("condition", "default"))))  # fmt: skip
    if not records:
        raise DataError("no bearing folder with at least two snapshots", file=str(root))
    notes.append(f"read {len(records)} bearing(s), {sum(len(r.files) for r in records)} snapshots")
    return records, notes


# ------------------------------------------------------------------ indicators
@lru_cache(maxsize=8)
def _band_sos(fs: float) -> np.ndarray:
    # Bearing impacts ring structural resonances well above the shaft harmonics.
    return sps.butter(4, [0.1 * fs, 0.45 * fs], btype="bandpass", fs=fs, output="sos")


def _band_filter(x: np.ndarray, fs: float) -> np.ndarray:
    return sps.sosfiltfilt(_band_sos(float(fs)), x)


def envelope_spectrum(x: np.ndarray, fs: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and amplitude of the envelope (|Hilbert| of the band-passed signal) spectrum."""
    env = np.abs(sps.hilbert(_band_filter(np.asarray(x, dtype=float), fs)))
    env = (env - env.mean()) * np.hanning(len(env))
    return np.fft.rfftfreq(len(env), 1.0 / fs), np.abs(np.fft.rfft(env))


def defect_energy(freqs: np.ndarray, amp: np.ndarray, f_defect: float, harmonics: int = 3) -> float:
    """Energy at ``f_defect`` and its harmonics over the median level of the envelope spectrum."""
    df = freqs[1] - freqs[0]
    power = amp**2
    ref = np.median(power[(freqs > 0.3 * f_defect) & (freqs < (harmonics + 0.5) * f_defect)]) + 1e-30
    total = 0.0
    for k in range(1, harmonics + 1):
        f = k * f_defect
        band = np.abs(freqs - f) <= max(2 * df, 0.02 * f)
        if band.any():
            total += float(power[band].max())
    return total / ref / harmonics


def snapshot_indicators(x: np.ndarray, fs: float, *, rpm: float | None = None, orders: dict | None = None) -> dict:
    """Health indicators of one (n_samples, n_axes) snapshot, named ``a<axis>_<indicator>``."""
    x = np.asarray(x, dtype=float).reshape(len(x), -1)
    out = {}
    for k in range(x.shape[1]):
        s = x[:, k] - x[:, k].mean()
        rms = float(np.sqrt(np.mean(s**2))) + 1e-12
        p = f"a{k + 1}_"
        out[p + "rms"] = rms
        out[p + "kurtosis"] = float(stats.kurtosis(s, fisher=False))
        out[p + "crest"] = float(np.max(np.abs(s)) / rms)
        if orders and rpm:
            freqs, amp = envelope_spectrum(s, fs)
            for name, order in orders.items():
                if name != "ftf":
                    out[p + "env_" + name] = defect_energy(freqs, amp, order * rpm / 60.0)
        else:
            f, pxx = sps.welch(s, fs=fs, nperseg=min(len(s), 1024))
            for b, part in enumerate(np.array_split(np.arange(1, len(f)), 8)):
                out[p + f"band{b + 1}"] = float(pxx[part].sum()) + 1e-20
    return out


def records_to_frame(records: list[BearingRecord], *, orders: dict | None = None) -> tuple[pd.DataFrame, list[str]]:
    """unit, time_s, condition and the indicators of every snapshot of every bearing."""
    rows, notes = [], []
    for r in records:
        if orders and r.rpm is None:
            raise DataError(f"bearing {r.unit}: defect orders given but the shaft speed is unknown; give --rpm or an rpm column")
        times = []
        for i, f in enumerate(r.files):
            x, stamp = read_snapshot(f)
            times.append(r.times_s[i] if r.times_s is not None else stamp)
            rows.append({"unit": r.unit, "time_s": times[-1], "condition": r.condition,
                         **snapshot_indicators(x, r.fs_hz, rpm=r.rpm, orders=orders)})  # fmt: skip
        if r.times_s is None:  # clock times of day: unwrap midnight
            t = np.asarray(times)
            t = t + 86400.0 * np.cumsum(np.r_[0, np.diff(t) < 0])
            for j, row in enumerate(rows[-len(t):]):
                row["time_s"] = float(t[j] - t[0])
    frame = pd.DataFrame(rows)
    kinds = sorted({c.split("_", 1)[1] for c in frame.columns if c.startswith("a") and "_" in c})
    notes.append(f"health indicators per snapshot: {', '.join(kinds)}"
                 + ("" if orders else " (no defect orders or speed: band energies instead of defect-frequency energies)"))
    return frame, notes


def add_onset(
    frame: pd.DataFrame,
    *,
    baseline_share: float = 0.1,
    min_baseline: int = 8,
    threshold: float = 3.5,
    sustain: int = 3,
) -> tuple[pd.DataFrame, list[str]]:
    """Indicators as ``lr_*`` (log ratio to each unit's healthy baseline), ``hi`` (the largest
    robust z-score of the onset indicators over the baseline) and ``onset`` (True from the first
    snapshot of the first run of ``sustain`` snapshots with ``hi > threshold``; causal: a run not
    yet complete at a unit's last snapshot does not count). Frame sorted by unit, time."""
    frame = frame.sort_values(["unit", "time_s"], kind="stable").reset_index(drop=True)
    indicators = [c for c in frame.columns if re.match(r"a\d+_", str(c))]
    watched = [c for c in indicators if c.split("_", 1)[1] in ONSET_FEATURES]
    parts, onsets = [], {}
    for unit, g in frame.groupby("unit", sort=False):
        n_base = max(min_baseline, int(round(baseline_share * len(g))))
        if len(g) < n_base + 1:
            n_base = max(2, len(g) // 2)
        logs = np.log(np.maximum(g[indicators].to_numpy(dtype=float), 1e-12))
        base = logs[:n_base]
        med = np.median(base, axis=0)
        lr = logs - med
        mad = 1.4826 * np.median(np.abs(base - med), axis=0)
        scale = np.maximum(np.maximum(mad, base.std(axis=0)), 0.05)
        z = lr / scale
        wi = [indicators.index(c) for c in watched]
        hi = z[:, wi].max(axis=1) if wi else np.abs(z).max(axis=1)
        over = hi > threshold
        run = np.convolve(over.astype(int), np.ones(sustain, dtype=int), mode="full")[sustain - 1 : len(over) + sustain - 1]
        starts = np.flatnonzero((run == sustain)[: len(over) - sustain + 1])
        flag = np.zeros(len(g), dtype=bool)
        if len(starts):
            flag[starts[0]:] = True
            onsets[unit] = float(g["time_s"].iloc[starts[0]])
        part = g[["unit", "time_s", "condition"]].copy()
        part[[f"lr_{c}" for c in indicators]] = lr
        part["hi"] = hi
        part["onset"] = flag
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    notes = [f"onset of degradation: first {sustain} snapshots in a row above {threshold:g} robust z of the unit's "
             f"own baseline (its first {baseline_share:.0%} of snapshots, at least {min_baseline}) in any of "
             f"{', '.join(sorted({c.split('_', 1)[1] for c in watched})) or 'all indicators'}; "
             f"found in {len(onsets)} of {out['unit'].nunique()} units"]  # fmt: skip
    return out, notes


def to_rul_frame(indicators: pd.DataFrame, *, time_unit: str | None = None, source: str = "<bearings>") -> RTFData:
    """Indicators of snapshots (unit, time_s, condition, a*_...) as a RUL frame: unit, cycle,
    time (in ``time_unit``, else chosen from the lives), condition, ``lr_*``, ``hi``, ``onset``."""
    frame, notes = add_onset(indicators)
    rtf = frame_to_rtf(frame, unit_column="unit", time_column="time_s", interval="1s", time_unit=time_unit, source=source)
    rtf.notes = notes + [n for n in rtf.notes if not n.startswith("time: column")]
    return rtf
