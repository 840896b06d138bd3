"""Metrics of long synthetic series (not windows): structure across days and weeks, seams, copies.

Every function takes series shaped (n_steps, n_channels) in the data's units (NaN = gap) and
first standardises them per channel with the **real** series' mean and standard deviation, so
that distances are in units of the real signals' spread and every channel counts alike.

* :func:`acf_distance_long`: mean absolute difference of the autocorrelation per channel at lags
  1..L (L = a day or a week of steps);
* :func:`spectrum_distance`: total-variation distance between normalised Welch power spectra
  (0 = same shape of spectrum, 1 = disjoint), averaged over channels;
* :func:`cross_correlation_distance`: mean absolute difference of the cross-correlation of every
  pair of channels at lags -L..L;
* :func:`seam_statistic`: the spread of step changes where stretches join, and inside them, each
  as a ratio to the real series' own step-change spread (1 = like the real series);
* :func:`longest_match`: the longest run of consecutive steps of one series lying within a
  tolerance of a run of another (a copied stretch shows as a long run);
* :func:`block_bootstrap` and :func:`concatenate_windows`: the two baselines every long-series
  figure is shown beside.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import welch

from geniot.core.exceptions import DataError
from geniot.metrics._common import as_rng

__all__ = [
    "acf_curve",
    "acf_distance_long",
    "block_bootstrap",
    "concatenate_windows",
    "cross_correlation_distance",
    "longest_match",
    "seam_statistic",
    "spectrum_distance",
    "standardise_pair",
]


def _series(x, name: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] < 3:
        raise DataError(f"{name} must be a series shaped (n_steps >= 3, n_channels), got {arr.shape}")
    return arr


def standardise_pair(real, synth) -> tuple[np.ndarray, np.ndarray]:
    """Both series scaled per channel by the real one's mean and standard deviation."""
    r, s = _series(real, "real"), _series(synth, "synthetic")
    if r.shape[1] != s.shape[1]:
        raise DataError(f"real has {r.shape[1]} channels, synthetic {s.shape[1]}")
    mean = np.nanmean(r, axis=0)
    std = np.nanstd(r, axis=0)
    std = np.where(std > 0, std, 1.0)
    return (r - mean) / std, (s - mean) / std


def acf_curve(x, max_lag: int) -> np.ndarray:
    """Autocorrelation of each channel at lags 1..max_lag: (max_lag, n_channels).

    The series' own mean is removed; a lag's products use only pairs where both steps are
    observed, normalised by the variance (the usual biased estimator on a complete series).
    """
    x = _series(x, "series")
    n, c = x.shape
    max_lag = int(min(max_lag, n - 2))
    z = x - np.nanmean(x, axis=0)
    var = np.nanmean(z**2, axis=0)
    var = np.where(var > 0, var, 1.0)
    out = np.empty((max_lag, c))
    obs = ~np.isnan(z)
    z0 = np.where(obs, z, 0.0)
    for lag in range(1, max_lag + 1):
        both = obs[lag:] & obs[:-lag]
        prod = (z0[lag:] * z0[:-lag]).sum(axis=0)
        out[lag - 1] = prod / np.maximum(both.sum(axis=0), 1) / var * (n - lag) / n
    return out


def acf_distance_long(real, synth, max_lag: int) -> float:
    """Mean |ACF_real - ACF_synth| over lags 1..max_lag and channels (lower is better)."""
    r, s = standardise_pair(real, synth)
    lag = int(min(max_lag, len(r) - 2, len(s) - 2))
    if lag < 1:
        raise DataError(f"the series are too short for lags up to {max_lag}")
    return float(np.mean(np.abs(acf_curve(r, lag) - acf_curve(s, lag))))


def _filled(x: np.ndarray) -> np.ndarray:
    """Gaps linearly interpolated (and edge gaps held) so that spectra can be computed."""
    out = x.copy()
    idx = np.arange(len(x))
    for j in range(x.shape[1]):
        ok = ~np.isnan(x[:, j])
        if not ok.any():
            raise DataError(f"channel {j} has no observed value")
        out[:, j] = np.interp(idx, idx[ok], x[ok, j])
    return out


