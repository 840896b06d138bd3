"""Gaussian conditioning and log-densities, shared by fit, impute and score."""

from __future__ import annotations

import numpy as np
from scipy import linalg

_LOG_2PI = float(np.log(2.0 * np.pi))


def robust_cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding diagonal jitter if rounding made ``cov`` indefinite."""
    jitter = 0.0
    scale = float(np.mean(np.diag(cov))) or 1.0
    for _ in range(8):
        try:
            return linalg.cholesky(cov + jitter * np.eye(len(cov)), lower=True)
        except linalg.LinAlgError:
            jitter = scale * 1e-10 if jitter == 0.0 else jitter * 10.0
    raise linalg.LinAlgError("covariance is not positive definite even with jitter")


def condition(mean: np.ndarray, cov: np.ndarray, obs: np.ndarray, x_obs: np.ndarray):
    """Mean (n, m) and covariance (m, m) of the unobserved dims given observed values.

    ``obs`` is a bool vector over dims; ``x_obs`` holds the observed values (n, o).
    """
    mis = ~obs
    if not obs.any():
        return np.broadcast_to(mean[mis], (len(x_obs), int(mis.sum()))).copy(), cov[np.ix_(mis, mis)]
    s_oo = cov[np.ix_(obs, obs)]
    s_mo = cov[np.ix_(mis, obs)]
    factor = linalg.cho_factor(s_oo, lower=True)
    gain = linalg.cho_solve(factor, s_mo.T).T  # S_mo S_oo^-1
    cond_mean = mean[mis] + (x_obs - mean[obs]) @ gain.T
    cond_cov = cov[np.ix_(mis, mis)] - gain @ s_mo.T
    return cond_mean, 0.5 * (cond_cov + cond_cov.T)


def log_density(mean: np.ndarray, cov: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Multivariate normal log-density of each row of ``x`` (n, d)."""
    chol = robust_cholesky(cov)
    diff = linalg.solve_triangular(chol, (x - mean).T, lower=True)
    maha = np.sum(diff**2, axis=0)
    logdet = 2.0 * np.sum(np.log(np.diag(chol)))
    return -0.5 * (maha + logdet + x.shape[1] * _LOG_2PI)


def group_by_pattern(mask_flat: np.ndarray):
    """Yield (pattern, row indices) for each distinct observation pattern."""
    if len(mask_flat) == 0:
        return
    if (mask_flat == mask_flat[0]).all():  # one pattern (e.g. a single live window): skip the sort
        yield mask_flat[0], np.arange(len(mask_flat))
        return
    patterns, inverse = np.unique(mask_flat, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    for k, pattern in enumerate(patterns):
        yield pattern, np.flatnonzero(inverse == k)
