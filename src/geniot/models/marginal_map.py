"""Per-channel monotone quantile maps from a model's raw samples to the training values.

A deep generator trained for minutes draws some channels too narrow or shifted; mapping each
channel's sampled values through quantiles (raw samples -> training values) fixes every
channel's distribution and keeps the ranks, so timing and the order across channels stay the
model's. Used by the VAE and the diffusion model for window sampling only.
"""

from __future__ import annotations

import numpy as np

LEVELS = 1001  # quantile levels of a map


def fit_marginal_map(raw: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(2, levels, c): quantiles of raw samples (row 0) and of the training ``values`` (row 1),
    both (n, steps, c), NaN where a training value is missing; a channel never observed keeps
    its raw samples (identity map)."""
    levels = np.linspace(0.0, 1.0, LEVELS)
    synth_q = np.quantile(raw, levels, axis=(0, 1))
    with np.errstate(all="ignore"):
        train_q = np.nanquantile(values, levels, axis=(0, 1))
    unseen = ~np.isfinite(train_q).all(axis=0)
    train_q[:, unseen] = synth_q[:, unseen]
    return np.stack([synth_q, train_q])


def apply_marginal_map(samples: np.ndarray, qmap: np.ndarray | None) -> np.ndarray:
    """``samples`` (n, steps, c) mapped channel by channel, in place; unchanged without a map."""
    if qmap is not None:
        for c in range(samples.shape[2]):
            samples[..., c] = np.interp(samples[..., c], qmap[0, :, c], qmap[1, :, c])
    return samples
