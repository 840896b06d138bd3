"""Exact federated fit of the Gaussian baseline from summed sufficient statistics.

``GaussianBaseline`` standardises each channel, takes the pairwise-complete mean and covariance of
flattened windows, shrinks the covariance towards its diagonal by Ledoit-Wolf and floors its
eigenvalues. Every one of those numbers is a function of sums over windows, so sites can send
sums instead of windows and the server gets the centralized fit exactly (up to float rounding):

* pass 1 (``moment_stats``): per flattened position, the count of observed values and their sum;
* pass 2 (``centred_stats``, given the pooled means): the masked cross-products of centred
  values ``C``, the pair counts ``P`` and, for Ledoit-Wolf, ``Q = sum_k a_k a_k^T`` with
  ``a_k`` the squared centred values (the fourth moments that LW's variance estimate needs once
  the channel scales, unknown to the sites, are applied: ``sum_k |z_k|^4 = w^T Q w``).

What a site reveals: two (d,) vectors and three (d, d) matrices of sums over its windows
(d = window * channels), never a window.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from geniot.core.exceptions import DataError


def _flat(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=np.float64)
    if X.ndim not in (2, 3):
        raise DataError(f"windows must be shaped (n, steps, channels) or flattened (n, features), got {X.shape}")
    flat = X.reshape(len(X), -1)
    mask = np.isfinite(flat)
    return np.where(mask, flat, 0.0), mask


def moment_stats(X: np.ndarray) -> dict[str, np.ndarray]:
    """Pass 1 at a site: window count, observed count and sum per flattened position."""
    values, mask = _flat(X)
    return {
        "n_windows": np.array([len(values)], dtype=np.float64),
        "count": mask.sum(axis=0).astype(np.float64),
        "total": values.sum(axis=0),
    }


def centred_stats(X: np.ndarray, mean: np.ndarray) -> dict[str, np.ndarray]:
    """Pass 2 at a site, around the pooled per-position ``mean`` (raw units)."""
    values, mask = _flat(X)
    if mean.shape != (values.shape[1],):
        raise DataError(f"pooled mean has shape {mean.shape}, the site's windows flatten to {values.shape[1]}")
    centred = np.where(mask, values - mean, 0.0)
    squares = centred**2
    m = mask.astype(np.float64)
    return {"cross": centred.T @ centred, "pairs": m.T @ m, "fourth": squares.T @ squares}


def sum_stats(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Element-wise sum of the sites' statistics (the aggregation: exact, order-free)."""
    if not parts:
        raise DataError("no site statistics to combine")
    keys = set(parts[0])
    for p in parts[1:]:
        if set(p) != keys:
            raise DataError(f"sites sent different statistics: {sorted(keys)} vs {sorted(p)}")
    return {k: np.sum([np.asarray(p[k], dtype=np.float64) for p in parts], axis=0) for k in keys}


def pooled_mean(moments: dict[str, np.ndarray], n_channels: int) -> np.ndarray:
    """Per-position mean in raw units; an empty position takes its channel's mean."""
    count, total = moments["count"], moments["total"]
    channel_mean, _ = _channel_mean(moments, n_channels)
    fallback = np.tile(channel_mean, len(count) // n_channels)
    return np.where(count > 0, total / np.maximum(count, 1.0), fallback)


def _channel_mean(moments: dict[str, np.ndarray], n_channels: int) -> tuple[np.ndarray, np.ndarray]:
    count = moments["count"].reshape(-1, n_channels).sum(axis=0)
    total = moments["total"].reshape(-1, n_channels).sum(axis=0)
    if (count == 0).any():
        empty = [int(i) for i in np.flatnonzero(count == 0)]
        raise DataError(f"channel(s) {empty} have no observed value at any site")
    return total / count, count


def _ledoit_wolf(cross_z: np.ndarray, fourth_z: float, n: int) -> float:
    """scikit-learn's ``ledoit_wolf_shrinkage(centred, assume_centered=True)`` from sums."""
    d = cross_z.shape[0]
    if d == 1:
        return 0.0
    trace = np.trace(cross_z) / n
    mu = trace / d
    delta_ = float(np.sum(cross_z**2)) / n**2
    beta = 1.0 / (d * n) * (fourth_z / n - delta_)
    delta = (delta_ - 2.0 * mu * trace + d * mu**2) / d
    beta = min(beta, delta)
    return 0.0 if beta == 0 else float(beta / delta)


def gaussian_state(
    moments: dict[str, np.ndarray],
    centred: dict[str, np.ndarray],
    *,
    n_channels: int,
    shrinkage: float | None = None,
    min_variance: float = 1e-4,
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """The fitted state of ``GaussianBaseline(shrinkage, min_variance)`` from pooled sums:
    ``({"shrinkage_": ...}, {"channel_mean_", "channel_std_", "mean_", "covariance_"})``."""
    n = int(round(float(moments["n_windows"][0])))
    count = moments["count"]
    channel_mean, channel_count = _channel_mean(moments, n_channels)
    mean_raw = pooled_mean(moments, n_channels)
    steps = len(count) // n_channels
    cm = np.tile(channel_mean, steps)
    # Per-channel sum of squares about the channel mean, from the per-position ones.
    ss = np.diag(centred["cross"]) + count * (mean_raw - cm) ** 2
    var = ss.reshape(steps, n_channels).sum(axis=0) / channel_count
    std = np.sqrt(np.maximum(var, 0.0))
    channel_std = np.where(std > 0, std, 1.0)
    scale = 1.0 / np.tile(channel_std, steps)
    mean_z = np.where(count > 0, (mean_raw - cm) * scale, 0.0)
    cross_z = centred["cross"] * np.outer(scale, scale)
    cov = cross_z / np.maximum(centred["pairs"] - 1.0, 1.0)
    if shrinkage is None:
        w = scale**2
        shrink = _ledoit_wolf(cross_z, float(w @ centred["fourth"] @ w), n) if n > 1 else 1.0
    else:
        shrink = float(shrinkage)
    # The same shrinkage and eigenvalue floor as GaussianBaseline._estimate (a test holds them equal).
    cov = (1.0 - shrink) * cov + shrink * np.diag(np.diag(cov))
    vals, vecs = np.linalg.eigh(0.5 * (cov + cov.T))
    cov = (vecs * np.maximum(vals, float(min_variance))) @ vecs.T
    arrays = {
        "channel_mean_": channel_mean,
        "channel_std_": channel_std,
        "mean_": mean_z,
        "covariance_": 0.5 * (cov + cov.T),
    }
    return {"shrinkage_": shrink}, arrays
