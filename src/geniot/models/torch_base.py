"""Shared machinery of the torch generators: scaling, masked tensors, the loop, persistence.

A subclass builds its module in ``_build_module`` from the data's shape, defines its loss in
``_loss`` (or a whole optimisation step in ``_make_step`` for GANs), and draws scaled windows
in ``_sample_scaled``. Everything here works in scaled units in [-1, 1]; the public verbs
take and return the data's own units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import ArtifactError
from geniot.nn.rng import resolve_seed, seeded
from geniot.nn.training import LoopConfig, optimizer_step, train_loop


class TorchGenerator(BaseGenerator):
    """Base for generators backed by a torch module (``module_``)."""

    # Subclasses list their own keyword-only hyperparameters and pass these through.
    def __init__(
        self,
        *,
        epochs: int = 200,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        max_minutes: float | None = None,
        patience: int | None = 30,
        val_fraction: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_minutes = max_minutes
        self.patience = patience
        self.val_fraction = val_fraction
        self.random_state = random_state

    # ------------------------------------------------------------ scaling
    def _fit_scaler(self, X: np.ndarray) -> None:
        lo = np.nanmin(X, axis=(0, 1))
        hi = np.nanmax(X, axis=(0, 1))
        span = hi - lo
        self.data_min_ = lo
        # A constant channel maps to 0 and comes back exactly.
        self.data_scale_ = np.where(span > 0, span, 1.0)

    def _scale(self, X: np.ndarray) -> np.ndarray:
        return 2.0 * (X - self.data_min_) / self.data_scale_ - 1.0

    def _unscale(self, Z: np.ndarray) -> np.ndarray:
        return (Z + 1.0) / 2.0 * self.data_scale_ + self.data_min_

    def _fit_condition_scaler(self, conditions: np.ndarray | None) -> None:
        if conditions is None:
            self.cond_mean_ = self.cond_std_ = None
            return
        self.cond_mean_ = conditions.mean(axis=0)
        std = conditions.std(axis=0)
        self.cond_std_ = np.where(std > 0, std, 1.0)

    def _to_tensors(self, X: np.ndarray, mask: np.ndarray, conditions: np.ndarray | None) -> dict[str, torch.Tensor]:
        """Scaled windows with gaps set to 0, the mask, and standardised conditions (float32)."""
        Z = np.where(mask, self._scale(np.where(mask, X, 0.0)), 0.0)
        data = {
            "x": torch.as_tensor(Z, dtype=torch.float32),
            "mask": torch.as_tensor(mask, dtype=torch.float32),
        }
        if conditions is not None:
            data["cond"] = self._cond_tensor(conditions)
        return data

    def _cond_tensor(self, conditions: np.ndarray | None) -> torch.Tensor | None:
        """Conditions standardised with the training statistics, as a float32 tensor."""
        if conditions is None:
            return None
        return torch.as_tensor((conditions - self.cond_mean_) / self.cond_std_, dtype=torch.float32)

    # ------------------------------------------------------------ hooks for subclasses
    def _build_module(self, n_steps: int, n_channels: int, n_conditions: int) -> nn.Module:
        raise NotImplementedError

    def _loss(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        raise NotImplementedError

    def _make_step(self):
        """One optimisation step on a batch; GANs override this, not the loop."""
        optimizer = torch.optim.Adam(self.module_.parameters(), lr=self.learning_rate)
        return optimizer_step(self.module_, optimizer, self._loss)

    def _validate(self, batch: dict[str, torch.Tensor]) -> float:
        return float(self._loss(batch)["loss"])

    def _sample_scaled(self, n: int, cond: torch.Tensor | None) -> torch.Tensor:
        raise NotImplementedError

    def _loop_config(self) -> LoopConfig:
        return LoopConfig(
            epochs=self.epochs,
            batch_size=self.batch_size,
            max_minutes=self.max_minutes,
            patience=self.patience,
            val_fraction=self.val_fraction,
        )

    # ------------------------------------------------------------ contract hooks
    def _fit(self, X, mask, conditions, progress) -> None:
        self._fit_scaler(X)
        self._fit_condition_scaler(conditions)
        seed = resolve_seed(self.random_state)
        data = self._to_tensors(X, mask, conditions)
        with seeded(seed):
            self.module_ = self._build_module(X.shape[1], X.shape[2], self.n_conditions_)
            generator = torch.Generator().manual_seed(seed)
            self.history_ = train_loop(
                self.module_,
                data,
                step=self._make_step(),
                validate=self._validate,
                config=self._loop_config(),
                generator=generator,
                progress=progress,
            )
        self.module_.eval()

    def _sample(self, n, conditions, random_state):
        cond = self._cond_tensor(conditions)
        chunks = []
        with seeded(random_state), torch.no_grad():
            for start in range(0, n, 4096):
                c = None if cond is None else cond[start : start + 4096]
                chunks.append(self._sample_scaled(min(4096, n - start), c).double().numpy())
        return self._unscale(np.concatenate(chunks, axis=0))

    # ------------------------------------------------------------ persistence
    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        arrays = {"data_min_": self.data_min_, "data_scale_": self.data_scale_}
        if self.cond_mean_ is not None:
            arrays.update(cond_mean_=self.cond_mean_, cond_std_=self.cond_std_)
        return {}, arrays

    def _set_state(self, state, arrays, weights) -> None:
        self.data_min_ = arrays["data_min_"]
        self.data_scale_ = arrays["data_scale_"]
        self.cond_mean_ = arrays.get("cond_mean_")
        self.cond_std_ = arrays.get("cond_std_")
        with seeded(0):  # initial weights are overwritten; keep the caller's RNG untouched
            self.module_ = self._build_module(
                int(state["n_steps_"]), int(state["n_channels_"]), int(state["n_conditions_"])
            )
        if weights is None:
            raise ArtifactError(f"{type(self).__name__}: the model's weights are missing (weights.pt)")
        try:
            self.module_.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()})
        except RuntimeError as exc:  # wrong keys or shapes: not this model's weights
            raise ArtifactError(f"{type(self).__name__}: weights do not fit the model ({exc})"[:500]) from None
        self.module_.eval()

    def _get_weights(self) -> dict[str, np.ndarray]:
        return {k: v.detach().cpu().numpy().copy() for k, v in self.module_.state_dict().items()}

    @classmethod
    def _write_weights(cls, file: Path, weights: dict[str, np.ndarray]) -> None:
        torch.save({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in weights.items()}, file)

    @classmethod
    def _read_weights(cls, folder: Path) -> dict[str, np.ndarray] | None:
        file = Path(folder) / "weights.pt"
        if not file.is_file():
            raise ArtifactError(f"{folder}: weights.pt is missing")
        try:
            loaded = torch.load(file, map_location="cpu", weights_only=True)
        except Exception as exc:  # noqa: BLE001 - weights_only refuses anything but tensors
            raise ArtifactError(f"{folder}: weights.pt is not a plain state_dict ({exc})"[:500]) from None
        return {k: v.detach().cpu().numpy() for k, v in loaded.items()}
