"""Per-channel scalers for channel-last arrays ``(..., n_channels)`` that ignore NaN gaps.

Models fit on scaled data and report in the data's own units, so every scaler is an exact
affine map ``y = (x - offset_) / scale_`` per channel with an inverse, and its fitted state is
plain JSON (``to_dict``/``from_dict``) to be saved next to a model without pickling.
A constant channel gets ``scale_ = 1`` instead of dividing by zero.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from geniot.core.exceptions import DataError, NotFittedError


class _ChannelScaler:
    """Shared machinery; subclasses compute ``offset_`` and ``scale_`` in ``_fit_stats``."""

    _STATE: ClassVar[tuple[str, ...]] = ("offset_", "scale_")

    def fit(self, X) -> _ChannelScaler:
        arr = self._check(X)
        empty = np.isnan(arr).all(axis=0)
        if empty.any():
            raise DataError(
                f"channel {int(np.argmax(empty))} has no observed values (all NaN); "
                "a scaler cannot be fitted on it"
            )
        self._fit_stats(arr)
        self.n_channels_ = arr.shape[1]
        return self

    def transform(self, X) -> np.ndarray:
        arr = self._check_fitted(X)
        return (arr - self.offset_) / self.scale_

    def inverse_transform(self, X) -> np.ndarray:
        arr = self._check_fitted(X)
        return arr * self.scale_ + self.offset_

    def fit_transform(self, X) -> np.ndarray:
        return self.fit(X).transform(X)

    def to_dict(self) -> dict[str, Any]:
        """JSON-able ``{"name", "params", "state"}``."""
        self._require_fitted()
        state = {k: np.asarray(getattr(self, k)).tolist() for k in self._STATE}
        return {"name": type(self).__name__, "params": self._params(), "state": state}

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        if data.get("name") != cls.__name__:
            raise DataError(f"expected a saved {cls.__name__}, got {data.get('name')!r}")
        scaler = cls(**data["params"])
        for key in cls._STATE:
            setattr(scaler, key, np.asarray(data["state"][key], dtype=np.float64))
        scaler.n_channels_ = int(scaler.offset_.shape[0])
        return scaler

    # -------------------------------------------------------------------------------- helpers
    def _params(self) -> dict[str, Any]:
        return {}

    def _fit_stats(self, flat: np.ndarray) -> None:
        raise NotImplementedError

    @staticmethod
    def _check(X) -> np.ndarray:
        """X as float64 (n_values, n_channels): all leading axes flattened."""
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim < 1 or arr.size == 0:
            raise DataError(f"expected a non-empty (..., n_channels) array, got shape {arr.shape}")
        if np.isinf(arr).any():
            raise DataError("the data holds infinite values")
        return arr.reshape(-1, arr.shape[-1])

    def _require_fitted(self) -> None:
        if not hasattr(self, "n_channels_"):
            raise NotFittedError(f"{type(self).__name__} is not fitted; call fit first")

    def _check_fitted(self, X) -> np.ndarray:
        self._require_fitted()
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim < 1 or arr.shape[-1] != self.n_channels_:
            raise DataError(
                f"the scaler was fitted on {self.n_channels_} channels, got shape {arr.shape}"
            )
        return arr


def _safe_scale(scale: np.ndarray) -> np.ndarray:
    return np.where(scale > 0, scale, 1.0)


class StandardScaler(_ChannelScaler):
    """Zero mean, unit standard deviation per channel (``offset_`` = mean, ``scale_`` = std)."""

    def _fit_stats(self, flat: np.ndarray) -> None:
        self.offset_ = np.nanmean(flat, axis=0)
        self.scale_ = _safe_scale(np.nanstd(flat, axis=0))

    @property
    def mean_(self) -> np.ndarray:
        return self.offset_


class MinMaxScaler(_ChannelScaler):
    """Maps each channel's observed [min, max] onto ``feature_range`` (default [0, 1])."""

    def __init__(self, *, feature_range: tuple[float, float] = (0.0, 1.0)) -> None:
        self.feature_range = feature_range

    def _params(self) -> dict[str, Any]:
        return {"feature_range": list(self.feature_range)}

    def _fit_stats(self, flat: np.ndarray) -> None:
        low, high = (float(v) for v in self.feature_range)
        if not low < high:
            raise DataError(
                f"feature_range must be (low, high) with low < high, got {self.feature_range}"
            )
        data_min, data_max = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
        self.scale_ = _safe_scale(data_max - data_min) / (high - low)
        self.offset_ = data_min - low * self.scale_
