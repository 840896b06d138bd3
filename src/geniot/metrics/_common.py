"""Shared helpers of the metric functions: input checks, scaling, seeds."""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError
from geniot.core.validation import check_random_state, check_windows

__all__ = ["check_pair", "minmax_scale_pair", "minmax_params", "apply_minmax", "torch_seed"]


def check_pair(real, synth, *, real_name: str = "real", synth_name: str = "synth"):
    """Both arrays as float64 windows without NaN, with the same steps and channels."""
    r = check_windows(real, name=real_name, allow_nan=False)
    s = check_windows(synth, name=synth_name, allow_nan=False)
    if r.shape[1:] != s.shape[1:]:
        raise DataError(
            f"{real_name} windows are shaped (n, {r.shape[1]}, {r.shape[2]}) but {synth_name} "
            f"windows are (n, {s.shape[1]}, {s.shape[2]}): steps and channels must match"
        )
    return r, s


def minmax_params(real) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel minimum and range of ``real`` (a constant channel gets range 1)."""
    r = check_windows(real, name="real")
    flat = r.reshape(-1, r.shape[2])
    if np.isnan(flat).all(axis=0).any():
        raise DataError("real holds a channel that is entirely NaN; it cannot be scaled")
    lo = np.nanmin(flat, axis=0)
    span = np.nanmax(flat, axis=0) - lo
    span = np.where(span > 0, span, 1.0)
    return lo, span


def apply_minmax(X, lo: np.ndarray, span: np.ndarray, *, name: str = "X") -> np.ndarray:
    """``(X - lo) / span`` channel-wise."""
    arr = check_windows(X, name=name)
    if arr.shape[2] != lo.shape[0]:
        raise DataError(
            f"{name} has {arr.shape[2]} channels, the scale was fitted on {lo.shape[0]}"
        )
    return (arr - lo) / span


def minmax_scale_pair(real, synth) -> tuple[np.ndarray, np.ndarray]:
    """Scale real and synthetic windows with **real's** per-channel min/max.

    Real lands in [0, 1]; synthetic values may fall outside where the generator overshoots,
    which is what the metrics should see. A constant real channel is shifted, not stretched.
    """
    lo, span = minmax_params(real)
    return apply_minmax(real, lo, span, name="real"), apply_minmax(synth, lo, span, name="synth")


def torch_seed(rng: np.random.Generator) -> int:
    """A seed for a local ``torch.Generator`` or a forked global torch RNG."""
    return int(rng.integers(0, 2**62))


def as_rng(random_state) -> np.random.Generator:
    return check_random_state(random_state)
