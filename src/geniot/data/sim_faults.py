"""Fault and glitch injection for the plant simulator (:mod:`geniot.data.simulate`).

Two families of faults, kept apart because they enter the simulation at different points:

* **process faults** change the machine itself, so they are applied *before* the physics and
  propagate through it (a cavitating pump draws less power, a wearing bearing heats up with the
  thermal lag of the housing):

  - ``bearing_wear``: vibration rises with a growing, erratic amplitude (quadratic in the episode's
    progress); bearing temperature target rises too; current slightly up (friction).
  - ``cavitation``: vapour bubbles at the impeller eye break the head: flow and discharge pressure
    drop (with extra jitter), vibration gets broad-band noise plus random implosion bursts.

* **sensor faults** corrupt one measured signal *after* the physics (the machine is fine):

  - ``sensor_drift``: the signal drifts linearly away (15-35 % of its mean level by the end of the
    episode); the sensor is recalibrated when the episode ends.
  - ``stuck_sensor``: the signal is frozen at its value at the start of the episode.
  - ``spikes``: a handful of isolated large spikes (30-60 % of the mean level, either sign).

Every episode is labelled over its interval, except ``spikes``, whose labels sit on the spike
rows only (the samples between spikes are normal readings).

All randomness comes from the generator passed in, so a given seed gives the same episodes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FAULT_TYPES: tuple[str, ...] = (
    "bearing_wear",
    "cavitation",
    "sensor_drift",
    "stuck_sensor",
    "spikes",
)
PROCESS_FAULTS = frozenset({"bearing_wear", "cavitation"})
SENSOR_FAULTS = frozenset({"sensor_drift", "stuck_sensor", "spikes"})

#: Episode length range in hours, per fault type (``spikes``: the window the spikes fall in).
DURATION_H: dict[str, tuple[float, float]] = {
    "bearing_wear": (6.0, 24.0),
    "cavitation": (0.5, 4.0),
    "sensor_drift": (4.0, 24.0),
    "stuck_sensor": (0.5, 6.0),
    "spikes": (1.0, 6.0),
}

#: Minimum normal operation between two episodes of one asset.
_GAP_S = 1800.0


@dataclass(frozen=True)
class FaultEpisode:
    """One injected fault on one asset: rows ``start`` (inclusive) to ``stop`` (exclusive).

    ``signal`` names the corrupted signal for sensor faults ("" for process faults); ``rows``
    lists the labelled rows when they are not the whole interval (``spikes``).
    """

    fault: str
    start: int
    stop: int
    signal: str = ""
    rows: tuple[int, ...] = ()

    def labelled_rows(self) -> np.ndarray:
        """Row indices that carry this episode's label."""
        if self.rows:
            return np.asarray(self.rows, dtype=np.int64)
        return np.arange(self.start, self.stop, dtype=np.int64)


