"""RawFaultCNN: fault classes from raw vibration windows with a small 1-D CNN.

Unlike :class:`~geniot.predictors.faults.FaultClassifier` (fixed spectral features), this net
learns its own features, so with few windows per class the training set matters, and so does
augmentation. The net is WDCNN-like (a wide, strided first convolution, then small ones) and
ends in global average pooling, so it trains on crops of ``crop`` samples and predicts whole
windows of any length >= ``crop``. Signals are divided by one scale (the RMS of the training
windows), not per window: amplitude tells fault sizes apart.

``augment``:

* ``None``: the non-overlapping crops of the real windows, nothing else;
* ``"jitter"``: every batch is fresh random-offset crops, rescaled and with noise added;
* ``"smote"``: plus ``n_synthetic`` mixes of two real windows per class (none for a class with
  one window: counted in ``smote_skipped_``);
* a generator name or spec (``"gaussian"``, ``{"name": "vae", ...}``): plus ``n_synthetic``
  crops per class sampled from a class-conditional generator fitted on sub-windows;
* ``"jitter+<generator>"`` (e.g. ``"jitter+gaussian"``): half of every batch is fresh jitter
  crops of the real windows, half is drawn from the generator's samples (the generator's own
  contribution on top of the peer).

Every arm trains for the same number of steps on batches of the same size. ``n_models`` nets
(different initialisations and batches, the same training pool) are averaged: one small net
trained on nine windows swings by whole classes from one initialisation to the next.
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError, NotFittedError
from geniot.core.task import BaseTask
from geniot.predictors.augmentation import (
    ClassConditionalAugmenter,
    fixed_crops,
    shift_scale_jitter,
    smote_windows,
)


def _net(n_classes: int, width: int):
    import torch.nn as nn

    return nn.Sequential(
        nn.Conv1d(1, width, 64, stride=8, padding=28), nn.BatchNorm1d(width), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(width, 2 * width, 5, padding=2), nn.BatchNorm1d(2 * width), nn.ReLU(), nn.MaxPool1d(2),
        nn.Conv1d(2 * width, 2 * width, 5, padding=2), nn.BatchNorm1d(2 * width), nn.ReLU(),
        nn.AdaptiveAvgPool1d(1), nn.Flatten(), nn.Dropout(0.3), nn.Linear(2 * width, n_classes),
    )  # fmt: skip


class RawFaultCNN(BaseTask):
    def __init__(self, *, crop: int = 512, steps: int = 300, batch_size: int = 64, width: int = 16, lr: float = 3e-3,
                 augment=None, n_synthetic: int = 200, n_models: int = 1,
                 random_state: int | None = 0) -> None:  # fmt: skip
        self.crop = crop
        self.steps = steps
        self.batch_size = batch_size
        self.width = width
        self.lr = lr
        self.augment = augment
        self.n_synthetic = n_synthetic
        self.n_models = n_models
        self.random_state = random_state

    def _validate(self) -> None:
        if int(self.crop) < 64 or int(self.steps) < 1 or int(self.batch_size) < 2 or int(self.width) < 1 or int(self.n_models) < 1:
            raise DataError(f"crop >= 64, steps >= 1, batch_size >= 2, width >= 1, n_models >= 1 needed, got {self.crop}, "
                            f"{self.steps}, {self.batch_size}, {self.width}, {self.n_models}")  # fmt: skip
        if isinstance(self.augment, str) and (self.augment in ("jitter", "smote") or self.augment.startswith("jitter+")):
            return
        if self.augment is not None and not isinstance(self.augment, (str, dict)):
            raise DataError(f"augment must be None, 'jitter', 'smote' or a generator spec, got {self.augment!r}")

    def _pool(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator):
        """The fixed training pool (None for ``jitter``, which draws fresh crops per batch)."""
        px, py = fixed_crops(x, y, self.crop)
        if self._mixed:  # the real windows come in through the jitter half of each batch
            px, py = px[:0], py[:0]
        self.smote_skipped_, self.generator_seconds_ = [], 0.0
        if self.augment is None:
            return px, py
        if self.augment == "smote":
            sx, sy, self.smote_skipped_ = smote_windows(x, y, int(self.n_synthetic), rng)
            if len(sx):
                cx, cy = fixed_crops(sx, sy, self.crop)
                px, py = np.concatenate([px, cx]), np.concatenate([py, cy])
            return px, py
        model = self.augment[len("jitter+"):] if self._mixed else self.augment
        aug = ClassConditionalAugmenter(self.crop, model=model).fit(x, y)
        self.generator_seconds_ = float(sum(aug.fit_seconds_.values()))
        gx, gy = aug.sample(int(self.n_synthetic), rng)
        return np.concatenate([px, gx]), np.concatenate([py, gy])

    def fit(self, windows, labels) -> RawFaultCNN:
        import torch

        self.validate()
        x = np.asarray(windows, dtype=np.float64)
        y = np.asarray(labels)
        if x.ndim != 2 or x.shape[1] < int(self.crop):
            raise DataError(f"windows must be (n, length) with length >= crop {self.crop}, got {x.shape}")
        self.classes_, yi = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise DataError("at least two fault classes are needed to train a classifier")
        self.scale_ = float(np.sqrt(np.mean((x - x.mean(axis=1, keepdims=True)) ** 2))) or 1.0
        x = (x - x.mean(axis=1, keepdims=True)) / self.scale_
        rng = np.random.default_rng(self.random_state)
        torch.manual_seed(int(rng.integers(2**31)))
        self._mixed = isinstance(self.augment, str) and self.augment.startswith("jitter+")
        pool = None if self.augment == "jitter" else self._pool(x, yi, rng)
        if self.augment == "jitter":
            self.smote_skipped_, self.generator_seconds_ = [], 0.0
        self.nets_ = [self._train(x, yi, pool, rng) for _ in range(int(self.n_models))]
        self.training_size_ = None if pool is None else len(pool[0])
        return self

    def _train(self, x: np.ndarray, yi: np.ndarray, pool, rng: np.random.Generator):
        import torch

        net = _net(len(self.classes_), int(self.width)).float()
        opt = torch.optim.Adam(net.parameters(), lr=float(self.lr), weight_decay=1e-4)
        loss_fn = torch.nn.CrossEntropyLoss()
        net.train()
        for _ in range(int(self.steps)):
            if pool is None:
                bx, by = shift_scale_jitter(x, yi, int(self.batch_size), int(self.crop), rng)
            elif self._mixed:
                half = int(self.batch_size) // 2
                jx, jy = shift_scale_jitter(x, yi, half, int(self.crop), rng)
                pick = rng.integers(0, len(pool[0]), int(self.batch_size) - half)
                bx, by = np.concatenate([jx, pool[0][pick]]), np.concatenate([jy, pool[1][pick]])
            else:
                pick = rng.integers(0, len(pool[0]), int(self.batch_size))
                bx, by = pool[0][pick], pool[1][pick]
            opt.zero_grad()
            loss = loss_fn(net(torch.from_numpy(bx[:, None, :].astype(np.float32))),
                           torch.from_numpy(np.asarray(by, dtype=np.int64)))  # fmt: skip
            loss.backward()
            opt.step()
        return net.eval()

    def predict_proba(self, windows) -> np.ndarray:
        import torch

        if not hasattr(self, "nets_"):
            raise NotFittedError("RawFaultCNN is not fitted yet; call fit first")
        x = np.asarray(windows, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] < int(self.crop):
            raise DataError(f"windows must be (n, length) with length >= crop {self.crop}, got {x.shape}")
        x = (x - x.mean(axis=1, keepdims=True)) / self.scale_
        t = torch.from_numpy(x[:, None, :].astype(np.float32))
        with torch.no_grad():
            out = [np.concatenate([torch.softmax(net(t[i : i + 256]), dim=1).numpy() for i in range(0, len(t), 256)])
                   for net in self.nets_]  # fmt: skip
        return np.mean(out, axis=0)

    def predict(self, windows) -> np.ndarray:
        return self.classes_[self.predict_proba(windows).argmax(axis=1)]
