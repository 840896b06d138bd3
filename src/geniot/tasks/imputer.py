"""GapImputer: fill the NaN gaps of a series of any length with a generator's imputations."""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import CapabilityError, DataError
from geniot.core.task import BaseTask
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows
from geniot.tasks._series import (
    check_long_enough,
    check_no_empty_channel,
    fitted_generator,
    model_channels,
    series_values,
)
from geniot.tasks.stitching import covering_starts, pool_draws, position_weights


class GapImputer(BaseTask):
    """Fills gaps (NaN) in a series, point gaps and long outages alike, keeping every observed
    value bit for bit.

    Parameters
    ----------
    generator:
        A generator that can impute (``generator.can_impute``): natively (diffusion, Gaussian
        baseline) or by an approximate method (the VAE's pseudo-Gibbs chains). ``fit`` clones
        and fits it; with ``prefit=True`` it is used as given, and ``transform`` works without
        ``fit`` (as scikit-learn's ``prefit`` meta-estimators do).
    window:
        Steps per window when ``fit`` is given a series (a fitted generator brings its own).
    stride:
        Steps between the windows that cover a long series; ``None`` = half a window, so every
        step is seen from two positions. Draws of overlapping windows are pooled per step with
        a triangular weight (see ``geniot.tasks.stitching``).
    n_draws:
        Imputation draws per window. With more than one, ``transform(..., return_interval=True)``
        gives a prediction interval per filled value.
    interval:
        Coverage of that interval (0.9 = 5th to 95th pooled percentile).
    point:
        ``"median"`` of the pooled draws (the default; it minimises absolute error) or
        ``"mean"``; for ``"mean"`` a generator with a closed-form ``conditional_mean`` (the
        Gaussian baseline) gives the exact conditional expectation instead of an average of draws.
    random_state:
        Seed of the draws.
    """

    def __init__(
        self,
        *,
        generator: BaseGenerator | None = None,
        window: int = 24,
        stride: int | None = None,
        n_draws: int = 1,
        interval: float = 0.9,
        point: str = "median",
        prefit: bool = False,
        random_state: int | None = 0,
    ) -> None:
        self.generator = generator
        self.window = window
        self.stride = stride
        self.n_draws = n_draws
        self.interval = interval
        self.point = point
        self.prefit = prefit
        self.random_state = random_state

    # ------------------------------------------------------------ fit
    def fit(self, X=None, *, progress=None) -> GapImputer:
        """Fit a clone of the generator on windows (n, t, c) or on a series (n_steps, c); with
        ``prefit=True`` take the fitted generator as it is (``X`` is not needed)."""
        self.validate()
        if self.prefit:
            self.generator_ = self.generator
            return self
        if X is None:
            raise DataError("GapImputer.fit needs windows or a series to fit on (or prefit=True)")
        windows = X if (isinstance(X, np.ndarray) and X.ndim == 3) else make_windows(X, self.window)
        self.generator_ = self.generator.clone().fit(windows, progress=progress)
        return self

    def _validate(self) -> None:
        self._check_generator(self.generator)
        if self.point not in ("median", "mean"):
            raise DataError(f"point must be 'median' or 'mean', got {self.point!r}")

    def fitted_generator(self) -> BaseGenerator:
        """The generator ``transform`` uses: the fitted one, or the given one with ``prefit=True``."""
        gen = getattr(self, "generator_", None)
        if gen is None and self.prefit:
            self.validate()
            gen = self.generator
        return fitted_generator(gen, "GapImputer")

    @staticmethod
    def _check_generator(generator: BaseGenerator) -> None:
        if not isinstance(generator, BaseGenerator):
            raise TypeError(f"generator must be a geniot generator, got {type(generator).__name__}")
        if not generator.can_impute:
            raise CapabilityError(
                f"{type(generator).__name__} cannot fill gaps (it has no imputation); use "
                "'diffusion', 'gaussian' or 'vae'"
            )

    # ------------------------------------------------------------ transform
    def transform(self, X, *, return_interval: bool = False):
        """The series with its gaps filled (same type as ``X``).

        With ``return_interval=True``: ``(filled, lower, upper)``; at observed entries all three
        hold the observed value.
        """
        gen = self.fitted_generator()
        values, source = series_values(X, gen.n_channels_, model_channels(gen))
        filled, lower, upper = self._fill(gen, values, source)
        if isinstance(X, SensorSeries):
            filled, lower, upper = (X.with_values(a) for a in (filled, lower, upper))
        return (filled, lower, upper) if return_interval else filled

    def _settings(self, window: int) -> tuple[int, int, float]:
        stride = max(1, window // 2) if self.stride is None else int(self.stride)
        if stride < 1 or stride > window:
            raise DataError(f"stride must be between 1 and the window ({window}), got {self.stride}")
        n_draws = int(self.n_draws)
        if n_draws < 1:
            raise DataError(f"n_draws must be at least 1, got {self.n_draws}")
        if not 0.0 < float(self.interval) < 1.0:
            raise DataError(f"interval must be between 0 and 1, got {self.interval}")
        if self.point not in ("median", "mean"):
            raise DataError(f"point must be 'median' or 'mean', got {self.point!r}")
        return stride, n_draws, float(self.interval)

    def _fill(self, gen: BaseGenerator, values: np.ndarray, source: str | None):
        window = gen.n_steps_
        stride, n_draws, interval = self._settings(window)
        channels = model_channels(gen)
        check_long_enough(values, window, source)
        missing = np.isnan(values)
        if not missing.any():
            return values.copy(), values.copy(), values.copy()
        check_no_empty_channel(values, channels, source)
        starts = covering_starts(len(values), window, stride)
        # Only windows that hold a gap have anything to say.
        has_gap = np.array([missing[s : s + window].any() for s in starts])
        starts = starts[has_gap]
        windows = np.stack([values[s : s + window] for s in starts])
        mask = ~np.isnan(windows)
        draws = gen.impute(windows, mask, n_draws=n_draws, random_state=self.random_state)
        steps = np.flatnonzero(missing.any(axis=1))
        alpha = (1.0 - interval) / 2.0
        q = pool_draws(draws, starts, steps, (0.5, alpha, 1.0 - alpha))
        if self.point == "mean":
            per_window = self._window_means(gen, windows, mask, draws)
            point = _weighted_mean(per_window, starts, steps, window)
        else:
            point = q[0]
        filled, lower, upper = values.copy(), values.copy(), values.copy()
        gaps = missing[steps]
        for out, est in ((filled, point), (lower, q[1]), (upper, q[2])):
            block = out[steps]
            block[gaps] = est[gaps]
            out[steps] = block
        return filled, lower, upper

    @staticmethod
    def _window_means(gen, windows, mask, draws) -> np.ndarray:
        exact = getattr(gen, "conditional_mean", None)
        if callable(exact):
            return exact(windows, mask)
        return draws.mean(axis=0)


def _weighted_mean(per_window: np.ndarray, starts: np.ndarray, steps: np.ndarray, window: int) -> np.ndarray:
    """Triangular-weighted mean per step of the windows' estimates (n_windows, window, c)."""
    weights = position_weights(window)
    index = {int(s): k for k, s in enumerate(steps)}
    total = np.zeros((len(steps), per_window.shape[2]))
    wsum = np.zeros(len(steps))
    for i, s in enumerate(starts):
        for p in range(window):
            k = index.get(int(s) + p)
            if k is not None:
                total[k] += weights[p] * per_window[i, p]
                wsum[k] += weights[p]
    with np.errstate(invalid="ignore", divide="ignore"):
        return total / wsum[:, None]