def schedule_faults(
    rng: np.random.Generator,
    *,
    n_steps: int,
    dt_s: float,
    faults: Sequence[str],
    fault_rate: float,
    signals: Sequence[str],
) -> list[FaultEpisode]:
    """Draw non-overlapping fault episodes for one asset.

    The number of episodes is Poisson with mean ``fault_rate * horizon_days / 7`` (``fault_rate``
    is episodes per asset per 7 days). The type is uniform over ``faults``; each episode lasts a
    random time from :data:`DURATION_H` (at most a quarter of the horizon) and keeps 30 minutes of
    normal operation from its neighbours; an episode that finds no free slot is skipped.
    """
    if not faults or fault_rate <= 0 or n_steps < 2:
        return []
    horizon_days = n_steps * dt_s / 86400.0
    count = int(rng.poisson(fault_rate * horizon_days / 7.0))
    occupied = np.zeros(n_steps, dtype=bool)
    gap = max(1, round(_GAP_S / dt_s))
    max_len = max(2, n_steps // 4)
    episodes: list[FaultEpisode] = []
    for _ in range(count):
        fault = str(faults[int(rng.integers(len(faults)))])
        lo, hi = DURATION_H[fault]
        length = int(np.clip(round(rng.uniform(lo, hi) * 3600.0 / dt_s), 2, max_len))
        length = min(length, n_steps)
        start = -1
        for _try in range(30):
            cand = int(rng.integers(0, n_steps - length + 1))
            if not occupied[max(0, cand - gap) : cand + length + gap].any():
                start = cand
                break
        if start < 0:
            continue
        occupied[start : start + length] = True
        signal = "" if fault in PROCESS_FAULTS else str(signals[int(rng.integers(len(signals)))])
        rows: tuple[int, ...] = ()
        if fault == "spikes":
            k = min(length, int(rng.integers(3, 9)))
            picked = start + rng.choice(length, size=k, replace=False)
            rows = tuple(sorted(int(r) for r in picked))
        episodes.append(FaultEpisode(fault, start, start + length, signal, rows))
    episodes.sort(key=lambda e: e.start)
    return episodes


@dataclass
class ProcessEffects:
    """Per-step modifiers that process faults apply to one asset's physics (shape ``(n,)``)."""

    flow_factor: np.ndarray
    pressure_factor: np.ndarray
    current_factor: np.ndarray
    vibration_add: np.ndarray
    bearing_temp_add: np.ndarray


def process_effects(
    episodes: Sequence[FaultEpisode], rng: np.random.Generator, *, n_steps: int, dt_s: float
) -> ProcessEffects:
    """Turn the process-fault episodes of one asset into multiplicative/additive modifiers."""
    eff = ProcessEffects(
        flow_factor=np.ones(n_steps),
        pressure_factor=np.ones(n_steps),
        current_factor=np.ones(n_steps),
        vibration_add=np.zeros(n_steps),
        bearing_temp_add=np.zeros(n_steps),
    )
    for ep in episodes:
        s, e = ep.start, ep.stop
        length = e - s
        if ep.fault == "cavitation":
            # Trapezoid envelope: cavitation sets in over ~5 minutes and dies out the same way.
            ramp = max(1, min(length // 4, round(300.0 / dt_s)))
            up = np.arange(1, ramp + 1) / ramp
            env = np.ones(length)
            env[:ramp] = up
            env[-ramp:] = np.minimum(env[-ramp:], up[::-1])
            dq, dp = rng.uniform(0.10, 0.30), rng.uniform(0.15, 0.35)
            jitter_q = 0.04 * rng.standard_normal(length)
            jitter_p = 0.05 * rng.standard_normal(length)
            eff.flow_factor[s:e] *= np.clip(1.0 - env * (dq + jitter_q), 0.3, 1.05)
            eff.pressure_factor[s:e] *= np.clip(1.0 - env * (dp + jitter_p), 0.3, 1.05)
            bursts = (rng.random(length) < 0.3) * rng.exponential(rng.uniform(1.5, 3.0), length)
            eff.vibration_add[s:e] += env * (rng.uniform(0.5, 1.5) + bursts)
        elif ep.fault == "bearing_wear":
            progress = ((np.arange(length) + 1.0) / length) ** 2
            amp_v, amp_t = rng.uniform(2.0, 6.0), rng.uniform(6.0, 15.0)
            erratic = 1.0 + 0.3 * np.abs(rng.standard_normal(length))
            eff.vibration_add[s:e] += amp_v * progress * erratic
            eff.bearing_temp_add[s:e] += amp_t * progress
            eff.current_factor[s:e] *= 1.0 + 0.03 * progress
    return eff


def apply_sensor_faults(
    values: np.ndarray,
    episodes: Sequence[FaultEpisode],
    rng: np.random.Generator,
    signals: Sequence[str],
) -> None:
    """Corrupt ``values`` (shape ``(n_steps, n_signals)``, one asset) in place."""
    sig = list(signals)
    for ep in episodes:
        if ep.fault not in SENSOR_FAULTS:
            continue
        col = values[:, sig.index(ep.signal)]  # a view: edits land in ``values``
        level = float(np.mean(np.abs(col))) or 1.0
        s, e = ep.start, ep.stop
        if ep.fault == "sensor_drift":
            sign = 1.0 if rng.random() < 0.5 else -1.0
            offset = sign * rng.uniform(0.15, 0.35) * level
            col[s:e] += offset * np.arange(1, e - s + 1) / (e - s)
        elif ep.fault == "stuck_sensor":
            col[s:e] = col[s]
        elif ep.fault == "spikes":
            rows = ep.labelled_rows()
            signs = np.where(rng.random(rows.size) < 0.5, 1.0, -1.0)
            col[rows] += signs * rng.uniform(0.3, 0.6, rows.size) * level


def apply_dropouts(
    values: np.ndarray,
    rng: np.random.Generator,
    *,
    drop_rate: float,
    outage_rate: float,
    dt_s: float,
    outage_minutes: tuple[float, float],
) -> None:
    """Blank readings in place: single drops and whole-row outages (shape ``(n, n_signals)``).

    Each reading is dropped independently with probability ``drop_rate``. Outages arrive as a
    Poisson count with mean ``outage_rate * horizon_days``, each lasting a uniform number of
    minutes in ``outage_minutes`` during which every signal of the asset is missing.
    """
    n = values.shape[0]
    if drop_rate > 0:
        values[rng.random(values.shape) < drop_rate] = np.nan
    if outage_rate > 0:
        count = int(rng.poisson(outage_rate * n * dt_s / 86400.0))
        lo, hi = outage_minutes
        for _ in range(count):
            length = max(1, round(rng.uniform(lo, hi) * 60.0 / dt_s))
            length = min(length, n)
            start = int(rng.integers(0, n - length + 1))
            values[start : start + length] = np.nan
