"""Distances between simple statistics of real and synthetic windows (all: lower is better)."""

from __future__ import annotations

import numpy as np
from scipy.stats import wasserstein_distance

from geniot.metrics._common import check_pair

__all__ = ["acf_distance", "correlation_distance", "marginal_distance"]


def _corr(X: np.ndarray) -> np.ndarray:
    flat = X.reshape(-1, X.shape[2])
    centred = flat - flat.mean(axis=0)
    sd = np.sqrt((centred**2).mean(axis=0))
    cov = centred.T @ centred / len(flat)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = cov / np.outer(sd, sd)
    return np.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)


def correlation_distance(real, synth) -> float:
    """Mean absolute difference between the channel correlation matrices. **Lower is better**.

    Pearson correlations are computed over all steps of all windows pooled
    (``n_windows * n_steps`` rows); the mean is over the ``c (c - 1) / 2`` off-diagonal pairs
    (0.0 for a single channel). A constant channel counts as correlation 0. Range [0, 2].
    """
    r, s = check_pair(real, synth)
    c = r.shape[2]
    if c < 2:
        return 0.0
    iu = np.triu_indices(c, k=1)
    return float(np.abs(_corr(r)[iu] - _corr(s)[iu]).mean())


def _mean_acf(X: np.ndarray, max_lag: int) -> np.ndarray:
    centred = X - X.mean(axis=1, keepdims=True)
    denom = (centred**2).sum(axis=1)  # (n, c)
    acf = np.empty((max_lag, X.shape[2]))
    for lag in range(1, max_lag + 1):
        num = (centred[:, lag:, :] * centred[:, :-lag, :]).sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            a = np.where(denom > 0, num / denom, 0.0)
        acf[lag - 1] = a.mean(axis=0)
    return acf


def acf_distance(real, synth, max_lag: int | None = None) -> float:
    """Mean absolute difference of the autocorrelation functions. **Lower is better**.

    For every window and channel the (biased, window-mean-centred) sample autocorrelation at lags
    ``1..max_lag`` is computed (a constant window counts as 0), averaged over windows, and the
    absolute real-minus-synthetic difference is averaged over lags and channels.
    ``max_lag`` defaults to ``n_steps // 2`` (at least 1, at most ``n_steps - 1``).
    """
    r, s = check_pair(real, synth)
    t = r.shape[1]
    if t < 2:
        return 0.0
    lag = max(1, t // 2) if max_lag is None else int(max_lag)
    if lag < 1:
        raise ValueError(f"max_lag must be >= 1, got {max_lag}")
    lag = min(lag, t - 1)
    return float(np.abs(_mean_acf(r, lag) - _mean_acf(s, lag)).mean())


def marginal_distance(real, synth, *, method: str = "wasserstein", bins: int = 50) -> float:
    """Distance between the per-channel marginal distributions, averaged over channels.
    **Lower is better**; 0 for identical sets.

    * ``method="wasserstein"`` (default): the exact Wasserstein-1 (earth mover's) distance
      between the pooled values (all windows and steps) of each channel. On min-max scaled data
      (real in [0, 1]) it is in the units of the channel's real range, bounded by 1 when both
      sets lie in [0, 1].
    * ``method="histogram"``: the L1 distance between histograms with ``bins`` equal bins on
      [0, 1] (values outside are clipped into the edge bins), in [0, 2].
    """
    r, s = check_pair(real, synth)
    rf, sf = r.reshape(-1, r.shape[2]), s.reshape(-1, s.shape[2])
    if method == "wasserstein":
        d = [wasserstein_distance(rf[:, j], sf[:, j]) for j in range(rf.shape[1])]
    elif method == "histogram":
        edges = np.linspace(0.0, 1.0, int(bins) + 1)
        d = []
        for j in range(rf.shape[1]):
            hr = np.histogram(np.clip(rf[:, j], 0, 1), bins=edges)[0] / len(rf)
            hs = np.histogram(np.clip(sf[:, j], 0, 1), bins=edges)[0] / len(sf)
            d.append(np.abs(hr - hs).sum())
    else:
        raise ValueError(f"method must be 'wasserstein' or 'histogram', got {method!r}")
    return float(np.mean(d))