def spectrum_distance(real, synth, *, nperseg: int | None = None) -> float:
    """Total-variation distance between the normalised Welch spectra, mean over channels."""
    r, s = standardise_pair(real, synth)
    seg = int(nperseg or min(256, len(r), len(s)))
    _, pr = welch(_filled(r), nperseg=seg, axis=0)
    _, ps = welch(_filled(s), nperseg=seg, axis=0)
    pr = pr / np.maximum(pr.sum(axis=0, keepdims=True), 1e-300)
    ps = ps / np.maximum(ps.sum(axis=0, keepdims=True), 1e-300)
    return float(np.mean(0.5 * np.abs(pr - ps).sum(axis=0)))


def _cross_corr(z: np.ndarray, max_lag: int) -> np.ndarray:
    """(pairs, 2*max_lag+1) correlation of channel i at t with channel j at t+lag, i < j."""
    z = _filled(z)
    z = (z - z.mean(axis=0)) / np.where(z.std(axis=0) > 0, z.std(axis=0), 1.0)
    n, c = z.shape
    rows = []
    for i in range(c):
        for j in range(i + 1, c):
            row = []
            for lag in range(-max_lag, max_lag + 1):
                if lag >= 0:
                    a, b = z[: n - lag, i], z[lag:, j]
                else:
                    a, b = z[-lag:, i], z[: n + lag, j]
                row.append(float(np.mean(a * b)))
            rows.append(row)
    return np.asarray(rows).reshape(-1, 2 * max_lag + 1)


