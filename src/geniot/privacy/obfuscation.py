"""Attribute obfuscation: release windows from which a private attribute is hard to predict.

The private attribute is a label per window that the data owner does not want to reveal, e.g.
which asset (customer, site) a window came from, or the operating mode. Assets differ in their
levels, spreads and cross-sensor relationships; those differences are what an attacker uses.

:class:`AttributeObfuscator` maps every group's windows onto the pooled statistics:

* ``method="standardize"``: each group's channels are shifted and scaled to the pooled mean and
  standard deviation of each channel (first two moments per channel);
* ``method="whiten"``: each group's whole windows (steps x channels, flattened) are whitened with
  the group's own mean and (Ledoit-Wolf shrunk) covariance and recoloured with the pooled ones,
  so that means, spreads, cross-channel and lagged correlations all match across groups;
* ``noise_floor``: after the map, white noise is added per group and channel so that every
  group's step-to-step variance (its sensor noise floor, a strong fingerprint of a device) is
  raised to ``noise_floor`` times the largest group's.

Statistics are learned from each group's reference (e.g. normal) windows and kept by the owner
(they are the key that would undo the release). An anomaly is a departure from a group's own
normal behaviour, and both maps keep it one, so a detector trained on the release still works.

:func:`attribute_leakage` measures what is left: a random-forest attacker trained on part of
each group's released windows (the earlier part: windows are assumed in time order per group)
predicts the group of the later part; its accuracy against chance is the leakage.
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError, NotFittedError
from geniot.core.validation import check_random_state, check_windows

__all__ = ["AttributeObfuscator", "attribute_leakage", "window_features"]

_METHODS = ("standardize", "whiten")


def _check_groups(X: np.ndarray, groups) -> np.ndarray:
    g = np.asarray(groups)
    if g.shape != (X.shape[0],):
        raise DataError(f"groups must hold one label per window ({X.shape[0]}), got shape {g.shape}")
    return g


def _sqrt_psd(C: np.ndarray, inverse: bool = False) -> np.ndarray:
    w, V = np.linalg.eigh(C)
    w = np.maximum(w, 1e-10 * max(float(w.max()), 1e-300))
    return (V * w ** (-0.5 if inverse else 0.5)) @ V.T


class AttributeObfuscator:
    """Map each group's windows onto pooled statistics so that the group is hard to tell.

    ``fit(X, groups)`` learns per-group and pooled statistics from reference windows (no gaps);
    ``transform(X, groups)`` releases windows of known groups (NaN gaps stay gaps).
    """

    def __init__(self, *, method: str = "whiten", noise_floor: float | None = None) -> None:
        self.method = method
        self.noise_floor = noise_floor

    def fit(self, X, groups) -> AttributeObfuscator:
        if self.method not in _METHODS:
            raise DataError(f"method must be one of {_METHODS}, got {self.method!r}")
        X = check_windows(X, allow_nan=False)
        g = _check_groups(X, groups)
        from sklearn.covariance import LedoitWolf

        self.groups_ = sorted(set(g.tolist()), key=str)
        self.stats_: dict = {}
        for label in self.groups_:
            Xg = X[g == label]
            if len(Xg) < 2:
                raise DataError(f"group {label!r} has {len(Xg)} reference window(s); at least 2 are needed")
            if self.method == "standardize":
                flat = Xg.reshape(-1, X.shape[2])
                std = flat.std(axis=0)
                self.stats_[label] = (flat.mean(axis=0), np.where(std > 0, std, 1.0))
            else:
                flat = Xg.reshape(len(Xg), -1)
                cov = LedoitWolf().fit(flat).covariance_
                self.stats_[label] = (flat.mean(axis=0), cov)
        means = np.mean([m for m, _ in self.stats_.values()], axis=0)
        if self.method == "standardize":
            spread = np.mean([s for _, s in self.stats_.values()], axis=0)
            self.pooled_ = (means, spread)
        else:
            cov = np.mean([c for _, c in self.stats_.values()], axis=0)
            root = _sqrt_psd(cov)
            self.maps_ = {k: root @ _sqrt_psd(c, inverse=True) for k, (_, c) in self.stats_.items()}
            self.pooled_ = (means, cov)
        self.n_steps_, self.n_channels_ = X.shape[1], X.shape[2]
        self.noise_sd_ = {}
        if self.noise_floor is not None:
            if not float(self.noise_floor) >= 1.0:
                raise DataError(f"noise_floor must be at least 1 (times the noisiest group), got {self.noise_floor}")
            step_var = {k: self._step_variance(self._map(X[g == k], k)) for k in self.groups_}
            top = float(self.noise_floor) * np.max(list(step_var.values()), axis=0)
            # Differencing doubles white noise variance: add (top - own) / 2.
            self.noise_sd_ = {k: np.sqrt(np.maximum(top - v, 0.0) / 2.0) for k, v in step_var.items()}
        return self

    @staticmethod
    def _step_variance(X: np.ndarray) -> np.ndarray:
        return np.nanmedian(np.nanvar(np.diff(X, axis=1), axis=1), axis=0)

    def _map(self, Xg: np.ndarray, label) -> np.ndarray:
        mean, second = self.stats_[label]
        if self.method == "standardize":
            return (Xg - mean) / second * self.pooled_[1] + self.pooled_[0]
        flat = Xg.reshape(len(Xg), -1)
        gaps = np.isnan(flat)
        # A gap is filled with the group mean for the map, and stays a gap afterwards.
        mapped = np.where(gaps, 0.0, flat - mean) @ self.maps_[label].T + self.pooled_[0]
        return np.where(gaps, np.nan, mapped).reshape(Xg.shape)

    def transform(self, X, groups, *, random_state=None) -> np.ndarray:
        if not hasattr(self, "stats_"):
            raise NotFittedError("AttributeObfuscator is not fitted yet; call fit first")
        X = check_windows(X)
        if X.shape[1:] != (self.n_steps_, self.n_channels_):
            raise DataError(
                f"windows are shaped {X.shape[1:]}, the obfuscator was fitted on {(self.n_steps_, self.n_channels_)}"
            )
        g = _check_groups(X, groups)
        unknown = sorted({str(v) for v in set(g.tolist())} - {str(v) for v in self.groups_})
        if unknown:
            raise DataError(f"group(s) {unknown} were not seen in fit; known: {self.groups_}")
        rng = check_random_state(random_state)
        out = np.empty_like(X)
        for label in self.groups_:
            rows = g == label
            if not rows.any():
                continue
            out[rows] = self._map(X[rows], label)
            if label in self.noise_sd_:
                out[rows] += rng.standard_normal(out[rows].shape) * self.noise_sd_[label]
        return out

    def fit_transform(self, X, groups, *, random_state=None) -> np.ndarray:
        return self.fit(X, groups).transform(X, groups, random_state=random_state)


def window_features(X: np.ndarray) -> np.ndarray:
    """Per window: channel means, spreads, step-to-step spreads and cross-channel correlations."""
    X = check_windows(X, allow_nan=False)
    mean, std = X.mean(axis=1), X.std(axis=1)
    step = np.diff(X, axis=1).std(axis=1)
    iu = np.triu_indices(X.shape[2], 1)
    centred = X - mean[:, None, :]
    cov = np.einsum("ntc,ntd->ncd", centred, centred) / X.shape[1]
    denom = np.sqrt(np.einsum("ncc->nc", cov))
    corr = cov / np.maximum(denom[:, :, None] * denom[:, None, :], 1e-12)
    return np.nan_to_num(np.concatenate([mean, std, step, corr[:, iu[0], iu[1]]], axis=1))


def attribute_leakage(X, groups, *, train_share: float = 0.6, random_state=0) -> dict:
    """How well an attacker predicts each window's group: accuracy against chance.

    Per group, the first ``train_share`` of its windows (time order) train a random forest on
    :func:`window_features`; the rest, after a gap of one window, are predicted. ``chance`` is
    the accuracy of always guessing the most common test group.
    """
    from sklearn.ensemble import RandomForestClassifier

    X = check_windows(X, allow_nan=False)
    g = _check_groups(X, groups)
    labels = sorted(set(g.tolist()), key=str)
    if len(labels) < 2:
        raise DataError("attribute leakage needs at least two groups")
    train_idx, test_idx = [], []
    for label in labels:
        idx = np.flatnonzero(g == label)
        cut = int(len(idx) * float(train_share))
        if cut < 2 or len(idx) - cut - 1 < 1:
            raise DataError(f"group {label!r} has too few windows ({len(idx)}) to train and test an attacker")
        train_idx.append(idx[:cut])
        test_idx.append(idx[cut + 1 :])
    tr, te = np.concatenate(train_idx), np.concatenate(test_idx)
    feats = window_features(X)
    clf = RandomForestClassifier(n_estimators=200, random_state=random_state, n_jobs=1)
    clf.fit(feats[tr], g[tr])
    acc = float((clf.predict(feats[te]) == g[te]).mean())
    _, counts = np.unique(g[te], return_counts=True)
    return {"attacker_accuracy": acc, "chance_accuracy": float(counts.max() / counts.sum()),
            "n_groups": len(labels), "n_test_windows": int(len(te))}
