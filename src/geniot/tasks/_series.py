"""What tasks accept as a series: a ``SensorSeries`` or a (n_steps, n_channels) array."""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError, NotFittedError
from geniot.data.series import SensorSeries


def series_values(data, n_channels: int, channels: list[str] | None = None) -> tuple[np.ndarray, str | None]:
    """The float (n_steps, n_channels) values of ``data`` and its source file (for errors).

    A ``SensorSeries`` whose channels differ from ``channels`` (the model's training channels)
    is rejected by name; an array is checked by its channel count only.
    """
    source = None
    if isinstance(data, SensorSeries):
        source = data.source
        if channels is not None and list(data.channels) != list(channels):
            missing = [c for c in channels if c not in data.channels]
            extra = [c for c in data.channels if c not in channels]
            detail = []
            if missing:
                detail.append(f"missing {missing}")
            if extra:
                detail.append(f"unexpected {extra}")
            if not detail:
                detail.append(f"order {list(data.channels)}")
            raise DataError(
                f"the data's channels do not match the model's {list(channels)}: " + ", ".join(detail),
                file=source,
            )
        values = data.values
    else:
        values = np.asarray(data, dtype=np.float64)
    if values.ndim != 2:
        raise DataError(f"a series must be shaped (n_steps, n_channels), got {values.shape}", file=source)
    if values.shape[1] != n_channels:
        raise DataError(
            f"the model was fitted on {n_channels} channels, the data has {values.shape[1]}", file=source
        )
    if np.isinf(values).any():
        row, col = (int(i) for i in np.argwhere(np.isinf(values))[0])
        raise DataError("infinite value", file=source, column=_name(channels, col), row=row + 1)
    return np.asarray(values, dtype=np.float64), source


def check_long_enough(values: np.ndarray, window: int, source: str | None) -> None:
    if values.shape[0] < window:
        raise DataError(
            f"the series has {values.shape[0]} steps, fewer than the model's window of {window}",
            file=source,
        )


def check_no_empty_channel(values: np.ndarray, channels: list[str] | None, source: str | None) -> None:
    empty = np.flatnonzero(np.isnan(values).all(axis=0))
    if empty.size:
        names = [_name(channels, int(j)) for j in empty]
        raise DataError(
            f"channel(s) {names} have no observed value in the whole series: nothing to condition on",
            file=source,
            column=names[0],
        )


def fitted_generator(generator: BaseGenerator | None, owner: str) -> BaseGenerator:
    if generator is None:
        raise NotFittedError(f"{owner} is not fitted yet; call fit first (or pass prefit=True)")
    return generator


def model_channels(generator: BaseGenerator) -> list[str] | None:
    """The channel names the generator was fitted with (None for bare arrays)."""
    names = getattr(generator, "channel_names_", None)
    return list(names) if names else None


def _name(channels: list[str] | None, j: int) -> str:
    return channels[j] if channels and j < len(channels) else f"channel {j}"