def cross_correlation_distance(real, synth, max_lag: int) -> float:
    """Mean |xcorr_real - xcorr_synth| over channel pairs and lags -max_lag..max_lag."""
    r, s = standardise_pair(real, synth)
    if r.shape[1] < 2:
        return 0.0
    lag = int(min(max_lag, len(r) // 2, len(s) // 2))
    return float(np.mean(np.abs(_cross_corr(r, lag) - _cross_corr(s, lag))))


def seam_statistic(real, synth, seams) -> dict:
    """Step changes where stretches join (``seams``: steps that start a stretch) and inside.

    The spread (root mean square) of the step changes x_t - x_{t-1}, per channel, in ratio to the
    real series' own step-change spread, averaged over channels:

    * ``seam_step_ratio``: at the seams (1 = joins move like ordinary real steps; concatenated
      independent windows jump, far above 1);
    * ``inside_step_ratio``: at every other step (the model's own step fidelity);
    * ``seam_inside_ratio``: seams over inside steps of the same series (1 = the joins cannot be
      told from the rest);
    * ``seam_abs_step_ratio``: as ``seam_step_ratio`` with the mean absolute step instead of the
      spread (sensitive to the tails: heavy-tailed real steps against Gaussian ones read higher);
    * ``seam_channel_step_ratios``: ``seam_step_ratio`` of each channel (a list);
    * ``seam_worst_step_ratio`` and ``seam_worst_channel``: the channel's ratio furthest from 1
      (in log terms) and its index. The mean over channels can read 1 while one smooth channel
      jumps at every join and a rough one is damped there, so the worst is never hidden;
    * ``n_seams``.
    """
    r, s = standardise_pair(real, synth)
    seams = np.asarray(seams, dtype=np.int64)
    seams = seams[(seams >= 1) & (seams < len(s))]
    if seams.size == 0:
        raise DataError("no seams inside the synthetic series")
    real_d = np.diff(r, axis=0)

    def _pos(v: np.ndarray) -> np.ndarray:
        return np.where(v > 0, v, 1.0)

    real_rms = _pos(np.sqrt(np.nanmean(real_d**2, axis=0)))
    real_abs = _pos(np.nanmean(np.abs(real_d), axis=0))
    steps = np.diff(s, axis=0)  # steps[t - 1] = s_t - s_{t-1}
    at_seam = np.zeros(len(steps), dtype=bool)
    at_seam[seams - 1] = True
    seam = np.sqrt(np.nanmean(steps[at_seam] ** 2, axis=0))
    inside = np.sqrt(np.nanmean(steps[~at_seam] ** 2, axis=0))
    per_channel = seam / real_rms
    worst = int(np.nanargmax(np.abs(np.log(np.maximum(per_channel, 1e-12)))))
    return {
        "seam_step_ratio": float(np.mean(per_channel)),
        "seam_channel_step_ratios": [float(v) for v in per_channel],
        "seam_worst_step_ratio": float(per_channel[worst]),
        "seam_worst_channel": worst,
        "inside_step_ratio": float(np.mean(inside / real_rms)),
        "seam_inside_ratio": float(np.mean(seam / _pos(inside))),
        "seam_abs_step_ratio": float(np.mean(np.nanmean(np.abs(steps[at_seam]), axis=0) / real_abs)),
        "n_seams": int(seams.size),
    }


def longest_match(query, reference, *, tolerance: float, exclude=None) -> int:
    """Longest run of consecutive ``query`` steps that lie, step by step, within ``tolerance``
    (max over channels of the absolute difference) of consecutive ``reference`` steps.

    Both series must be on the same scale. ``exclude`` = (lo, hi) skips reference steps lo..hi-1
    (a held-out stretch compared with the rest of its own series). Gaps never match.
    """
    q = np.asarray(query, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    valid = np.ones(len(ref), dtype=bool)
    if exclude is not None:
        valid[max(0, exclude[0]) : max(0, exclude[1])] = False
    run = np.zeros(len(ref), dtype=np.int64)
    best = 0
    for i in range(len(q)):
        close = np.all(np.abs(ref - q[i]) <= tolerance, axis=1) & valid
        new = np.zeros_like(run)
        new[1:] = run[:-1] + 1
        new[0] = 1
        run = np.where(close, new, 0)
        best = max(best, int(run.max(initial=0)))
    return best


def block_bootstrap(real, n_steps: int, block: int, *, random_state=None) -> tuple[np.ndarray, np.ndarray]:
    """A series of ``n_steps`` made of random blocks of the real series (and where they join)."""
    r = _series(real, "real")
    block = int(min(block, len(r)))
    rng = as_rng(random_state)
    parts, seams, total = [], [], 0
    while total < n_steps:
        start = int(rng.integers(0, len(r) - block + 1))
        parts.append(r[start : start + block])
        if total:
            seams.append(total)
        total += block
    return np.concatenate(parts)[:n_steps], np.asarray(seams, dtype=np.int64)


def concatenate_windows(windows, n_steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Independent windows (n, w, c) laid end to end, cut to ``n_steps`` (and their seams)."""
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3:
        raise DataError(f"windows must be shaped (n, steps, channels), got {w.shape}")
    series = w.reshape(-1, w.shape[2])
    if len(series) < n_steps:
        raise DataError(f"{len(w)} windows of {w.shape[1]} steps are shorter than {n_steps} steps")
    seams = np.arange(w.shape[1], n_steps, w.shape[1], dtype=np.int64)
    return series[:n_steps], seams


# ---------------------------------------------------------------------------- the whole suite
#: the sets a long-series report shows side by side
LONG_SETS = ("synthetic", "concatenated", "bootstrap", "real_stretch")


def random_windows(x: np.ndarray, window: int, n: int, rng) -> np.ndarray:
    """``n`` windows cut from a series at random offsets (only complete ones)."""
    starts = rng.integers(0, len(x) - window + 1, size=n * 3)
    cut = np.stack([x[s : s + window] for s in starts])
    cut = cut[~np.isnan(cut).any(axis=(1, 2))]
    if len(cut) == 0:
        raise DataError(f"no complete window of {window} steps in the series")
    return cut[:n]


def _one_set(real_z: np.ndarray, x_z: np.ndarray, seams, *, day: int, week: int, window: int, rng, phases=None) -> dict:
    from geniot.metrics.seams import phase_seam_statistic
    from geniot.metrics.statistics import acf_distance, correlation_distance, marginal_distance

    out = {
        "acf_day_distance": acf_distance_long(real_z, x_z, day),
        "acf_week_distance": acf_distance_long(real_z, x_z, week),
        "spectrum_distance": spectrum_distance(real_z, x_z),
        "xcorr_distance": cross_correlation_distance(real_z, x_z, min(day, 48)),
    }
    if seams is not None and len(seams):
        s = seam_statistic(real_z, x_z, seams)
        out.update(s)
        real_phase, phase = (None, None) if phases is None else phases
        out.update(phase_seam_statistic(real_z, x_z, seams, real_phase=real_phase, synth_phase=phase))
    n_win = int(min(500, max(20, len(x_z) // window * 4)))
    rw, sw = random_windows(real_z, window, 2000, rng), random_windows(x_z, window, n_win, rng)
    out.update(
        window_acf_distance=acf_distance(rw, sw),
        window_correlation_distance=correlation_distance(rw, sw),
        window_marginal_distance=marginal_distance(rw, sw),
    )
    return out


def long_series_metrics(
    real,
    synth,
    seams,
    *,
    interval_s: float,
    window: int,
    concatenated=None,
    random_state=None,
    copy_tolerance: float = 0.1,
    n_real_stretches: int = 10,
    real_phase=None,
    synth_phase=None,
) -> dict:
    """Every long-series metric of ``synth`` beside the two baselines and real stretches.

    ``real`` is the real series, ``synth`` the synthetic one with its ``seams``;
    ``concatenated`` is (series, seams) of independent windows laid end to end (from the model;
    ``None`` takes random real windows, an ideal window generator without continuation). The
    block bootstrap uses blocks of one window. ``real_stretch`` is the median over random real
    stretches as long as ``synth``: what real data of that length itself scores. Lags: a day and
    a week of steps at ``interval_s``. Returns a flat dict ``long_<set>_<metric>`` plus
    ``long_longest_match_{synthetic,holdout,bootstrap}`` (steps; copies give long runs; the
    holdout is a real stretch compared with the rest of the real series).

    ``real_phase`` / ``synth_phase`` (each step's step of the day, :func:`geniot.metrics.seams.phase_of_day`)
    make the phase-matched seam statistic (``seam_phase_ratio``) compare each step with real steps at
    the same hour; the baselines are laid on the synthetic clock, and real stretches (with the
    synthetic's seams) on their own. Without them it is the pooled seams-over-inside ratio.
    """
    r_z, s_z = standardise_pair(real, synth)
    rng = as_rng(random_state)
    n = len(s_z)
    day = max(2, int(round(86400.0 / float(interval_s))))
    week = 7 * day
    if concatenated is None:
        concat, concat_seams = concatenate_windows(random_windows(r_z, window, -(-n // window), rng), n)
    else:
        concat, concat_seams = concatenated
        concat = (np.asarray(concat, dtype=np.float64) - np.nanmean(_series(real, "real"), axis=0)) / np.where(
            np.nanstd(_series(real, "real"), axis=0) > 0, np.nanstd(_series(real, "real"), axis=0), 1.0
        )
    boot, boot_seams = block_bootstrap(r_z, n, window, random_state=rng)
    sets = {
        "synthetic": (s_z, seams),
        "concatenated": (concat, concat_seams),
        "bootstrap": (boot, boot_seams),
    }
    out: dict = {"long_n_steps": int(n), "long_n_real_steps": int(len(r_z)), "long_day_lag": day, "long_week_lag": week}
    if (real_phase is None) != (synth_phase is None):
        raise DataError("give the phases of both series or of neither")
    phases = None if real_phase is None else (np.asarray(real_phase), np.asarray(synth_phase))
    for name, (x, sm) in sets.items():
        for key, value in _one_set(r_z, x, sm, day=day, week=week, window=window, rng=rng, phases=phases).items():
            out[f"long_{name}_{key}"] = value
    holdout_start = None
    if len(r_z) >= 2 * n:
        starts = rng.integers(0, len(r_z) - n + 1, size=int(n_real_stretches))
        rows = [
            _one_set(
                r_z, r_z[s : s + n], seams, day=day, week=week, window=window, rng=rng,
                phases=None if phases is None else (phases[0], phases[0][s : s + n]),
            )
            for s in starts
        ]  # fmt: skip
        for key in rows[0]:
            if key == "seam_worst_channel":  # an index: the median of indices means nothing
                continue
            values = np.median([row[key] for row in rows], axis=0)  # per channel for a list
            out[f"long_real_stretch_{key}"] = values.tolist() if values.ndim else float(values)
        holdout_start = int(starts[0])
    out["long_longest_match_synthetic"] = longest_match(s_z, r_z, tolerance=copy_tolerance)
    out["long_longest_match_bootstrap"] = longest_match(boot, r_z, tolerance=copy_tolerance)
    if holdout_start is not None:
        lo = holdout_start
        out["long_longest_match_holdout"] = longest_match(
            r_z[lo : lo + n], r_z, tolerance=copy_tolerance, exclude=(lo - n, lo + 2 * n)
        )
    out["long_copy_tolerance"] = float(copy_tolerance)
    return out
