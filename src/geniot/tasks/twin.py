"""Forecast and what-if from one generator: a forecast is a gap at the end of a window; a
what-if is sampling with changed conditions (operating settings or controls)."""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import CapabilityError, DataError
from geniot.data.windows import make_windows
from geniot.tasks._series import check_no_empty_channel, model_channels, series_values


def _bands(draws: np.ndarray, interval: float) -> dict[str, np.ndarray]:
    a = (1.0 - interval) / 2.0
    return {
        "median": np.nanmedian(draws, axis=0),
        "lower": np.nanquantile(draws, a, axis=0),
        "upper": np.nanquantile(draws, 1.0 - a, axis=0),
    }


class Forecaster:
    """The next ``horizon`` steps after a series, as draws of the generator's imputation of the
    end of a window whose start holds the last observed steps."""

    def __init__(self, generator: BaseGenerator, *, horizon: int, n_draws: int = 50, interval: float = 0.9,
                 random_state: int | None = 0) -> None:  # fmt: skip
        if not generator.can_impute:
            raise CapabilityError(f"{type(generator).__name__} cannot impute, so it cannot forecast; use 'gaussian', 'diffusion' or 'vae'")
        self.generator = generator
        self.horizon = horizon
        self.n_draws = n_draws
        self.interval = interval
        self.random_state = random_state

    def forecast(self, series) -> dict[str, np.ndarray]:
        """``{"median", "lower", "upper"}``, each (horizon, n_channels), plus ``"draws"``."""
        gen = self.generator
        values, source = series_values(series, gen.n_channels_, model_channels(gen))
        horizon = int(self.horizon)
        context = gen.n_steps_ - horizon
        if horizon < 1 or context < 1:
            raise DataError(f"horizon must be between 1 and {gen.n_steps_ - 1} (the model's window minus one), got {horizon}")
        if len(values) < context:
            raise DataError(f"the series has {len(values)} steps; the forecast needs the last {context}", file=source)
        past = values[-context:]
        check_no_empty_channel(past, model_channels(gen), source)
        window = np.concatenate([past, np.full((horizon, values.shape[1]), np.nan)])[None]
        draws = gen.impute(window, ~np.isnan(window), n_draws=int(self.n_draws), random_state=self.random_state)[:, 0, context:]
        return {**_bands(draws, float(self.interval)), "draws": draws}


class WhatIf:
    """Windows of a machine under chosen values of a control (or setting), sampled from a
    conditional generator fitted on (window, condition) pairs.

    ``fit(series, control=...)`` uses the window mean of one of the series' own channels as the
    condition (e.g. a pump's speed); ``fit_windows`` takes any conditions.
    """

    def __init__(self, generator: BaseGenerator, *, window: int = 24, stride: int = 1, n_samples: int = 200,
                 interval: float = 0.9, random_state: int | None = 0) -> None:  # fmt: skip
        if not generator.tags.conditional:
            raise CapabilityError(f"{type(generator).__name__} cannot condition on settings; use 'gaussian', 'diffusion', 'vae' or 'gan'")
        self.generator = generator
        self.window = window
        self.stride = stride
        self.n_samples = n_samples
        self.interval = interval
        self.random_state = random_state

    def fit(self, series, *, control: str, progress=None) -> WhatIf:
        channels = list(series.channels)
        if control not in channels:
            raise DataError(f"control {control!r} is not a channel; channels: {channels}", file=series.source)
        windows = make_windows(series, int(self.window), int(self.stride))
        windows = windows[~np.isnan(windows).any(axis=(1, 2))]
        if len(windows) < 2:
            raise DataError("fewer than two complete windows to learn from", file=series.source)
        cond = windows[:, :, channels.index(control)].mean(axis=1, keepdims=True)
        self.control_ = control
        self.channels_ = channels
        self.control_range_ = (float(cond.min()), float(cond.max()))
        return self.fit_windows(windows, cond, progress=progress)

    def fit_windows(self, windows: np.ndarray, conditions: np.ndarray, progress=None) -> WhatIf:
        self.generator_ = self.generator.clone().fit(windows, conditions=conditions, progress=progress)
        return self

    def simulate(self, value: float | np.ndarray) -> dict[str, np.ndarray]:
        """Sampled windows at the chosen condition: ``{"median", "lower", "upper"}`` (window, c)
        and ``"draws"``; a value outside the training range is refused (no extrapolation)."""
        cond = np.atleast_1d(np.asarray(value, dtype=np.float64))
        lo, hi = getattr(self, "control_range_", (-np.inf, np.inf))
        if cond.size == 1 and not lo <= float(cond[0]) <= hi:
            raise DataError(f"{getattr(self, 'control_', 'condition')} = {float(cond[0]):g} is outside what the model saw ({lo:g} .. {hi:g})")
        conditions = np.repeat(cond[None], int(self.n_samples), axis=0)
        draws = self.generator_.sample(int(self.n_samples), conditions=conditions, random_state=self.random_state)
        return {**_bands(draws, float(self.interval)), "draws": draws}
