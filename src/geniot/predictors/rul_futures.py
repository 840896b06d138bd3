"""RULFutures: a family of possible degradation paths per unit, and the failure time they imply.

A generator of the registry learns windows of ``past`` rows (default: the rows the estimator's
window spans, at most 40) plus the ``ahead`` rows that followed,
over the fitted :class:`~geniot.predictors.rul.RULEstimator`'s normalised sensors and one more
channel: the remaining life at each row (capped and divided by the cap, as the estimator's
target). For a unit to predict, the generator imputes everything not observed given its last
``past`` rows: each draw is one joint sample of the remaining life and of the next rows, so the
failure time is part of the path, not drawn apart from it. A path is rolled on to failure by
sliding the window over the generated rows with the remaining life now observed (the first draw's,
counted down), until it reaches zero or ``horizon`` rows.

Rows of a training window after its unit's failure are missing (the generator's mask), so the
last rows before failure are learnt too. With an onset gate, only windows whose present row is
past onset are learnt and a unit before onset has no path (said in ``basis``): its remaining
life is the estimator's population prior.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError, NotFittedError
from geniot.models.registry import build_generator

QUANTILES = (0.1, 0.5, 0.9)


class RULFutures:
    def __init__(self, *, generator: str | BaseGenerator = "gaussian", past: int | None = None, ahead: int = 6,
                 max_windows: int = 20000, calibrate: bool = True, random_state: int = 0) -> None:  # fmt: skip
        if (past is not None and int(past) < 1) or int(ahead) < 1:
            raise DataError(f"past and ahead must be at least 1 row, got {past!r} and {ahead!r}")
        self.generator = generator
        self.past = past
        self.ahead = int(ahead)
        self.max_windows = int(max_windows)
        self.calibrate = calibrate
        self.random_state = random_state

    # ------------------------------------------------------------ fit
    def fit(self, estimator, frame: pd.DataFrame) -> RULFutures:
        """Learn (past, ahead, remaining life) windows from the run-to-failure units the estimator was fitted on."""
        if not hasattr(estimator, "module_"):
            raise NotFittedError("RULFutures needs a fitted RULEstimator")
        self.estimator_ = estimator
        # the rows the estimator's window spans (at most 40: the generator is one Gaussian over them)
        self.past_ = int(self.past) if self.past is not None else min(int(estimator.window_) * int(estimator.step_), 40)
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        x = estimator.inputs(frame)
        clock = estimator._clock(frame)
        units = frame["unit"].to_numpy()
        rul = pd.Series(clock).groupby(units).transform("max").to_numpy() - clock
        cap = float(estimator.cap_)
        self.step_ = float(np.median(np.diff(clock)[units[1:] == units[:-1]]))
        gated = frame[estimator.gate_column].to_numpy(dtype=bool) if estimator.gate_column else np.ones(len(frame), bool)
        values = np.concatenate([x, (np.minimum(rul, cap) / cap)[:, None]], axis=1)
        windows, unit_of = [], []
        span = self.past_ + self.ahead
        starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        for a, b in zip(starts, np.r_[starts[1:], len(units)], strict=True):
            # the start padded with the first row (as the estimator's windows), the end with gaps
            seq = np.concatenate([np.repeat(values[a:a + 1], self.past_ - 1, axis=0), values[a:b],
                                  np.full((self.ahead, values.shape[1]), np.nan)])  # fmt: skip
            view = np.lib.stride_tricks.sliding_window_view(seq, span, axis=0).transpose(0, 2, 1)[: b - a]
            windows.append(view[gated[a:b]])
            unit_of.append(np.full(int(gated[a:b].sum()), a))
        windows, unit_of = np.concatenate(windows), np.concatenate(unit_of)
        if len(windows) < 2:
            raise DataError("fewer than two windows to learn futures from")
        rng = np.random.default_rng(self.random_state)
        if len(windows) > self.max_windows:
            pick = rng.choice(len(windows), self.max_windows, replace=False)
            windows, unit_of = windows[pick], unit_of[pick]

        def make() -> BaseGenerator:
            if isinstance(self.generator, BaseGenerator):
                return self.generator.clone()
            return build_generator({"name": self.generator, "params": {}})

        gen = make()
        self.generator_ = gen.fit(windows, mask=~np.isnan(windows))
        self.n_windows_ = len(windows)
        self.choices_ = [f"futures: generator {type(gen).__name__} on {len(windows)} windows of {self.past_} past + "
                         f"{self.ahead} next rows, {x.shape[1]} sensors and the remaining life as one more channel; "
                         f"row step {self.step_:.4g} {estimator.time_unit_}"]  # fmt: skip
        self.band_scale_ = self._calibrate(windows, unit_of, make, rng) if self.calibrate else [1.0, 1.0]
        return self

    # ------------------------------------------------------------ draws
    def _last_rows(self, frame: pd.DataFrame) -> tuple[list, np.ndarray, np.ndarray]:
        if not hasattr(self, "generator_"):
            raise NotFittedError("RULFutures is not fitted yet; call fit first")
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        x = self.estimator_.inputs(frame)
        units = frame["unit"].to_numpy()
        order = list(dict.fromkeys(units))
        pasts = []
        for u in order:
            seq = x[units == u]
            if len(seq) < self.past_:
                seq = np.concatenate([np.repeat(seq[:1], self.past_ - len(seq), axis=0), seq])
            pasts.append(seq[-self.past_:])
        gate = self.estimator_.gate_column
        gated = (frame.groupby("unit", sort=False)[gate].last().loc[order].to_numpy(dtype=bool) if gate
                 else np.ones(len(order), bool))  # fmt: skip
        return order, np.stack(pasts), gated

    def _impute(self, past: np.ndarray, n: int, seed: int, life: np.ndarray | None = None, generator=None) -> np.ndarray:
        """n draws of (past + ahead) rows given the past sensors, one window (past, features) or one
        per draw (n, past, features), and, when given, the remaining life at every row (cap units)."""
        past = np.broadcast_to(past, (n, *past.shape[-2:]))
        X = np.full((n, self.past_ + self.ahead, past.shape[2] + 1), np.nan)
        X[:, : self.past_, :-1] = past
        if life is not None:
            X[:, :, -1] = life
        mask = ~np.isnan(X)
        return (generator or self.generator_).impute(np.nan_to_num(X), mask, n_draws=1, random_state=seed)[0]

    def _lives(self, pasts: np.ndarray, n: int, seed: int, generator=None) -> np.ndarray:
        """(n, units) remaining lives in cap units, one joint draw each, for windows of past rows
        (units, past, features): all windows share one mask, so one conditioning serves them all."""
        X = np.full((len(pasts), self.past_ + self.ahead, pasts.shape[2] + 1), np.nan)
        X[:, : self.past_, :-1] = pasts
        draws = (generator or self.generator_).impute(np.nan_to_num(X), ~np.isnan(X), n_draws=n, random_state=seed)
        return np.clip(draws[:, :, self.past_ - 1, -1], 0.0, 1.0)

    def _calibrate(self, windows: np.ndarray, unit_of: np.ndarray, make, rng) -> list[float]:
        """Split-conformal scale of each side of the 10-90% band, as the estimator's: the generator
        refitted without a fifth of the units predicts their windows (the present row's remaining
        life known), and each side is scaled so that 10% of those truths fall below and 10% above."""
        units = rng.permutation(np.unique(unit_of))
        if len(units) < 5:
            self.choices_.append("futures: band not calibrated (fewer than 5 units)")
            return [1.0, 1.0]
        below, above, raw = [], [], []
        for fold in np.array_split(units, 5):
            held = np.isin(unit_of, fold)
            gen = make().fit(windows[~held], mask=~np.isnan(windows[~held]))
            test = windows[held]
            test = test[rng.choice(len(test), min(len(test), 400), replace=False)]
            y = test[:, self.past_ - 1, -1]
            life = self._lives(test[:, : self.past_, :-1], 100, int(rng.integers(2**31)), generator=gen)
            lo, mid, hi = np.quantile(life, QUANTILES, axis=0)
            below.append((mid - y) / np.maximum(mid - lo, 1e-6))
            above.append((y - mid) / np.maximum(hi - mid, 1e-6))
            raw.append((y >= lo) & (y <= hi))
        below, above, raw = np.concatenate(below), np.concatenate(above), np.concatenate(raw)
        level = min(1.0, 0.9 * (1 + 1 / len(below)))
        scale = [float(max(np.quantile(below, level), 0.0)), float(max(np.quantile(above, level), 0.0))]
        self.choices_.append(f"futures: the failure time's 10-90% band, lower side scaled by {scale[0]:.2f} and upper "
                             f"by {scale[1]:.2f} (split conformal on {len(below)} windows of units held out five at a "
                             f"time, where the paths' band covered {raw.mean():.0%})")  # fmt: skip
        return scale

    def failure_times(self, frame: pd.DataFrame, *, n: int = 200) -> pd.DataFrame:
        """Per unit: the median remaining life over ``n`` draws (``rul``), its 10% and 90% (``lower``,
        ``upper``, calibrated) and the mean, in the estimator's time unit; ``basis`` says where
        there was no path."""
        order, pasts, gated = self._last_rows(frame)
        cap = float(self.estimator_.cap_)
        out = pd.DataFrame({"unit": order, "basis": np.where(gated, "generated paths",
                                                           "no onset yet: no path (the estimator's prior)"),
                            "rul": np.nan, "lower": np.nan, "upper": np.nan, "mean": np.nan})  # fmt: skip
        if gated.any():
            life = self._lives(pasts[gated], n, self._seed(0)) * cap
            lo, mid, hi = np.quantile(life, QUANTILES, axis=0)
            down, up = self.band_scale_
            out.loc[gated, "rul"] = mid
            out.loc[gated, "lower"] = np.clip(mid - down * (mid - lo), 0.0, cap)
            out.loc[gated, "upper"] = np.clip(mid + up * (hi - mid), 0.0, cap)
            out.loc[gated, "mean"] = life.mean(axis=0)
        return out

    def futures(self, frame: pd.DataFrame, *, n: int = 50, horizon: int | None = None) -> pd.DataFrame:
        """``n`` paths per unit past onset, rolled on to failure (or ``horizon`` rows, default: the
        cap in rows): unit, future, step (rows ahead), time_ahead, rul (that path's remaining life
        then) and the normalised sensors."""
        order, pasts, gated = self._last_rows(frame)
        cap, names = float(self.estimator_.cap_), list(self.estimator_.features_)
        horizon = int(horizon) if horizon is not None else int(np.ceil(cap / self.step_))
        out = []
        for k, (unit, past) in enumerate(zip(order, pasts, strict=True)):
            if not gated[k]:
                continue
            draws = self._impute(past, n, self._seed(k))
            start = np.clip(draws[:, self.past_ - 1, -1], 0.0, 1.0) * cap
            path = [draws[:, self.past_:, :-1]]
            done = self.ahead
            while done < horizon and (start - done * self.step_ > 0).any():
                window = np.concatenate([np.repeat(past[None], n, 0), *path], axis=1)[:, -self.past_:]
                ages = np.arange(done - self.past_ + 1, done + self.ahead + 1) * self.step_
                life = np.clip(start[:, None] - ages[None], 0.0, cap) / cap
                path.append(self._impute(window, n, self._seed(k) + done, life=life)[:, self.past_:, :-1])
                done += self.ahead
            rows = np.concatenate(path, axis=1)[:, :horizon]
            steps = np.arange(1, rows.shape[1] + 1)
            left = start[:, None] - steps[None] * self.step_
            for f in range(n):
                # the row at (or just after) failure is the last; a path failing now keeps its first row
                alive = (left[f] > -self.step_) | (steps == 1)
                block = pd.DataFrame(rows[f][alive], columns=names)
                block.insert(0, "rul", np.maximum(left[f][alive], 0.0))
                block.insert(0, "time_ahead", steps[alive] * self.step_)
                block.insert(0, "step", steps[alive])
                block.insert(0, "future", f)
                block.insert(0, "unit", unit)
                out.append(block)
        if not out:
            return pd.DataFrame(columns=["unit", "future", "step", "time_ahead", "rul", *names])
        return pd.concat(out, ignore_index=True)

    def _seed(self, k: int) -> int:
        return int(np.random.default_rng([int(self.random_state or 0), int(k)]).integers(2**31))
