"""RULEstimator: remaining useful life from run-to-failure histories, with an interval.

Input is a long-by-unit frame: ``unit``, ``cycle``, operating settings (columns named
``setting*``, optional) and sensor columns (all other numeric columns). Steps:
* sensors that do not vary in training are dropped;
* with several operating conditions (settings that cluster, as in C-MAPSS FD002/FD004), each
  sensor is standardised within its condition, else over all rows;
* windows of the last ``window`` cycles (a short unit is padded with its first row) are mapped
  by a small 1-D CNN to three quantiles (10%, 50%, 90%) of the RUL, capped at ``cap`` and
  trained with the pinball loss in the shared training loop;
* ``augment`` adds synthetic training windows: ``"gaussian"`` or ``"diffusion"`` fits a
  conditional generator on (window, RUL) and samples windows at RUL values drawn from the
  training targets (generative augmentation); ``"jitter"`` adds noisy, rescaled copies of real
  windows (the non-generative peer).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from geniot.core.exceptions import ArtifactError, DataError, NotFittedError
from geniot.core.registry import build_generator
from geniot.nn.rng import resolve_seed, seeded
from geniot.nn.training import LoopConfig, optimizer_step, train_loop

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


def _pinball(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    q = torch.tensor(QUANTILES).view(1, -1)
    diff = y.view(-1, 1) - pred
    return torch.maximum(q * diff, (q - 1) * diff).mean()


class RULEstimator:
    def __init__(
        self,
        *,
        window: int = 30,
        cap: float = 125.0,
        hidden: int = 16,
        epochs: int = 300,
        batch_size: int = 256,
        learning_rate: float = 1e-3,
        max_minutes: float | None = 5.0,
        patience: int | None = 30,
        augment: str | None = None,
        n_synthetic: float = 1.0,
        random_state: int | None = 0,
    ) -> None:
        self.window = window
        self.cap = cap
        self.hidden = hidden
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_minutes = max_minutes
        self.patience = patience
        self.augment = augment
        self.n_synthetic = n_synthetic
        self.random_state = random_state

    _PARAMS = ("window", "cap", "hidden", "epochs", "batch_size", "learning_rate", "max_minutes", "patience",
               "augment", "n_synthetic", "random_state")  # fmt: skip

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

    def _fit_preprocessing(self, frame: pd.DataFrame) -> None:
        settings = [c for c in frame.columns if str(c).startswith("setting")]
        sensors = [c for c in frame.columns if c not in ("unit", "cycle", *settings)]
        values = frame[sensors].astype(float)
        keep = [c for c in sensors if values[c].nunique() > 2 and values[c].std() > 1e-8 * (abs(values[c].mean()) + 1.0)]
        if not keep:
            raise DataError("no sensor varies in the training data")
        self.settings_ = settings
        self.features_ = keep
        # Operating conditions: distinct rounded settings (C-MAPSS has 1 or 6).
        if settings:
            keys = self._condition_keys(frame, settings)
            counts = keys.value_counts()
            conditions = list(counts[counts >= 0.01 * len(frame)].index)
        else:
            keys, conditions = None, []
        self.conditions_ = conditions if len(conditions) > 1 else []
        self.centres_ = {}
        for cond in self.conditions_ or ["*"]:
            rows = values[keep] if cond == "*" else values.loc[keys == cond, keep]
            std = rows.std().to_numpy()
            self.centres_[cond] = (rows.mean().to_numpy(), np.where(std > 0, std, 1.0))

    @staticmethod
    def _condition_keys(frame: pd.DataFrame, settings: list[str]) -> pd.Series:
        # + 0.0 turns -0.0 into 0.0, so that tiny negative settings round to the same key
        return (frame[settings].round(0) + 0.0).astype(str).agg("|".join, axis=1)

    def _normalise(self, frame: pd.DataFrame, source: str | None = None) -> np.ndarray:
        missing = [c for c in self.features_ + self.settings_ if c not in frame]
        if missing:
            raise DataError(f"missing sensor/setting column(s) {missing} that the model was trained on", file=source)
        x = frame[self.features_].to_numpy(dtype=float)
        if not self.conditions_:
            mean, std = self.centres_["*"]
            return (x - mean) / std
        keys = self._condition_keys(frame, self.settings_).to_numpy()
        out = np.empty_like(x)
        known = np.array([self.centres_.get(k) is not None for k in keys])
        if not known.all():
            bad = int(np.flatnonzero(~known)[0])
            raise DataError(f"operating condition {keys[bad]!r} was not seen in training", file=source, row=bad + 1)
        for cond, (mean, std) in self.centres_.items():
            rows = keys == cond
            out[rows] = (x[rows] - mean) / std
        return out

    def _windows(self, frame: pd.DataFrame, x: np.ndarray, *, last_only: bool) -> tuple[np.ndarray, np.ndarray]:
        """Windows ending at every cycle (or each unit's last) and the row index they end at."""
        w = int(self.window)
        out, ends = [], []
        units = frame["unit"].to_numpy()
        starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        stops = np.r_[starts[1:], len(units)]
        for a, b in zip(starts, stops, strict=True):
            seq = x[a:b]
            if len(seq) < w:  # pad a short unit with its first cycle
                seq = np.concatenate([np.repeat(seq[:1], w - len(seq), axis=0), seq])
            view = np.lib.stride_tricks.sliding_window_view(seq, w, axis=0).transpose(0, 2, 1)
            if last_only:
                view = view[-1:]
            out.append(view)
            n = len(view)
            ends.append(np.arange(b - n, b))
        return np.concatenate(out).astype(np.float32), np.concatenate(ends)

    # ------------------------------------------------------------ fit / predict
    def fit(self, frame: pd.DataFrame, *, rul: np.ndarray | None = None, progress=None) -> RULEstimator:
        """Fit on run-to-failure units (RUL = cycles to each unit's last), or on ``rul`` given per row."""
        self._check_frame(frame, training=True)
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        if rul is None:
            last = frame.groupby("unit")["cycle"].transform("max")
            rul = (last - frame["cycle"]).to_numpy(dtype=float)
        y_all = np.minimum(np.asarray(rul, dtype=float), float(self.cap)) / float(self.cap)
        self._fit_preprocessing(frame)
        x = self._normalise(frame)
        windows, ends = self._windows(frame, x, last_only=False)
        y = y_all[ends].astype(np.float32)
        # Early stopping on whole held-out units: windows of one unit overlap, so a random
        # hold-out of windows would only measure memorisation.
        seed = resolve_seed(self.random_state)
        units = np.unique(frame["unit"])
        n_val = int(round(0.15 * len(units))) if len(units) >= 5 else 0
        val_units = np.random.default_rng(seed).choice(units, n_val, replace=False) if n_val else np.array([])
        is_val = np.isin(frame["unit"].to_numpy()[ends], val_units)
        train_w, train_y = self._augmented(windows[~is_val], y[~is_val])
        val_data = {"x": torch.as_tensor(windows[is_val]), "y": torch.as_tensor(y[is_val])} if n_val else None
        with seeded(seed):
            self.module_ = _RULNet(len(self.features_), int(self.window), int(self.hidden))
            optimizer = torch.optim.AdamW(self.module_.parameters(), lr=float(self.learning_rate), weight_decay=1e-4)
            loss = lambda batch: {"loss": _pinball(self.module_(batch["x"]), batch["y"])}  # noqa: E731
            self.history_ = train_loop(
                self.module_,
                {"x": torch.as_tensor(train_w), "y": torch.as_tensor(train_y)},
                step=optimizer_step(self.module_, optimizer, loss),
                validate=lambda batch: float(loss(batch)["loss"]),
                config=LoopConfig(epochs=int(self.epochs), batch_size=int(self.batch_size), max_minutes=self.max_minutes,
                                  patience=self.patience, val_fraction=0.0 if n_val else 0.1),  # fmt: skip
                generator=torch.Generator().manual_seed(seed),
                progress=progress,
                val_data=val_data,
            )
        windows = train_w
        self.module_.eval()
        self.n_training_windows_ = int(len(windows))
        return self

    def _augmented(self, windows: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not self.augment:
            return windows, y
        n = int(round(float(self.n_synthetic) * len(windows)))
        rng = np.random.default_rng(resolve_seed(self.random_state))
        if self.augment == "jitter":
            pick = rng.integers(0, len(windows), n)
            scale = rng.normal(1.0, 0.05, (n, 1, windows.shape[2]))
            extra = windows[pick] * scale + rng.normal(0.0, 0.05, (n,) + windows.shape[1:])
            return np.concatenate([windows, extra.astype(np.float32)]), np.concatenate([y, y[pick]])
        if self.augment not in ("gaussian", "diffusion", "vae"):
            raise DataError(f"augment must be None, 'jitter', 'gaussian', 'diffusion' or 'vae', got {self.augment!r}")
        params = {} if self.augment == "gaussian" else {"max_minutes": self.max_minutes, "random_state": self.random_state}
        gen = build_generator({"name": self.augment, "params": params})
        gen.fit(windows.astype(np.float64), conditions=y[:, None].astype(np.float64))
        labels = rng.choice(y, n)
        extra = gen.sample(n, conditions=labels[:, None].astype(np.float64), random_state=rng.integers(2**31))
        return np.concatenate([windows, extra.astype(np.float32)]), np.concatenate([y, labels.astype(np.float32)])

    def predict(self, frame: pd.DataFrame, *, source: str | None = None) -> pd.DataFrame:
        """RUL at each unit's last cycle: unit, rul (median), lower (10%), upper (90%)."""
        if not hasattr(self, "module_"):
            raise NotFittedError("RULEstimator is not fitted yet; call fit first")
        self._check_frame(frame, training=False)
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        x = self._normalise(frame, source)
        windows, ends = self._windows(frame, x, last_only=True)
        with torch.no_grad():
            q = self.module_(torch.as_tensor(windows)).numpy() * float(self.cap)
        q = np.clip(q, 0.0, float(self.cap))
        return pd.DataFrame({"unit": frame["unit"].to_numpy()[ends], "rul": q[:, 1], "lower": q[:, 0], "upper": q[:, 2]})

    def predict_trajectory(self, frame: pd.DataFrame) -> pd.DataFrame:
        """RUL at every cycle of every unit (for plots and for checking that it decreases)."""
        frame = frame.sort_values(["unit", "cycle"], kind="stable").reset_index(drop=True)
        windows, ends = self._windows(frame, self._normalise(frame), last_only=False)
        with torch.no_grad():
            q = np.clip(self.module_(torch.as_tensor(windows)).numpy() * float(self.cap), 0.0, float(self.cap))
        return pd.DataFrame({"unit": frame["unit"].to_numpy()[ends], "cycle": frame["cycle"].to_numpy()[ends],
                             "rul": q[:, 1], "lower": q[:, 0], "upper": q[:, 2]})  # fmt: skip

    # ------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "kind": "rul",
            "params": {k: getattr(self, k) for k in self._PARAMS},
            "settings_": self.settings_,
            "features_": self.features_,
            "conditions_": self.conditions_,
            "centres_": {k: [m.tolist(), s.tolist()] for k, (m, s) in self.centres_.items()},
            "history_": self.history_,
        }
        (path / "rul.json").write_text(json.dumps(state, indent=2))
        torch.save(self.module_.state_dict(), path / "weights.pt")
        return path

    @classmethod
    def load(cls, path) -> RULEstimator:
        path = Path(path)
        try:
            state = json.loads((path / "rul.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{path} is not a RUL model folder ({exc})") from None
        est = cls(**state["params"])
        est.settings_, est.features_, est.conditions_ = state["settings_"], state["features_"], state["conditions_"]
        est.centres_ = {k: (np.asarray(m), np.asarray(s)) for k, (m, s) in state["centres_"].items()}
        est.history_ = state.get("history_", [])
        with seeded(0):
            est.module_ = _RULNet(len(est.features_), int(est.window), int(est.hidden))
        est.module_.load_state_dict(torch.load(path / "weights.pt", map_location="cpu", weights_only=True))
        est.module_.eval()
        return est
