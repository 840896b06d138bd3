"""Cover a long series with overlapping windows and pool what they say about each step.

A series longer than the model's window is cut into windows every ``stride`` steps (plus one
window flush with the end, so the tail is covered). Each window's draws are pooled per step
with a triangular weight, highest in the middle of the window where the model sees context on
both sides, so a step's estimate leans on the windows that see most around it. Pooled weighted
quantiles give one value and one interval per step, consistent wherever windows overlap.
"""

from __future__ import annotations

import numpy as np

from geniot.data.windows import window_starts


def covering_starts(n_steps: int, window: int, stride: int) -> np.ndarray:
    """Window starts every ``stride`` steps, plus the last full window if the stride misses it."""
    starts = window_starts(n_steps, window, stride)
    if starts[-1] != n_steps - window:
        starts = np.append(starts, n_steps - window)
    return starts


def position_weights(window: int) -> np.ndarray:
    """Triangular weight of each position in a window: 1 at the edges, ~window/2 in the middle."""
    pos = np.arange(window)
    return np.minimum(pos + 1, window - pos).astype(np.float64)


def pool_draws(
    draws: np.ndarray, starts: np.ndarray, steps: np.ndarray, quantiles: tuple[float, ...]
) -> np.ndarray:
    """Weighted quantiles, at each of ``steps`` (sorted), of the windows' draws covering it.

    ``draws`` is (n_draws, n_windows, window, n_channels) for windows at ``starts``. Returns
    (len(quantiles), len(steps), n_channels); a step no window covers is NaN.
    """
    n_draws, _, window, n_channels = draws.shape
    weights = position_weights(window)
    # Which windows cover each wanted step, at which position.
    hits = []  # (row in steps, window index, position)
    for i, s in enumerate(starts):
        lo, hi = np.searchsorted(steps, [s, s + window])
        if hi > lo:
            rows = np.arange(lo, hi)
            hits.append((rows, np.full(rows.size, i), steps[lo:hi] - s))
    out_shape = (len(quantiles), len(steps), n_channels)
    if not hits:
        return np.full(out_shape, np.nan)
    rows = np.concatenate([h[0] for h in hits])
    wins = np.concatenate([h[1] for h in hits])
    pos = np.concatenate([h[2] for h in hits])
    # Slot of each hit among the hits of its row.
    order = np.argsort(rows, kind="stable")
    rows, wins, pos = rows[order], wins[order], pos[order]
    first = np.searchsorted(rows, rows)
    slot = np.arange(rows.size) - first
    n_slots = int(slot.max()) + 1
    values = np.full((len(steps), n_slots * n_draws, n_channels), np.nan)
    wts = np.zeros((len(steps), n_slots * n_draws))
    for d in range(n_draws):
        values[rows, slot * n_draws + d] = draws[d, wins, pos]
        wts[rows, slot * n_draws + d] = weights[pos]
    return weighted_quantiles(values, wts, quantiles)


def weighted_quantiles(values: np.ndarray, weights: np.ndarray, quantiles: tuple[float, ...]) -> np.ndarray:
    """Quantiles of (n, k, c) ``values`` along k with (n, k) ``weights`` (0 = empty slot).

    Hazen plotting positions: a sample's cumulative weight is taken at its middle, so equal
    weights reproduce the ordinary median and a single sample gives itself for every quantile.
    """
    n, k, c = values.shape
    out = np.full((len(quantiles), n, c), np.nan)
    w = np.broadcast_to(weights[:, :, None], values.shape)
    v = np.where(w > 0, values, np.inf)  # empty slots sort last
    order = np.argsort(v, axis=1, kind="stable")
    v_sorted = np.take_along_axis(v, order, axis=1)
    w_sorted = np.take_along_axis(w, order, axis=1)
    total = w_sorted.sum(axis=1, keepdims=True)
    ok = total[:, 0, :] > 0
    with np.errstate(invalid="ignore", divide="ignore"):
        pos = (np.cumsum(w_sorted, axis=1) - 0.5 * w_sorted) / total
    pos = np.where(w_sorted > 0, pos, np.inf)
    count = (w_sorted > 0).sum(axis=1)  # (n, c)
    rows, cols = np.nonzero(ok)
    for qi, q in enumerate(quantiles):
        # First sample whose position reaches q; interpolate from the one before.
        hi = (pos < q).sum(axis=1)  # (n, c)
        hi = np.minimum(hi, count - 1)
        lo = np.maximum(hi - 1, 0)
        v_hi = np.take_along_axis(v_sorted, hi[:, None, :], axis=1)[:, 0]
        v_lo = np.take_along_axis(v_sorted, lo[:, None, :], axis=1)[:, 0]
        p_hi = np.take_along_axis(pos, hi[:, None, :], axis=1)[:, 0]
        p_lo = np.take_along_axis(pos, lo[:, None, :], axis=1)[:, 0]
        with np.errstate(invalid="ignore", divide="ignore"):
            frac = np.where(p_hi > p_lo, (q - p_lo) / (p_hi - p_lo), 1.0)
        frac = np.clip(np.where(q <= p_lo, 0.0, frac), 0.0, 1.0)
        res = v_lo + frac * (v_hi - v_lo)
        res = np.where(v_hi == v_lo, v_hi, res)  # exact when the neighbours agree
        out[qi, rows, cols] = res[rows, cols]
    return out
