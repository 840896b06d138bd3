"""Simulated run-to-failure rolling bearings: vibration snapshots from healthy to failed.

Each bearing runs in one operating condition (shaft speed, load) until it fails. It is healthy
until an onset time; from there a localised defect (outer or inner race) hits the rolling elements
at its defect frequency (BPFO or BPFI x shaft frequency, with 1% timing jitter), and each hit
rings a structural resonance. The impact amplitude and the broadband noise grow with wear, from 0
at onset to 1 at failure along ``(exp(a tau) - 1) / (exp(a) - 1)``, tau the share of the
degradation period elapsed; an inner-race defect is modulated by the shaft rotation. Heavier
loads wear faster (shorter lives) and vibrate more; faster shafts vibrate more. Every snapshot is
``snapshot_s`` seconds of two axes (horizontal, vertical) at ``fs_hz``, one every ``interval_s``.

All randomness comes from ``seed``, so one seed gives the same bearings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: Defect frequencies as multiples of the shaft frequency (a 6205 deep-groove ball bearing).
ORDERS = {"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 4.7135, "ftf": 0.39828}

#: Operating conditions: name -> (shaft rpm, radial load in kN).
CONDITIONS = {"c1": (1800.0, 4.0), "c2": (1650.0, 4.2), "c3": (1500.0, 5.0)}


@dataclass
class SimBearing:
    unit: str
    condition: str
    rpm: float
    load_kn: float
    fault: str  # "bpfo" (outer race) or "bpfi" (inner race)
    fs_hz: float
    interval_s: float
    life_s: float  # time of the last snapshot: the failure
    onset_s: float  # the defect starts here
    times_s: np.ndarray  # (n_snapshots,)
    snapshots: np.ndarray  # (n_snapshots, n_samples, 2) float32, acceleration in g

    def wear(self, t_s) -> np.ndarray:
        tau = np.clip((np.asarray(t_s, dtype=float) - self.onset_s) / (self.life_s - self.onset_s), 0.0, 1.0)
        return (np.exp(self.wear_rate * tau) - 1.0) / (np.exp(self.wear_rate) - 1.0)

    wear_rate: float = 3.0


def _snapshot(rng, b: SimBearing, wear: float, n: int, load_scale: float) -> np.ndarray:
    fs = b.fs_hz
    t = np.arange(n) / fs
    fr = b.rpm / 60.0
    speed_scale = (b.rpm / 1800.0) ** 1.5
    base = 0.08 * load_scale * speed_scale
    x = np.empty((n, 2))
    for axis, gain in enumerate((1.0, 0.7)):
        phase = rng.uniform(0, 2 * np.pi, 2)
        sig = base * (0.6 * np.sin(2 * np.pi * fr * t + phase[0]) + 0.25 * np.sin(4 * np.pi * fr * t + phase[1]))
        sig += base * (1.0 + 3.0 * wear) * rng.standard_normal(n)
        x[:, axis] = gain * sig
    if wear > 0:
        f_defect = ORDERS[b.fault] * fr
        period = 1.0 / f_defect
        hits = np.arange(rng.uniform(0, period), n / fs, period)
        hits = hits + rng.normal(0, 0.01 * period, len(hits))
        ring = np.arange(int(0.004 * fs)) / fs
        f_res, damping = 3200.0, 900.0
        kernel = np.exp(-damping * ring) * np.sin(2 * np.pi * f_res * ring)
        amp = 2.5 * wear * load_scale * speed_scale
        impulses = np.zeros(n)
        idx = (hits * fs).astype(int)
        idx = idx[(idx >= 0) & (idx < n)]
        strength = amp * rng.uniform(0.7, 1.3, len(idx))
        if b.fault == "bpfi":  # the defect turns with the shaft: load zone modulation
            strength *= 0.6 + 0.4 * np.cos(2 * np.pi * fr * idx / fs)
        impulses[idx] = strength
        ringing = np.convolve(impulses, kernel)[:n]
        x[:, 0] += ringing
        x[:, 1] += 0.8 * ringing
    return x.astype(np.float32)


def simulate_bearings(
    n_bearings: int = 12,
    *,
    seed: int = 0,
    conditions: dict[str, tuple[float, float]] | None = None,
    fs_hz: float = 20480.0,
    snapshot_s: float = 0.1,
    interval_s: float = 300.0,
    life_h: tuple[float, float] = (4.0, 12.0),
    degradation_share: tuple[float, float] = (0.2, 0.45),
    faults: tuple[str, ...] = ("bpfo", "bpfi"),
    prefix: str = "b",
) -> list[SimBearing]:
    """``n_bearings`` run-to-failure bearings, spread over ``conditions`` in turn."""
    rng = np.random.default_rng(seed)
    conditions = conditions or CONDITIONS
    names = list(conditions)
    n = int(round(snapshot_s * fs_hz))
    out = []
    for k in range(n_bearings):
        cond = names[k % len(names)]
        rpm, load = conditions[cond]
        load_scale = load / 4.0
        life = rng.uniform(*life_h) * 3600.0 / load_scale**2  # heavier load, shorter life
        times = np.arange(0.0, life + 1e-9, interval_s)
        life = float(times[-1])
        onset = life * (1.0 - rng.uniform(*degradation_share))
        b = SimBearing(f"{prefix}{k + 1:02d}", cond, rpm, load, str(rng.choice(faults)), fs_hz, interval_s, life,
                       onset, times, np.empty(0))  # fmt: skip
        b.wear_rate = float(rng.uniform(2.0, 4.0))
        wear = b.wear(times)
        b.snapshots = np.stack([_snapshot(rng, b, float(w), n, load_scale) for w in wear])
        out.append(b)
    return out


def cut_before_failure(bearing: SimBearing, share: float) -> tuple[SimBearing, float]:
    """The bearing observed up to ``share`` of its life, and its true RUL after the last snapshot."""
    keep = max(2, int(np.searchsorted(bearing.times_s, share * bearing.life_s, side="right")))
    cut = SimBearing(bearing.unit, bearing.condition, bearing.rpm, bearing.load_kn, bearing.fault, bearing.fs_hz,
                     bearing.interval_s, bearing.life_s, bearing.onset_s, bearing.times_s[:keep],
                     bearing.snapshots[:keep])  # fmt: skip
    cut.wear_rate = bearing.wear_rate
    return cut, float(bearing.life_s - bearing.times_s[keep - 1])


def indicator_frame(bearings: list[SimBearing], *, orders: dict | None = ORDERS) -> pd.DataFrame:
    """unit, time_s, condition and the health indicators of every snapshot, computed in memory
    with the same code as for files read from disk."""
    from geniot.data.bearings import snapshot_indicators

    rows = []
    for b in bearings:
        for t, snap in zip(b.times_s, b.snapshots, strict=True):
            rows.append({"unit": b.unit, "time_s": float(t), "condition": b.condition,
                         **snapshot_indicators(snap, b.fs_hz, rpm=b.rpm, orders=orders)})  # fmt: skip
    return pd.DataFrame(rows)


def write_bearing_folder(root, bearings: list[SimBearing], *, sep: str = ",") -> Path:
    """One folder per bearing, one CSV per snapshot (two axes), and ``manifest.csv``."""
    root = Path(root)
    rows = []
    for b in bearings:
        folder = root / b.unit
        folder.mkdir(parents=True, exist_ok=True)
        for i, snap in enumerate(b.snapshots):
            pd.DataFrame(snap, columns=["horizontal", "vertical"]).to_csv(folder / f"acc_{i + 1:05d}.csv", sep=sep,
                                                                          index=False, float_format="%.5f")  # fmt: skip
        rows.append({"bearing": b.unit, "condition": b.condition, "rpm": b.rpm, "fs_hz": b.fs_hz, "interval_s": b.interval_s})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)
    return root
