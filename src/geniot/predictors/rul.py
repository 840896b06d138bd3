"""RULEstimator: remaining useful life from run-to-failure histories, with an interval.

Input is a long-by-unit frame: ``unit``, ``cycle`` (row order), optionally ``time`` (elapsed time
since the unit's first row, in any time unit: the RUL is then in that unit), operating
conditions and sensor columns (all other numeric columns). Steps, each choice said in ``choices_``:
* operating conditions: ``condition_columns`` if given, else columns named ``setting*`` (rounded,
  as in C-MAPSS), else columns with few distinct values that are piecewise constant per unit;
* sensors that do not vary in training are dropped (and named);
* with several operating conditions each sensor is standardised within its condition;
* the cap (largest RUL predicted: early life counts as healthy) is 0.6 x the median unit life
  unless given; a window of ``window`` points every ``step`` rows spans 15% of the median life
  unless given; windows (a short unit is padded with its first row) are mapped by a small 1-D CNN
  to the 10% and 90% quantiles of the RUL (pinball loss) and its mean (squared error, what RMSE
  rewards; ``point="median"``: the 50% quantile, pinball loss);
* an ensemble of ``n_models`` such nets (5 by default), their quantiles averaged: each holds out
  its own whole units for early stopping (the folds of one permutation: 20% each, at least one,
  from 5 units on; ``val_units``), so every unit is learnt by most nets; or ``fixed_epochs``
  trains exactly ``epochs`` epochs so results do not depend on machine load; the learning rate
  halves on a validation plateau (a cosine with fixed epochs), ``lr_schedule``;
* the 10-90% band is calibrated on the held-out units (split conformal, each side scaled so
  that 10% of the held-out truths fall below and 10% above), ``calibrate``;
* ``smoothing`` exponentially smooths the normalised sensors along each unit (causal);
* with ``gate_column`` (a boolean column, e.g. "degradation has started"), the CNN learns only
  rows where it is true, and a unit whose last row is not gated gets the population prior: the
  remaining life of the training units before onset near that age (ages in each condition's
  median life), quantiles, said in ``basis`` and ``prior_from``. How the units came to be observed
  matters there: by default (``observed_share="auto"``) it is estimated from the ages and onset
  flags of the batch of units predicted together (in service, or cut at a share of their life:
  :mod:`geniot.predictors.rul_prior`); ``observed_share=None``: in service, the training units
  without onset at that age; with ``observed_share=(a, b)``
  (the units to predict were observed at a share of their life between a and b, as in test sets
  cut before failure) the prior is instead the mean remaining life of the training units at the
  shares in [a, b] where they were still before onset, weighted by how close their age then was
  to the unit's (a Gaussian of 0.1 median lives): an age alone says little about the remaining
  life when the observation point scales with the life;
* ``augment`` adds synthetic training windows: ``"gaussian"`` or ``"diffusion"`` fits a
  conditional generator on (window, RUL) and samples windows at RUL values drawn from the
  training targets (generative augmentation); ``"gaussian-bins"`` (one Gaussian per RUL bin,
  best on C-MAPSS scarce FD003, BENCHMARKS 5b) or ``"<generator>-rbf"`` let the window follow
  the RUL non-linearly (``predictors.augmentation_rul``); ``"jitter"`` (noisy, rescaled copies
  of real windows) and ``"smote"`` are the non-generative peers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import ArtifactError, DataError, NotFittedError
from geniot.core.task import BaseTask
from geniot.data.rtf import detect_conditions
from geniot.models.registry import build_generator
from geniot.nn.rng import resolve_seed, seeded
from geniot.nn.training import LoopConfig, optimizer_step, train_loop
from geniot.predictors.augmentation_rul import augment_rul, is_sampler_arm
from geniot.predictors.rul_prior import ObservationModels, mixture_prior, observation_posterior

QUANTILES = (0.1, 0.5, 0.9)


class _RULNet(nn.Module):
    """Three convolutions over time, then a dense head over the whole flattened window."""

    def __init__(self, n_features: int, window: int, hidden: int = 64) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv1d(n_features, hidden, 9, padding=4), nn.Tanh(),
            nn.Conv1d(hidden, hidden, 9, padding=4), nn.Tanh(),
            nn.Conv1d(hidden, 8, 3, padding=1), nn.Tanh(),
        )  # fmt: skip
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(8 * window, 100), nn.Tanh(),
                                  nn.Linear(100, len(QUANTILES)))  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, F)
        q = self.head(self.body(x.transpose(1, 2)))
        # Quantiles never cross: the median plus non-negative offsets.
        mid = q[:, 1:2]
        return torch.cat([mid - nn.functional.softplus(q[:, :1]), mid, mid + nn.functional.softplus(q[:, 2:])], dim=1)


class _Ensemble(nn.Module):
    """Members' quantiles averaged: the average of non-crossing quantiles does not cross either."""

    def __init__(self, members: list[nn.Module]) -> None:
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([m(x) for m in self.members]).mean(0)


