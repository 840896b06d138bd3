"""FaultClassifier: fault classes from raw vibration windows.

Features per window: the log power spectrum (Hann window, pooled into ``n_bands`` bands of
equal width up to the Nyquist frequency) and four time-domain statistics (RMS, kurtosis, crest
factor, skewness), standardised; a multinomial logistic regression on top (fast, hard to
overfit with few examples). ``augment`` adds synthetic feature vectors for every class before
the fit: ``"gaussian"`` fits the Gaussian baseline per class (generative, class-conditional);
``"smote"`` interpolates between random pairs of the same class (the non-generative peer).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy.stats import kurtosis, skew
from sklearn.linear_model import LogisticRegression

from geniot.core.exceptions import ArtifactError, DataError, NotFittedError
from geniot.core.task import BaseTask
from geniot.models.gaussian import GaussianBaseline


def spectral_features(windows: np.ndarray, n_bands: int = 128) -> np.ndarray:
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 2 or w.shape[1] < 2 * n_bands:
        raise DataError(f"windows must be (n, length) with length >= {2 * n_bands}, got {w.shape}")
    centred = w - w.mean(axis=1, keepdims=True)
    power = np.abs(np.fft.rfft(centred * np.hanning(w.shape[1]), axis=1)) ** 2
    edges = np.linspace(1, power.shape[1], n_bands + 1).astype(int)
    bands = np.stack([power[:, a:b].mean(axis=1) for a, b in zip(edges[:-1], edges[1:], strict=True)], axis=1)
    rms = np.sqrt((centred**2).mean(axis=1))
    crest = np.abs(centred).max(axis=1) / np.maximum(rms, 1e-12)
    stats = np.stack([np.log(rms + 1e-12), kurtosis(centred, axis=1), np.log(crest), skew(centred, axis=1)], axis=1)
    return np.concatenate([np.log(bands + 1e-12), stats], axis=1)


class FaultClassifier(BaseTask):
    def __init__(self, *, n_bands: int = 128, C: float = 1.0, augment: str | None = None, n_synthetic: int = 50,
                 random_state: int | None = 0) -> None:  # fmt: skip
        self.n_bands = n_bands
        self.C = C
        self.augment = augment
        self.n_synthetic = n_synthetic
        self.random_state = random_state

    def _validate(self) -> None:
        if self.augment not in (None, "gaussian", "smote"):
            raise DataError(f"augment must be None, 'gaussian' or 'smote', got {self.augment!r}")
        if int(self.n_bands) < 1:
            raise DataError(f"n_bands must be at least 1, got {self.n_bands}")

    def fit(self, windows: np.ndarray, labels) -> FaultClassifier:
        self.validate()
        y = np.asarray(labels)
        if len(y) != len(windows):
            raise DataError(f"{len(windows)} windows but {len(y)} labels")
        classes, counts = np.unique(y, return_counts=True)
        if len(classes) < 2:
            raise DataError("at least two fault classes are needed to train a classifier")
        x = spectral_features(windows, self.n_bands)
        self.mean_, std = x.mean(axis=0), x.std(axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        z = (x - self.mean_) / self.scale_
        z, y = self._augmented(z, y, classes)
        self.model_ = LogisticRegression(C=float(self.C), max_iter=2000)
        self.model_.fit(z, y)
        self.classes_ = self.model_.classes_
        return self

    def _augmented(self, z: np.ndarray, y: np.ndarray, classes: np.ndarray):
        if not self.augment:
            return z, y
        rng = np.random.default_rng(self.random_state)
        extra_x, extra_y = [], []
        for c in classes:
            zc = z[y == c]
            n = int(self.n_synthetic)
            if self.augment == "gaussian":
                gen = GaussianBaseline().fit(zc[:, :, None])  # a feature vector as a (features x 1) window
                extra_x.append(gen.sample(n, random_state=rng.integers(2**31))[:, :, 0])
            elif self.augment == "smote":
                i, j = rng.integers(0, len(zc), n), rng.integers(0, len(zc), n)
                t = rng.random((n, 1))
                extra_x.append(zc[i] + t * (zc[j] - zc[i]))
            else:
                raise DataError(f"augment must be None, 'gaussian' or 'smote', got {self.augment!r}")
            extra_y.append(np.full(n, c))
        return np.concatenate([z, *extra_x]), np.concatenate([y, *extra_y])

    def _z(self, windows) -> np.ndarray:
        if not hasattr(self, "model_"):
            raise NotFittedError("FaultClassifier is not fitted yet; call fit first")
        return (spectral_features(windows, self.n_bands) - self.mean_) / self.scale_

    def predict(self, windows) -> np.ndarray:
        return self.model_.predict(self._z(windows))

    def predict_proba(self, windows) -> np.ndarray:
        return self.model_.predict_proba(self._z(windows))

    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        state = {
            "params": self.get_params(deep=False),
            "mean_": self.mean_.tolist(), "scale_": self.scale_.tolist(), "classes_": self.classes_.tolist(),
            "coef_": self.model_.coef_.tolist(), "intercept_": self.model_.intercept_.tolist(),
        }  # fmt: skip
        (path / "faults.json").write_text(json.dumps(state))
        return path

    @classmethod
    def load(cls, path) -> FaultClassifier:
        try:
            state = json.loads((Path(path) / "faults.json").read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{path} is not a fault classifier folder ({exc})") from None
        clf = cls(**state["params"])
        clf.mean_, clf.scale_ = np.asarray(state["mean_"]), np.asarray(state["scale_"])
        clf.model_ = LogisticRegression()
        clf.model_.classes_ = clf.classes_ = np.asarray(state["classes_"])
        clf.model_.coef_, clf.model_.intercept_ = np.asarray(state["coef_"]), np.asarray(state["intercept_"])
        return clf
