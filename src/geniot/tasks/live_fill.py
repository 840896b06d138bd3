"""Fill the newest reading's missing signals as readings arrive (the live service's fills).

Live, the future is unknown: a gap in the newest row can be filled by the model from the window
before it (and the other signals of that row), or by holding the signal's last value. Which one
is better depends on the model and the signal, so it is checked once per asset on the stored
history: signals of fully observed windows are hidden at their last step, one signal at a time,
and both ways fill them. Per signal the model is used only where it was ahead of holding by more
than one standard error of the paired differences (a confident wrong fill costs more than a
cautious one), and the band of the chosen way is the split-conformal quantile of its absolute
errors on those held-out values (as in ``tasks.imputer_selection``), widened with the square root
of the steps since the signal was last seen.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.tasks.imputer_selection import conformal_quantile

MODEL, HOLD = "model", "last value"
_MIN_CHECKS = 10  # held-out values a signal needs before the model may be chosen for it


@dataclass(frozen=True)
class SignalFill:
    """How the newest value of one signal is filled, and what the check on the history found."""

    signal: str
    chosen: str
    factor: float  # band half-width one step after the last observed value, in the signal's units
    n_checks: int = 0
    mae_model: float = float("nan")  # on the held-out newest values, in the signal's units
    mae_hold: float = float("nan")
    coverage: float = float("nan")  # share of the held-out values inside the band


class NewestStepFiller:
    """Chooses per signal between the model and holding the last value by held-out newest steps
    of the stored history (``fit``), then fills the last row of live windows (``fill``).

    ``generator`` is used as given (fitted). Without enough history to check, every signal is
    held and its band comes from the history's one-step changes (or stays uncalibrated), and
    ``reason`` says so.
    """

    def __init__(self, generator: BaseGenerator, *, n_draws: int = 8, interval: float = 0.9,
                 n_windows: int = 24, random_state: int | None = 0) -> None:  # fmt: skip
        self.generator = generator
        self.n_draws = n_draws
        self.interval = interval
        self.n_windows = n_windows
        self.random_state = random_state

    # ------------------------------------------------------------ the check
    def fit(self, history: np.ndarray) -> NewestStepFiller:
        """Check both ways on ``history`` (n_steps, n_channels), NaN where a reading is missing."""
        gen = self.generator
        names = list(gen.channel_names_ or [f"channel {j}" for j in range(gen.n_channels_)])
        width = gen.n_steps_
        history = np.asarray(history, dtype=np.float64)
        complete = _complete_window_ends(history, width)
        rng = np.random.default_rng(self.random_state)
        ends = rng.choice(complete, size=min(self.n_windows, len(complete)), replace=False) if len(complete) else complete
        self.fills_ = [self._hold_only(history, names, j) for j in range(len(names))]
        self.checked_ = False
        self.unchecked_ = (f"fewer than {_MIN_CHECKS} complete windows of history to check the model on"
                           if gen.can_impute else f"the model ({type(gen).__name__}) cannot impute")  # fmt: skip
        if not gen.can_impute or len(ends) < _MIN_CHECKS:
            return self
        windows = np.stack([history[e - width + 1 : e + 1] for e in np.sort(ends)])
        c = windows.shape[2]
        batch = np.repeat(windows, c, axis=0)  # window i with signal j hidden: row i * c + j
        hide = np.tile(np.arange(c), len(windows))
        rows = np.arange(len(batch))
        mask = np.ones(batch.shape, dtype=bool)
        mask[rows, -1, hide] = False
        try:
            point = self._model_fill(np.where(mask, batch, np.nan), mask)
        except Exception as exc:  # noqa: BLE001 - holding still fills; the reason says why
            self.unchecked_ = f"the model failed on the check ({type(exc).__name__}: {exc})"
            return self
        self.checked_ = True
        truth = batch[rows, -1, hide]
        e_model = truth - point[rows, -1, hide]
        e_hold = truth - batch[rows, -2, hide]
        self.fills_ = [_choose(names[j], e_model[hide == j], e_hold[hide == j], self.interval) for j in range(c)]
        return self

    def _hold_only(self, history: np.ndarray, names: list[str], j: int) -> SignalFill:
        """Holding, banded by the history's one-step changes of the signal (no model check)."""
        steps = np.diff(history[:, j])
        steps = np.abs(steps[~np.isnan(steps)])
        factor = conformal_quantile(steps, self.interval) if steps.size else float("nan")
        return SignalFill(names[j], HOLD, factor)

    def _model_fill(self, windows: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The median of the model's draws (a few draws' own spread is too noisy for a band)."""
        draws = self.generator.impute(windows, mask, n_draws=self.n_draws, random_state=self.random_state)
        return np.median(draws, axis=0)

    # ------------------------------------------------------------ live
    def fill(self, window: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point, lower and upper for the last row of ``window`` (n_steps, n_channels); entries
        observed in that row are returned as they are."""
        window = np.asarray(window, dtype=np.float64)
        last = window[-1].copy()
        point, lower, upper = last.copy(), last.copy(), last.copy()
        gaps = np.flatnonzero(np.isnan(last))
        model = None
        if any(self.fills_[j].chosen == MODEL for j in gaps):
            mask = ~np.isnan(window)
            model = self._model_fill(np.where(mask, window, np.nan)[None], mask[None])[0, -1]
        for j in gaps:
            seen = np.flatnonzero(~np.isnan(window[:, j]))
            if seen.size == 0:  # nothing of this signal in the window: the gap stays unfilled
                continue
            since = len(window) - 1 - int(seen[-1])
            point[j] = model[j] if self.fills_[j].chosen == MODEL else window[seen[-1], j]
            half = self.fills_[j].factor * np.sqrt(since)  # checked one step out; errors grow with the steps
            lower[j], upper[j] = point[j] - half, point[j] + half
        return point, lower, upper

    @property
    def reason(self) -> str:
        if not self.checked_:
            return (f"newest-reading gaps: {self.unchecked_}; every signal holds its last value, band from the "
                    "history's one-step changes")  # fmt: skip
        parts = []
        for f in self.fills_:
            parts.append(f"{f.signal} {f.chosen} (MAE model {f.mae_model:.3g} vs last value {f.mae_hold:.3g} "
                         f"over {f.n_checks}, band covers {f.coverage:.0%})")  # fmt: skip
        return f"newest-reading gaps, checked on held-out readings of the history: {'; '.join(parts)}"

    def summary(self) -> dict[str, str]:
        return {f.signal: f.chosen for f in self.fills_}


def _complete_window_ends(history: np.ndarray, width: int) -> np.ndarray:
    """Rows that end a window of ``width`` fully observed rows."""
    if len(history) < width:
        return np.array([], dtype=int)
    full = ~np.isnan(history).any(axis=1)
    run = np.convolve(full.astype(int), np.ones(width, dtype=int), mode="valid")
    return np.flatnonzero(run == width) + width - 1


def _choose(signal: str, e_model: np.ndarray, e_hold: np.ndarray, interval: float) -> SignalFill:
    a_model, a_hold = np.abs(e_model), np.abs(e_hold)
    diff = a_hold - a_model
    ahead = len(diff) >= _MIN_CHECKS and diff.mean() > diff.std(ddof=1) / np.sqrt(len(diff))
    errors = a_model if ahead else a_hold
    factor = conformal_quantile(errors, interval)
    cover = float(np.mean(errors <= factor))
    return SignalFill(signal, MODEL if ahead else HOLD, factor, len(diff), float(a_model.mean()),
                      float(a_hold.mean()), cover)  # fmt: skip
