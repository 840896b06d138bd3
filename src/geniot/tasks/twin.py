"""Forecast and what-if from one generator: a forecast is a gap at the end of a window; a
what-if is sampling with changed conditions (operating settings or controls)."""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import CapabilityError, DataError, NotFittedError
from geniot.core.task import BaseTask
from geniot.data.windows import make_windows
from geniot.tasks._series import check_no_empty_channel, model_channels, series_values


def _bands(draws: np.ndarray, interval: float) -> dict[str, np.ndarray]:
    a = (1.0 - interval) / 2.0
    return {
        "median": np.nanmedian(draws, axis=0),
        "lower": np.nanquantile(draws, a, axis=0),
        "upper": np.nanquantile(draws, 1.0 - a, axis=0),
    }


class Forecaster(BaseTask):
    """The next ``horizon`` steps after a series, as draws of the generator's imputation of the
    end of a window whose start holds the last observed steps.

    With ``prefit=True`` (the default) the generator is fitted already and ``forecast`` works
    without ``fit``; otherwise ``fit(series)`` fits a clone on windows of ``window`` steps.
    """

    def __init__(self, *, generator: BaseGenerator | None = None, horizon: int = 12, n_draws: int = 50,
                 interval: float = 0.9, window: int = 24, prefit: bool = True,
                 random_state: int | None = 0) -> None:  # fmt: skip
        self.generator = generator
        self.horizon = horizon
        self.n_draws = n_draws
        self.interval = interval
        self.window = window
        self.prefit = prefit
        self.random_state = random_state

    def _validate(self) -> None:
        generator = self.generator
        if not isinstance(generator, BaseGenerator):
            raise TypeError(f"generator must be a geniot generator, got {type(generator).__name__}")
        if not generator.can_impute:
            raise CapabilityError(f"{type(generator).__name__} cannot impute, so it cannot forecast; use 'gaussian', 'diffusion' or 'vae'")
        if not 0.0 < float(self.interval) < 1.0:
            raise DataError(f"interval must be between 0 and 1, got {self.interval}")

    def fit(self, X=None, *, progress=None) -> Forecaster:
        """Take the fitted generator (``prefit=True``) or fit a clone on the series ``X``."""
        self.validate()
        if self.prefit:
            self.generator_ = self.generator
            return self
        if X is None:
            raise DataError("Forecaster.fit needs a series to fit on (or prefit=True)")
        channels = list(X.channels) if hasattr(X, "channels") else None
        self.generator_ = self.generator.clone().fit(make_windows(X, int(self.window)), progress=progress, channels=channels)
        return self

    def forecast(self, series) -> dict[str, np.ndarray]:
        """``{"median", "lower", "upper"}``, each (horizon, n_channels), plus ``"draws"``."""
        gen = getattr(self, "generator_", None)
        if gen is None:
            if not self.prefit:
                raise NotFittedError("Forecaster is not fitted yet; call fit first (or pass prefit=True)")
            self.validate()
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


# Signals set by the surroundings, not by the machine: held as given, never moved as outcomes.
EXOGENOUS_HINTS = ("ambient", "outdoor", "outside", "weather", "environment")


def exogenous_channels(channels: list[str], declared: list[str] | None = None, *, control: str | None = None) -> list[str]:
    """The exogenous channels: those ``declared`` (checked by name), or with ``None`` those whose
    name says so (``EXOGENOUS_HINTS``); never the control itself."""
    if declared is not None:
        unknown = [c for c in declared if c not in channels]
        if unknown:
            raise DataError(f"exogenous signal(s) {unknown} are not channels; channels: {channels}")
        if control is not None and control in declared:
            raise DataError(f"{control!r} is the control of the what-if; it cannot also be held as exogenous")
        return list(declared)
    return [c for c in channels if c != control and any(h in c.lower() for h in EXOGENOUS_HINTS)]


