"""Checks on arrays that cross the public API (windows, masks, conditions)."""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError


def check_windows(X, *, name: str = "X", allow_nan: bool = True) -> np.ndarray:
    """Return ``X`` as a float64 array of shape (n_windows, n_steps, n_channels).

    NaN marks a gap and is allowed unless ``allow_nan`` is False; +/-inf never is.
    """
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 3:
        raise DataError(
            f"{name} must be windows shaped (n_windows, n_steps, n_channels), got shape {arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0 or arr.shape[2] == 0:
        raise DataError(f"{name} is empty (shape {arr.shape})")
    if np.isinf(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isinf(arr))[0])
        raise DataError(f"{name} holds an infinite value at window {idx[0]}, step {idx[1]}, channel {idx[2]}")
    if not allow_nan and np.isnan(arr).any():
        idx = tuple(int(i) for i in np.argwhere(np.isnan(arr))[0])
        raise DataError(f"{name} holds NaN at window {idx[0]}, step {idx[1]}, channel {idx[2]}")
    return arr


def check_mask(mask, X: np.ndarray, *, name: str = "mask") -> np.ndarray:
    """Return a bool mask shaped like ``X`` (True = observed).

    ``None`` means "observed wherever X is not NaN". A mask that calls a NaN observed is an error.
    """
    if mask is None:
        return ~np.isnan(X)
    m = np.asarray(mask)
    if m.dtype != bool:
        raise DataError(f"{name} must be a boolean array (True = observed), got dtype {m.dtype}")
    if m.shape != X.shape:
        raise DataError(f"{name} shape {m.shape} does not match the data shape {X.shape}")
    bad = m & np.isnan(X)
    if bad.any():
        idx = tuple(int(i) for i in np.argwhere(bad)[0])
        raise DataError(
            f"{name} marks a NaN as observed at window {idx[0]}, step {idx[1]}, channel {idx[2]}"
        )
    return m


def check_conditions(conditions, n_windows: int, *, n_conditions: int | None = None) -> np.ndarray:
    """Return conditions as float64 (n_windows, n_conditions); 1-D input is one condition column."""
    c = np.asarray(conditions, dtype=np.float64)
    if c.ndim == 1:
        c = c[:, None]
    if c.ndim != 2:
        raise DataError(f"conditions must be shaped (n_windows, n_conditions), got shape {c.shape}")
    if c.shape[0] != n_windows:
        raise DataError(f"conditions have {c.shape[0]} rows but there are {n_windows} windows")
    if not np.isfinite(c).all():
        raise DataError("conditions must be finite (no NaN or inf)")
    if n_conditions is not None and c.shape[1] != n_conditions:
        raise DataError(
            f"the model was fitted with {n_conditions} condition columns, got {c.shape[1]}"
        )
    return c


def check_random_state(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int seed or an existing Generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    return np.random.default_rng(random_state)
