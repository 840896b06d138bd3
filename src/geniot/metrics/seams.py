"""A seam statistic that one month of data can settle: steps in units of the real series' own
step spread at the same time of day.

The plain statistic (:func:`geniot.metrics.long_series.seam_statistic`) compares the step
changes at the seams with the real series' overall step spread. Continuation puts a seam every
``w - k`` steps (12 for a window of 24), so on hourly data every seam falls at the same two hours
of the day, and real steps at two hours of the day are not the average real step (a load ramps
in the morning, not at night). On real ETTh1 months with seams every 12 steps the plain ratio
scatters 0.94 ± 0.22 (36% of real months "within 10% of 1"), mostly from which hours the seams
hit. Here each step is first divided by the real step spread at its phase of the day (per
channel), and the seams are compared with the other steps of the same series: 1.00 ± 0.15 on
the same real months; concatenated independent windows read 4-5 (``benchmarks/seam_noise.py``).
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError

__all__ = ["phase_of_day", "phase_seam_statistic"]

_MIN_STEPS_PER_PHASE = 3  # fewer real steps at a phase: that phase uses the overall spread


def phase_of_day(timestamps, interval_s: float) -> np.ndarray:
    """Each timestamp's step of the day (0 .. steps_per_day - 1) at the sampling ``interval_s``."""
    ts = np.asarray(timestamps, dtype="datetime64[ns]").astype(np.int64)
    day_ns = 86400 * 10**9
    step_ns = float(interval_s) * 1e9
    if step_ns <= 0:
        raise DataError(f"the sampling interval must be positive, got {interval_s} s")
    return np.floor((ts % day_ns) / step_ns).astype(np.int64)


def _phase_spread(steps: np.ndarray, phase: np.ndarray, n_phases: int) -> np.ndarray:
    """(n_phases, c) root mean square of ``steps`` at each phase (the overall one where thin)."""
    overall = np.sqrt(np.nanmean(steps**2, axis=0))
    out = np.tile(overall, (n_phases, 1))
    for p in range(n_phases):
        at = steps[phase == p]
        counts = np.sum(~np.isnan(at), axis=0)
        thick = counts >= _MIN_STEPS_PER_PHASE
        if thick.any():
            out[p, thick] = np.sqrt(np.nanmean(at[:, thick] ** 2, axis=0))
    return np.where(out > 0, out, 1.0)


def phase_seam_statistic(real, synth, seams, *, real_phase=None, synth_phase=None) -> dict:
    """Seam steps against inside steps, each step in units of the real step spread at its phase.

    ``real`` and ``synth`` are standardised series (n, c) (as
    :func:`~geniot.metrics.long_series.standardise_pair` gives); ``seams`` the steps that start
    a stretch of ``synth``; ``real_phase`` / ``synth_phase`` the phase of the day of every step
    of each series (:func:`phase_of_day`). Without phases every step has the same phase (the
    ratio is then the seams' spread over the inside steps' spread, pooled over channels).

    * ``seam_phase_ratio``: root mean square of the scaled steps at the seams over that of the
      other steps, pooled over channels (1 = joins cannot be told from ordinary steps at the
      same hours);
    * ``seam_phase_step_ratio``: root mean square of the scaled steps at the seams (1 = joins
      move as real steps at those hours do; also reads the model's own step level).
    """
    r = np.asarray(real, dtype=np.float64)
    s = np.asarray(synth, dtype=np.float64)
    if r.ndim != 2 or s.ndim != 2 or r.shape[1] != s.shape[1]:
        raise DataError(f"real and synthetic must be (n, c) with the same channels, got {r.shape} and {s.shape}")
    seams = np.asarray(seams, dtype=np.int64)
    seams = seams[(seams >= 1) & (seams < len(s))]
    if seams.size == 0:
        raise DataError("no seams inside the synthetic series")
    rp = np.zeros(len(r), dtype=np.int64) if real_phase is None else np.asarray(real_phase, dtype=np.int64)
    sp = np.zeros(len(s), dtype=np.int64) if synth_phase is None else np.asarray(synth_phase, dtype=np.int64)
    if len(rp) != len(r) or len(sp) != len(s):
        raise DataError(f"phases must give one value per step: {len(rp)} for {len(r)} real, {len(sp)} for {len(s)} synthetic")
    if (real_phase is None) != (synth_phase is None):
        raise DataError("give the phases of both series or of neither")
    n_phases = int(max(rp.max(), sp.max())) + 1
    spread = _phase_spread(np.diff(r, axis=0), rp[1:], n_phases)  # a step's phase is its end's
    z = np.diff(s, axis=0) / spread[sp[1:]]
    at_seam = np.zeros(len(z), dtype=bool)
    at_seam[seams - 1] = True
    seam_rms = float(np.sqrt(np.nanmean(z[at_seam] ** 2)))
    inside_rms = float(np.sqrt(np.nanmean(z[~at_seam] ** 2)))
    return {
        "seam_phase_ratio": seam_rms / inside_rms if inside_rms > 0 else float("inf"),
        "seam_phase_step_ratio": seam_rms,
    }