class WhatIf(BaseTask):
    """Windows of a machine under chosen values of a control (or setting), sampled from a
    conditional generator fitted on (window, condition) pairs.

    ``fit(series, control=...)`` uses the window mean of one of the series' own channels as the
    condition (e.g. a pump's speed); ``fit_windows`` takes any conditions.

    ``exogenous``: signals set by the surroundings (ambient temperature is set by the weather,
    not by the pump). ``None`` finds them by name (``EXOGENOUS_HINTS``), ``[]`` declares none.
    They are held as given: each simulated window takes them from a window of the history
    drawn at random (the same draws in every scenario), and the generator fills the machine's
    signals given them and the control (conditional imputation). So raising the speed cannot
    move the weather through a correlation in the history. Needs a generator that can impute.
    """

    def __init__(self, *, generator: BaseGenerator | None = None, window: int = 24, stride: int = 1,
                 n_samples: int = 200, interval: float = 0.9, exogenous: list[str] | None = None,
                 random_state: int | None = 0) -> None:  # fmt: skip
        self.generator = generator
        self.exogenous = exogenous
        self.window = window
        self.stride = stride
        self.n_samples = n_samples
        self.interval = interval
        self.random_state = random_state

    def _validate(self) -> None:
        generator = self.generator
        if not isinstance(generator, BaseGenerator):
            raise TypeError(f"generator must be a geniot generator, got {type(generator).__name__}")
        if not generator.tags.conditional:
            raise CapabilityError(f"{type(generator).__name__} cannot condition on settings; use 'gaussian', 'diffusion', 'vae' or 'gan'")
        if not 0.0 < float(self.interval) < 1.0:
            raise DataError(f"interval must be between 0 and 1, got {self.interval}")

    def fit(self, series, *, control: str, progress=None) -> WhatIf:
        self.validate()
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
        self.exogenous_ = exogenous_channels(channels, self.exogenous, control=control)
        if self.exogenous_ and not self.generator.can_impute:
            raise CapabilityError(
                f"{type(self.generator).__name__} cannot hold the exogenous signal(s) {self.exogenous_} as given "
                "(it cannot impute); use 'gaussian', 'diffusion' or 'vae', or declare exogenous=[] to let them move"
            )
        self.exogenous_windows_ = windows[:, :, [channels.index(c) for c in self.exogenous_]]
        return self.fit_windows(windows, cond, progress=progress, channels=channels)

    def fit_windows(self, windows: np.ndarray, conditions: np.ndarray, progress=None, channels=None) -> WhatIf:
        """Fit a clone of the generator on windows (n, t, c) with their conditions (n, k)."""
        self.validate()
        self.generator_ = self.generator.clone().fit(windows, conditions=conditions, progress=progress, channels=channels)
        return self

    def simulate(self, value: float | np.ndarray) -> dict[str, np.ndarray]:
        """Sampled windows at the chosen condition: ``{"median", "lower", "upper"}`` (window, c)
        and ``"draws"``; a value outside the training range is refused (no extrapolation)."""
        cond = np.atleast_1d(np.asarray(value, dtype=np.float64))
        lo, hi = getattr(self, "control_range_", (-np.inf, np.inf))
        if cond.size == 1 and not lo <= float(cond[0]) <= hi:
            raise DataError(f"{getattr(self, 'control_', 'condition')} = {float(cond[0]):g} is outside what the model saw ({lo:g} .. {hi:g})")
        conditions = np.repeat(cond[None], int(self.n_samples), axis=0)
        self._check_is_fitted("generator_")
        if getattr(self, "exogenous_", None):
            draws = self._with_exogenous_given(conditions)
        else:
            draws = self.generator_.sample(int(self.n_samples), conditions=conditions, random_state=self.random_state)
        return {**_bands(draws, float(self.interval)), "draws": draws}

    def _with_exogenous_given(self, conditions: np.ndarray) -> np.ndarray:
        """Windows whose exogenous signals come from the history (drawn by ``random_state``, so
        every scenario gets the same ones) and whose other signals are imputed given them."""
        gen = self.generator_
        n = int(self.n_samples)
        rng = np.random.default_rng(self.random_state)
        given = self.exogenous_windows_[rng.integers(len(self.exogenous_windows_), size=n)]
        X = np.full((n, gen.n_steps_, gen.n_channels_), np.nan)
        X[:, :, [self.channels_.index(c) for c in self.exogenous_]] = given
        return gen.impute(X, ~np.isnan(X), n_draws=1, random_state=self.random_state, conditions=conditions)[0]