def _pinball(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    q = torch.tensor(QUANTILES).view(1, -1)
    diff = y.view(-1, 1) - pred
    return torch.maximum(q * diff, (q - 1) * diff).mean()


def _loss(pred: torch.Tensor, y: torch.Tensor, point: str) -> torch.Tensor:
    """Pinball loss on the 10% and 90% heads; on the middle head pinball (a median) or squared
    error (a mean: what RMSE rewards)."""
    if point == "median":
        return _pinball(pred, y)
    q = torch.tensor(QUANTILES[::2]).view(1, -1)
    diff = y.view(-1, 1) - pred[:, ::2]
    return torch.maximum(q * diff, (q - 1) * diff).mean() * (2 / 3) + ((pred[:, 1] - y) ** 2).mean()


class RULEstimator(BaseTask):
    def __init__(
        self,
        *,
        window: int | None = None,
        step: int | None = None,
        cap: float | None = None,
        hidden: int = 16,
        epochs: int = 300,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        max_minutes: float | None = 15.0,
        patience: int | None = 30,
        fixed_epochs: bool = False,
        val_units: int | list | None = None,
        condition_columns: list[str] | None = None,
        gate_column: str | None = None,
        augment: str | BaseGenerator | None = None,
        n_synthetic: float = 1.0,
        n_models: int = 5,
        lr_schedule: str | None = "auto",
        smoothing: float | None = None,
        observed_share: tuple[float, float] | str | None = "auto",
        calibrate: bool = True,
        point: str = "mean",
        random_state: int | None = 0,
    ) -> None:
        self.window = window
        self.step = step
        self.cap = cap
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_minutes = max_minutes
        self.patience = patience
        self.fixed_epochs = fixed_epochs
        self.val_units = val_units
        self.condition_columns = condition_columns
        self.gate_column = gate_column
        self.augment = augment
        self.n_synthetic = n_synthetic
        self.n_models = n_models
        self.lr_schedule = lr_schedule
        self.smoothing = smoothing
        self.observed_share = observed_share
        self.calibrate = calibrate
        self.point = point
        self.random_state = random_state

    _STATE = ("settings_", "rounded_", "features_", "conditions_", "window_", "step_", "cap_", "time_unit_",
              "lives_", "onsets_", "unit_conditions_", "choices_", "meta_", "band_scale_")  # fmt: skip

    def _validate(self) -> None:
        if int(self.n_models) < 1:
            raise DataError(f"n_models must be at least 1, got {self.n_models!r}")
        if self.lr_schedule not in (None, "auto", "plateau", "cosine"):
            raise DataError(f"lr_schedule must be None, 'auto', 'plateau' or 'cosine', got {self.lr_schedule!r}")
        if self.point not in ("median", "mean"):
            raise DataError(f"point must be 'median' or 'mean', got {self.point!r}")
        if self.smoothing is not None and not 0.0 < float(self.smoothing) <= 1.0:
            raise DataError(f"smoothing (the exponential smoothing weight of the newest row) must be in (0, 1], got {self.smoothing!r}")
        if self.observed_share is not None and self.observed_share != "auto":
            try:
                a, b = (float(v) for v in self.observed_share)
            except (TypeError, ValueError):
                a = b = float("nan")
            if not 0.0 <= a < b <= 1.0:
                raise DataError(f"observed_share must be 'auto', None or two shares of life 0 <= a < b <= 1, "
                                f"got {self.observed_share!r}")
        augment = self.augment
        if not (augment is None or isinstance(augment, BaseGenerator) or augment in ("jitter", "gaussian", "diffusion", "vae")
                or is_sampler_arm(augment)):  # fmt: skip
            raise DataError(f"augment must be None, 'jitter', 'smote', 'gaussian', 'diffusion', 'vae', "
                            f"'<generator>-bins' / '<generator>-rbf' (e.g. gaussian-bins) or a generator, got {augment!r}")  # fmt: skip
        if augment is not None and not (isinstance(self.n_synthetic, int | float) and 0 < float(self.n_synthetic) <= 20):
            raise DataError(f"n_synthetic (extra windows per real window) must be above 0 and at most 20, got {self.n_synthetic!r}")
        if isinstance(augment, BaseGenerator) and not augment.tags.conditional:
            raise DataError(f"augment must be a conditional generator (RUL-conditional sampling), got {type(augment).__name__}")

    # ------------------------------------------------------------ preprocessing
    @staticmethod
    def _check_frame(frame: pd.DataFrame, *, training: bool) -> None:
        for col in ("unit", "cycle"):
            if col not in frame:
                raise DataError(f"missing column {col!r}; a RUL frame needs unit, cycle, settings and sensors")
        if frame.empty:
            raise DataError("there are no rows")
        if training:
            lengths = frame.groupby("unit")["cycle"].size()
            short = lengths[lengths < 2]
            if len(short):
                raise DataError(
                    f"unit(s) {list(short.index[:5])} have a single cycle: a run-to-failure history needs at least two",
                    column="unit",
                )

    @staticmethod
    def _clock(frame: pd.DataFrame) -> np.ndarray:
        return frame["time" if "time" in frame else "cycle"].to_numpy(dtype=float)

    def _say(self, text: str) -> None:
        self.choices_.append(text)

    def _fit_preprocessing(self, frame: pd.DataFrame) -> None:
        reserved = {"unit", "cycle", "time", self.gate_column}
        others = [c for c in frame.columns if c not in reserved]
        if self.condition_columns is not None:
            missing = [c for c in self.condition_columns if c not in frame]
            if missing:
                raise DataError(f"condition column(s) {missing} are not in the data; columns are {others[:12]}")
            settings, how = list(self.condition_columns), "declared (--condition-columns, or a bearing manifest)"
        else:
            named = [c for c in others if str(c).startswith("setting")]
            # With setting* columns (C-MAPSS), no sensor is searched: a two-valued sensor that
            # stays put for long stretches (FD001's s6, FD003's s10) would split one condition.
            found = [] if named else detect_conditions(frame, others)
            settings, how = named + found, "detected: " + ", ".join(
                [f"{c} (named setting*; other columns not searched)" for c in named]
                + [f"{c} (few values, piecewise constant per unit)" for c in found])
        self.settings_ = settings
        self.rounded_ = [c for c in settings if str(c).startswith("setting") and pd.api.types.is_numeric_dtype(frame[c])]
        candidates = [c for c in others if c not in settings]
        text = [c for c in candidates if not pd.api.types.is_numeric_dtype(frame[c])]
        if text:
            raise DataError(f"column(s) {text[:5]} are not numeric and not operating conditions: "
                            "name them in --condition-columns or drop them")  # fmt: skip
        values = frame[candidates].astype(float)
        keep = [c for c in candidates if values[c].nunique() > 2 and values[c].std() > 1e-8 * (abs(values[c].mean()) + 1.0)]
        if not keep:
            raise DataError("no sensor varies in the training data")
        dropped = [c for c in candidates if c not in keep]
        self.features_ = keep
        if settings:
            keys = self._condition_keys(frame)
            counts = keys.value_counts()
            conditions = list(counts[counts >= 0.01 * len(frame)].index)
        else:
            keys, conditions = None, []
        self.conditions_ = conditions if len(conditions) > 1 else []
        if settings:
            self._say(f"operating conditions: {how}; {len(conditions)} distinct"
                      + ("; sensors standardised per condition" if self.conditions_ else "; one condition, ignored"))
        else:
            self._say("operating conditions: none found (declare them with --condition-columns)")
        self._say(f"sensors: {len(keep)} used" + (f"; dropped as constant or two-valued: {dropped[:8]}" if dropped else ""))
        self.centres_ = {}
        for cond in self.conditions_ or ["*"]:
            rows = values[keep] if cond == "*" else values.loc[keys == cond, keep]
            std = rows.std().to_numpy()
            self.centres_[cond] = (rows.mean().to_numpy(), np.where(std > 0, std, 1.0))

    def _condition_keys(self, frame: pd.DataFrame) -> pd.Series:
        parts = frame[self.settings_].copy()
        # + 0.0 turns -0.0 into 0.0, so that tiny negative settings round to the same key
        for c in self.rounded_:
            parts[c] = parts[c].round(0) + 0.0
        return parts.astype(str).agg("|".join, axis=1)

    def _normalise(self, frame: pd.DataFrame, source: str | None = None) -> np.ndarray:
        missing = [c for c in self.features_ + self.settings_ if c not in frame]
        if missing:
            raise DataError(f"missing sensor/setting column(s) {missing} that the model was trained on", file=source)
        x = frame[self.features_].to_numpy(dtype=float)
        if not self.conditions_:
            mean, std = self.centres_["*"]
            return (x - mean) / std
        keys = self._condition_keys(frame).to_numpy()
        out = np.empty_like(x)
        known = np.array([self.centres_.get(k) is not None for k in keys])
        if not known.all():
            bad = int(np.flatnonzero(~known)[0])
            raise DataError(f"operating condition {keys[bad]!r} was not seen in training", file=source, row=bad + 1)
        for cond, (mean, std) in self.centres_.items():
            rows = keys == cond
            out[rows] = (x[rows] - mean) / std
        return out

    def inputs(self, frame: pd.DataFrame, source: str | None = None) -> np.ndarray:
        """The normalised (and smoothed) sensors the nets see, row by row of a frame sorted by unit
        and cycle (for :mod:`geniot.predictors.rul_futures`)."""
        return self._inputs(frame, source)

    def _inputs(self, frame: pd.DataFrame, source: str | None = None) -> np.ndarray:
        """Normalised sensors, exponentially smoothed along each unit when ``smoothing`` is set
        (causal: a row sees only its unit's earlier rows, as at prediction time)."""
        x = self._normalise(frame, source)
        if self.smoothing is None:
            return x
        smooth = pd.DataFrame(x).groupby(frame["unit"].to_numpy(), sort=False).transform(
            lambda col: col.ewm(alpha=float(self.smoothing), adjust=False).mean())
        return smooth.to_numpy()

    def _choose_shape(self, frame: pd.DataFrame, rul: np.ndarray) -> None:
        unit = self.time_unit_
        clock = self._clock(frame)
        lives = pd.Series(clock).groupby(frame["unit"].to_numpy()).agg(lambda s: s.max() - s.min())
        rows = frame.groupby("unit").size()
        self.lives_ = [float(v) for v in lives.to_numpy()]
        # For the prior before onset: when each training unit's onset came, and its condition.
        first = pd.Series(clock).groupby(frame["unit"].to_numpy()).transform("min").to_numpy()
        if self.gate_column is not None:
            gated = frame[self.gate_column].to_numpy(dtype=bool)
            since = pd.Series(np.where(gated, clock - first, np.inf)).groupby(frame["unit"].to_numpy()).min()
            self.onsets_ = [float(min(v, life)) for v, life in zip(since.loc[lives.index], lives.to_numpy(), strict=True)]
        else:
            self.onsets_ = list(self.lives_)
        keys = self._condition_keys(frame) if self.conditions_ else pd.Series("*", index=frame.index)
        self.unit_conditions_ = [str(v) for v in keys.groupby(frame["unit"].to_numpy()).first().loc[lives.index]]
        median_life = float(lives.median())
        self._say(f"unit lives: {len(lives)} units, median {median_life:.4g} {unit} ({int(rows.median())} rows), "
                  f"range {lives.min():.4g}-{lives.max():.4g}")  # fmt: skip
        if self.cap is not None:
            self.cap_ = float(self.cap)
            self._say(f"cap (horizon: largest RUL predicted): {self.cap_:g} {unit} (given)")
        elif self.gate_column is not None:
            gated = frame[self.gate_column].to_numpy(dtype=bool)
            spans = pd.Series(rul[gated]).groupby(frame["unit"].to_numpy()[gated]).max()
            self.cap_ = float(spans.max()) if len(spans) else median_life
            self._say(f"cap (horizon: largest RUL predicted): {self.cap_:.4g} {unit}, the longest time from onset to "
                      f"failure in training (median {spans.median():.4g})")  # fmt: skip
        else:
            self.cap_ = float(0.6 * median_life)
            self._say(f"cap (horizon: largest RUL predicted): {self.cap_:.4g} {unit} = 0.6 x the median unit life: "
                      "earlier life counts as healthy (--cap to change)")  # fmt: skip
        learned = frame[self.gate_column].to_numpy(dtype=bool) if self.gate_column is not None else slice(None)
        share = float(np.mean(rul[learned] >= self.cap_))
        if share > 0.5:
            self._say(f"warning: {share:.0%} of training targets are at the cap; predictions never exceed it")
        typical = float(rows.median())
        if self.window is not None:
            self.window_ = int(self.window)
            self.step_ = int(self.step or 1)
            self._say(f"window: {self.window_} points every {self.step_} row(s) (given)")
        else:
            span = max(5, int(round(0.15 * typical)))
            self.window_ = min(span, 32)
            self.step_ = int(self.step) if self.step else int(np.ceil(span / self.window_))
            self._say(f"window: {self.window_} points every {self.step_} row(s) = {self.window_ * self.step_} rows, "
                      f"15% of the median life ({typical:.0f} rows) (--window, --step to change)")  # fmt: skip

    def _windows(self, frame: pd.DataFrame, x: np.ndarray, *, last_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """Windows ending at every cycle (or each unit's last) and the row index they end at."""
        w, s = int(self.window_), int(self.step_)
        span = (w - 1) * s + 1
        out, ends = [], []
        units = frame["unit"].to_numpy()
        starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        stops = np.r_[starts[1:], len(units)]
        for a, b in zip(starts, stops, strict=True):
            seq = x[a:b]
            if len(seq) < span:  # pad a short unit with its first cycle
                seq = np.concatenate([np.repeat(seq[:1], span - len(seq), axis=0), seq])
            seq = seq[-span:] if last_only else seq
            view = np.lib.stride_tricks.sliding_window_view(seq, span, axis=0).transpose(0, 2, 1)[:, ::s]
            if last_only:
                view = view[-1:]
            out.append(view)
            n = len(view)
            ends.append(np.arange(b - n, b))
        return np.concatenate(out).astype(np.float32), np.concatenate(ends)

    def _choose_validation(self, units: np.ndarray, seed: int) -> list[np.ndarray]:
        """Held-out units for each net of the ensemble: the folds of one permutation of the units,
        so that with 5 nets and 20% each every unit is held out once (and every unit is learnt by
        four nets); given unit ids are held out by every net."""
        n_models = int(self.n_models)
        if self.fixed_epochs:
            self._say(f"training: exactly {self.epochs} epochs (fixed, no early stopping)"
                      + (f", capped at {self.max_minutes:g} min" if self.max_minutes else ""))
            return [np.array([])] * n_models
        if isinstance(self.val_units, (list, tuple)):
            val = np.array([u for u in units if u in set(self.val_units) or str(u) in {str(v) for v in self.val_units}])
            if len(val) != len(self.val_units):
                raise DataError(f"--val-units {list(self.val_units)}: not all are training units")
            folds, how = [val] * n_models, "given"
        else:
            n = int(self.val_units) if self.val_units is not None else (max(1, int(round(0.2 * len(units)))) if len(units) >= 5 else 0)
            if n >= len(units):
                raise DataError(f"--val-units {n}: needs fewer than the {len(units)} training units")
            perm = np.random.default_rng(seed).permutation(units)
            folds = [perm[np.arange(k * n, (k + 1) * n) % len(units)] for k in range(n_models)] if n else [np.array([])] * n_models
            how = ("given" if self.val_units is not None else "20% of the units, drawn by the seed") + (
                f"; each of the {n_models} nets holds out its own units" if n_models > 1 and n else "")
        if len(folds[0]):
            self._say(f"validation: {len(folds[0])} whole unit(s) held out for early stopping ({how}): "
                      f"{sorted(folds[0].tolist())[:8]}{' (first net)' if n_models > 1 and how != 'given' else ''}; "
                      f"patience {self.patience}, up to {self.epochs} epochs"
                      + (f", capped at {self.max_minutes:g} min in all (results then depend on machine load)" if self.max_minutes else ""))
        else:
            self._say(f"validation: none (fewer than 5 units); training {self.epochs} epochs")
        return folds

    # ------------------------------------------------------------ fit / predict
    def fit(self, frame: pd.DataFrame, *, rul: np.ndarray | None = None, progress=None, time_unit: str | None = None) -> RULEstimator:
        """Fit on run-to-failure units (RUL = time to each unit's last row), or on ``rul`` given per row."""
        self.validate()
        self._check_frame(frame, training=True)
        self.choices_, self.meta_ = [], getattr(self, "meta_", {})
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        self.time_unit_ = time_unit or ("cycles" if "time" not in frame else "time units")
        if rul is None:
            clock = self._clock(frame)
            rul = pd.Series(clock).groupby(frame["unit"].to_numpy()).transform("max").to_numpy() - clock
        rul = np.asarray(rul, dtype=float)
        self._fit_preprocessing(frame)
        self._choose_shape(frame, rul)
        if self.smoothing is not None:
            self._say(f"sensors exponentially smoothed along each unit (weight {float(self.smoothing):g} on the newest row)")
        y_all = np.minimum(rul, self.cap_) / self.cap_
        x = self._inputs(frame)
        windows, ends = self._windows(frame, x, last_only=False)
        y = y_all[ends].astype(np.float32)
        if self.gate_column is not None:
            gated = frame[self.gate_column].to_numpy(dtype=bool)[ends]
            if gated.sum() < 2:
                raise DataError(f"fewer than two rows where {self.gate_column!r} is true: nothing to learn after onset")
            windows, y, ends = windows[gated], y[gated], ends[gated]
            self._say(f"learning from {len(y)} rows after onset ({self.gate_column}); before onset: population prior, "
                      + self._prior_words())
        # Early stopping on whole held-out units: windows of one unit overlap, so a random
        # hold-out of windows would only measure memorisation.
        seed = resolve_seed(self.random_state)
        folds = self._choose_validation(np.unique(frame["unit"]), seed)
        n_models = int(self.n_models)
        point = "the mean (squared error)" if self.point == "mean" else "the median (pinball loss)"
        self._say((f"ensemble: {n_models} nets (seeds {seed}..{seed + n_models - 1}), their quantiles averaged (--n-models)"
                   if n_models > 1 else "one net (--n-models 1)") + f"; the RUL predicted is {point}, with 10% and 90% quantiles")
        budget = None if self.max_minutes is None else float(self.max_minutes) / n_models
        members, self.histories_, held_out = [], [], []
        window_units = frame["unit"].to_numpy()[ends]
        for k, val_units in enumerate(folds):
            is_val = np.isin(window_units, val_units)
            train_w, train_y = self._augmented(windows[~is_val], y[~is_val], seed + k)
            if k == 0 and self.augment:
                name = self.augment if isinstance(self.augment, str) else type(self.augment).__name__
                self._say(f"augmentation: {name}, {len(train_w) - int((~is_val).sum())} synthetic windows beside the "
                          f"{int((~is_val).sum())} real ones of each net, drawn from its own training units only")  # fmt: skip
            val_data = {"x": torch.as_tensor(windows[is_val]), "y": torch.as_tensor(y[is_val])} if is_val.any() else None
            net, history = self._train_net(train_w, train_y, val_data, seed + k, budget, progress, k)
            members.append(net)
            self.histories_.append(history)
            if val_data is not None:
                with torch.no_grad():
                    held_out.append((net(val_data["x"]).numpy(), y[is_val]))
        self.history_ = self.histories_[0]
        self.module_ = _Ensemble(members).eval()
        self._say_epochs()
        self.band_scale_ = self._conformal(held_out)
        self.n_training_windows_ = int(len(train_w))
        return self

    def _train_net(self, train_w, train_y, val_data, seed: int, budget, progress, k: int):
        """One net of the ensemble; the learning rate halves on a validation plateau (early
        stopping) or follows a cosine to zero (a fixed epoch count)."""
        n_models, epochs = int(self.n_models), int(self.epochs)
        schedule = self.lr_schedule
        if schedule == "auto":
            schedule = "plateau" if val_data is not None and not self.fixed_epochs else "cosine"
        with seeded(seed):
            net = _RULNet(len(self.features_), int(self.window_), int(self.hidden))
            optimizer = torch.optim.AdamW(net.parameters(), lr=float(self.learning_rate), weight_decay=1e-4)
            if schedule == "plateau":
                wait = max(3, int(self.patience or 30) // 3)
                scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, factor=0.5, patience=wait)
            elif schedule == "cosine":
                scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(1, epochs))
            else:
                scheduler = None

            def on_epoch(record: dict) -> None:  # the loop's per-epoch event drives the schedule
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(record.get("val_loss", record.get("train_loss")))
                elif scheduler is not None:
                    scheduler.step()
                if progress is not None:
                    progress({**record, "epoch": k * epochs + record["epoch"], "epochs": n_models * epochs})

            loss = lambda batch: {"loss": _loss(net(batch["x"]), batch["y"], self.point)}  # noqa: E731
            history = train_loop(
                net,
                {"x": torch.as_tensor(train_w), "y": torch.as_tensor(train_y)},
                step=optimizer_step(net, optimizer, loss),
                validate=lambda batch: float(loss(batch)["loss"]),
                config=LoopConfig(epochs=epochs, batch_size=int(self.batch_size), max_minutes=budget,
                                  patience=None if self.fixed_epochs or val_data is None else self.patience,
                                  val_fraction=0.0),  # fmt: skip
                generator=torch.Generator().manual_seed(seed),
                progress=on_epoch,
                val_data=val_data,
            )
        return net.eval(), history

    def _say_epochs(self) -> None:
        stops = sorted({h[-1].get("stop_reason", "") for h in self.histories_ if h})
        lengths = [len(h) for h in self.histories_]
        if all(h and "val_loss" in h[0] for h in self.histories_):
            best = [int(np.argmin([r.get("val_loss", np.inf) for r in h])) + 1 for h in self.histories_]
            self._say(f"kept epoch {', '.join(map(str, best))} of {', '.join(map(str, lengths))} ({', '.join(stops)})"
                      + (": validation was best at the start; the held-out units may differ from the rest "
                         "(try --fixed-epochs or more --val-units)" if min(best) <= 3 else ""))  # fmt: skip
        else:
            self._say(f"trained {', '.join(map(str, lengths))} epochs ({', '.join(stops)})")

    def _conformal(self, held_out: list) -> list[float]:
        """Split-conformal widening (or narrowing) of each side of the 10-90% band, so that on the
        held-out units' windows (each predicted by the net that did not learn it) 10% of the
        truths fall below the band and 10% above. Without held-out units the band is the nets'."""
        if not self.calibrate or not held_out:
            self._say("intervals: the nets' 10-90% quantiles, not calibrated"
                      + (" (no held-out units)" if self.calibrate else " (calibrate=False)"))
            return [1.0, 1.0]
        q = np.concatenate([h[0] for h in held_out])
        y = np.concatenate([h[1] for h in held_out])
        eps = 1e-6
        below = (q[:, 1] - y) / np.maximum(q[:, 1] - q[:, 0], eps)
        above = (y - q[:, 1]) / np.maximum(q[:, 2] - q[:, 1], eps)
        level = min(1.0, 0.9 * (1 + 1 / len(y)))
        scale = [float(max(np.quantile(below, level), 0.0)), float(max(np.quantile(above, level), 0.0))]
        raw = float(np.mean((y >= q[:, 0]) & (y <= q[:, 2])))
        self._say(f"intervals: the 10-90% band's lower side scaled by {scale[0]:.2f} and upper side by {scale[1]:.2f} "
                  f"(split conformal on {len(y)} held-out windows, where the nets' band covered {raw:.0%})")  # fmt: skip
        return scale

    def _augmented(self, windows: np.ndarray, y: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.augment:
            return windows, y
        n = int(round(float(self.n_synthetic) * len(windows)))
        rng = np.random.default_rng(seed)
        if self.augment == "jitter":
            pick = rng.integers(0, len(windows), n)
            scale = rng.normal(1.0, 0.05, (n, 1, windows.shape[2]))
            extra = windows[pick] * scale + rng.normal(0.0, 0.05, (n,) + windows.shape[1:])
            return np.concatenate([windows, extra.astype(np.float32)]), np.concatenate([y, y[pick]])
        if is_sampler_arm(self.augment):  # SMOTE, or a generator per RUL bin / on RBF bumps of the RUL
            extra, labels, _ = augment_rul(windows, y, self.augment, n, rng, minutes=self.max_minutes, seed=seed)
            return np.concatenate([windows, extra.astype(np.float32)]), np.concatenate([y, labels.astype(np.float32)])
        if isinstance(self.augment, BaseGenerator):  # a conditional generator of one's choice, cloned
            gen = self.augment.clone()
        elif self.augment in ("gaussian", "diffusion", "vae"):
            params = {} if self.augment == "gaussian" else {"max_minutes": self.max_minutes, "random_state": seed}
            gen = build_generator({"name": self.augment, "params": params})
        else:
            raise DataError(f"augment must be None, 'jitter', 'gaussian', 'diffusion', 'vae' or a generator, got {self.augment!r}")
        gen.fit(windows.astype(np.float64), conditions=y[:, None].astype(np.float64))
        labels = rng.choice(y, n)
        extra = gen.sample(n, conditions=labels[:, None].astype(np.float64), random_state=rng.integers(2**31))
        return np.concatenate([windows, extra.astype(np.float32)]), np.concatenate([y, labels.astype(np.float32)])

    def _model_quantiles(self, windows: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            q = self.module_(torch.as_tensor(windows)).numpy()
        lo, hi = self.band_scale_
        mid = q[:, 1]
        q = np.stack([mid - lo * (mid - q[:, 0]), mid, mid + hi * (q[:, 2] - mid)], axis=1) * float(self.cap_)
        return np.clip(q, 0.0, float(self.cap_))

    def _prior_words(self) -> str:
        share = self.observed_share
        if share == "auto":
            return ("from training units before onset near the same age, weighted by how the batch of units to predict "
                    "was observed (in service, or cut at a share of their life: estimated from their ages and onset "
                    "flags at predict time; --observed-share A-B or in-service to fix it)")
        if share is not None:
            return f"from training units before onset at {share[0]:.0%}-{share[1]:.0%} of their life (observed_share)"
        return ("from training units still before onset at the same age (in service; --observed-share when the units "
                "to predict were cut at a known share of their life)")

    def _life_scales(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict, float]:
        """Training lives, onsets, each unit's condition median life, and the median life per condition."""
        lives, onsets = np.asarray(self.lives_, dtype=float), np.asarray(self.onsets_, dtype=float)
        conds = np.asarray(self.unit_conditions_)
        overall = float(np.median(lives))
        scales = {c: float(np.median(lives[conds == c])) if (conds == c).sum() >= 2 else overall for c in set(conds)}
        return lives, onsets, np.array([scales[c] for c in conds]), scales, overall

    def observation_models(self, elapsed, conditions, gated) -> ObservationModels:
        """How the batch of units to predict was observed (in service, or cut at a share of life),
        estimated from their ages and onset flags (:mod:`geniot.predictors.rul_prior`)."""
        lives, onsets, unit_scale, scales, overall = self._life_scales()
        ages = [e / scales.get(str(c), overall) for e, c in zip(elapsed, conditions, strict=True)]
        return observation_posterior(lives / unit_scale, onsets / unit_scale, ages, gated)

    def prior(self, elapsed: float, condition: str = "*", models: ObservationModels | None = None) -> tuple[float, float, float, str]:
        """10/50/90% of the remaining life at ``elapsed`` of the training units that were still
        before their onset at that age, and which units these were. Ages are measured in units of
        each condition's median life (a heavier condition wears out sooner), so that every training
        unit counts, not only the few of the same condition. With ``observed_share=(a, b)``: see
        :meth:`_share_prior`; with ``"auto"`` and ``models`` (:meth:`observation_models`): the
        mixture over how the units were observed."""
        lives, onsets, unit_scale, scales, overall = self._life_scales()
        scale = scales.get(str(condition), overall)
        age = elapsed / scale
        if self.observed_share == "auto" and models is not None:
            found = mixture_prior(lives / unit_scale, onsets / unit_scale, age, models, point=self.point)
            if found is not None:
                return tuple(v * scale for v in found) + (f"training units before onset near this age; {models.summary()}",)
        elif self.observed_share is not None and self.observed_share != "auto":
            found = self._share_prior(lives / unit_scale, onsets / unit_scale, age)
            if found is not None:
                return tuple(v * scale for v in found[:3]) + (found[3],)
        for pick, what in ((onsets / unit_scale > age, "training units without onset at this share of their life"),
                           (lives / unit_scale >= age, "training units alive at this share of their life")):  # fmt: skip
            if pick.any():
                left = (lives[pick] / unit_scale[pick] - age) * scale
                lo, mid, hi = np.quantile(left, QUANTILES)
                return float(mid), float(lo), float(hi), f"{what}: {int(pick.sum())}"
        return 0.0, 0.0, 0.0, "older than every training unit"

    def _share_prior(self, lives: np.ndarray, onsets: np.ndarray, age: float, width: float = 0.1):
        """The prior when the units to predict were observed at a share of their life in
        ``observed_share`` (lives, onsets and age in median lives of their condition): every
        training unit is looked at on a grid of shares in that range where it was still before
        onset; each look is weighted by a Gaussian of its age minus ``age`` (``width`` median
        lives) and each unit counts as much as the others (uniform over its shares). The middle
        value is the weighted mean (``point="mean"``) or median; None when no look is within three
        widths of ``age``."""
        a, b = (float(v) for v in self.observed_share)
        shares = np.linspace(a, b, 91)
        ages = lives[:, None] * shares[None, :]
        left = lives[:, None] * (1.0 - shares[None, :])
        weight = (ages < onsets[:, None]) * np.exp(-0.5 * ((ages - age) / width) ** 2)
        if weight.max() < np.exp(-0.5 * 3.0**2):
            return None
        units = int(np.sum(weight.sum(axis=1) > 0.01 * weight.sum()))
        left, weight = left.ravel(), weight.ravel()
        order = np.argsort(left)
        left, weight = left[order], weight[order]
        cum = (np.cumsum(weight) - weight / 2) / weight.sum()
        lo, med, hi = np.interp(QUANTILES, cum, left)
        mid = float(np.sum(weight * left) / weight.sum()) if self.point == "mean" else float(med)
        return mid, float(min(lo, mid)), float(max(hi, mid)), (
            f"training units before onset at {a:.0%}-{b:.0%} of their life, near this age: {units}")

    def predict(self, frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
        """RUL at each unit's last row: unit, rul (mean, or median), lower (10%), upper (90%); with a gate
        also ``basis``: "after onset: model" or "no onset yet: population prior"."""
        if not hasattr(self, "module_"):
            raise NotFittedError("RULEstimator is not fitted yet; call fit first")
        self._check_frame(frame, training=False)
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        x = self._inputs(frame, source)
        windows, ends = self._windows(frame, x, last_only=True)
        q = self._model_quantiles(windows)
        out = pd.DataFrame({"unit": frame["unit"].to_numpy()[ends], "rul": q[:, 1], "lower": q[:, 0], "upper": q[:, 2]})
        if self.gate_column is None:
            return out
        if self.gate_column not in frame:
            raise DataError(f"missing column {self.gate_column!r} (the onset flag the model was trained with)", file=source)
        gated = frame[self.gate_column].to_numpy(dtype=bool)[ends]
        clock = self._clock(frame)
        first = pd.Series(clock).groupby(frame["unit"].to_numpy()).transform("min").to_numpy()
        keys = self._condition_keys(frame).to_numpy() if self.conditions_ else np.full(len(frame), "*")
        basis, priors = [], []
        models = (self.observation_models(clock[ends] - first[ends], keys[ends], gated)
                  if self.observed_share == "auto" and not gated.all() else None)  # fmt: skip
        for i, end in enumerate(ends):
            if gated[i]:
                basis.append("after onset: model")
                priors.append("")
                continue
            mid, lo, hi, how = self.prior(clock[end] - first[end], keys[end], models)
            out.loc[i, ["rul", "lower", "upper"]] = [mid, lo, hi]
            basis.append("no onset yet: population prior")
            priors.append(how)
        out["basis"] = basis
        out["prior_from"] = priors
        return out

    def predict_trajectory(self, frame: pd.DataFrame) -> pd.DataFrame:
        """RUL at every cycle of every unit (for plots and for checking that it decreases)."""
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        windows, ends = self._windows(frame, self._inputs(frame), last_only=False)
        q = self._model_quantiles(windows)
        return pd.DataFrame({"unit": frame["unit"].to_numpy()[ends], "cycle": frame["cycle"].to_numpy()[ends],
                             "rul": q[:, 1], "lower": q[:, 0], "upper": q[:, 2]})  # fmt: skip

    # ------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "kind": "rul",
            "params": {k: _spec(v) for k, v in self.get_params(deep=False).items()},
            **{k: getattr(self, k) for k in self._STATE},
            "centres_": {k: [m.tolist(), s.tolist()] for k, (m, s) in self.centres_.items()},
            "history_": self.history_,
            "histories_": getattr(self, "histories_", [self.history_]),
        }
        (path / "rul.json").write_text(json.dumps(state, indent=2, default=_plain))
        torch.save(self.module_.state_dict(), path / "weights.pt")
        return path

    @classmethod
    def load(cls, path) -> RULEstimator:
        path = Path(path)
        try:
            state = json.loads((path / "rul.json").read_text())
            params = dict(state["params"])
            if isinstance(params.get("augment"), dict):
                params["augment"] = build_generator(params["augment"])
            est = cls(**params)
            for key in cls._STATE:
                # a model saved before the ensemble had no calibrated band: its band is the net's
                setattr(est, key, state.get(key, [1.0, 1.0]) if key == "band_scale_" else state[key])
        except (OSError, json.JSONDecodeError, KeyError, TypeError) as exc:
            raise ArtifactError(f"{path} is not a RUL model folder of this geniot version ({exc})") from None
        est.centres_ = {k: (np.asarray(m), np.asarray(s)) for k, (m, s) in state["centres_"].items()}
        est.history_ = state.get("history_", [])
        est.histories_ = state.get("histories_", [est.history_])
        weights = torch.load(path / "weights.pt", map_location="cpu", weights_only=True)
        single = not any(k.startswith("members.") for k in weights)  # saved before the ensemble: one net
        n_nets = 1 if single else len({k.split(".")[1] for k in weights if k.startswith("members.")})
        with seeded(0):
            nets = [_RULNet(len(est.features_), int(est.window_), int(est.hidden)) for _ in range(n_nets)]
        if single:
            nets[0].load_state_dict(weights)
            est.module_ = _Ensemble(nets)
        else:
            est.module_ = _Ensemble(nets)
            est.module_.load_state_dict(weights)
        est.module_.eval()
        return est


def _spec(value):
    """A parameter as JSON: a generator (``augment``) as its registry spec."""
    if isinstance(value, BaseGenerator):
        return {"name": value.registry_name, "params": value.get_params()}
    return value


def _plain(value):
    """JSON for numpy scalars (unit ids, condition values)."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
