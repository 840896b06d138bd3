"""Training-set augmentation for RUL regression on windows with an RUL label, side by side.

``RULEstimator`` already has the non-generative peer ``"jitter"`` (rescaled, noisy copies of
real windows) and a linearly conditioned generator (``"gaussian"``: one joint normal over the
window and its RUL). This module adds what a benchmark needs beside them:

* :func:`smote_rul` (non-generative peer): SMOTE for regression; a convex mix of two real
  windows of one RUL bin, the label mixed with the same weight. The partner is drawn from the
  whole bin, not from the nearest windows in feature space: those are the anchor's own unit
  shifted by a cycle, and mixing them adds nearly nothing;
* :class:`RULConditionalSampler` (generative): a registry generator conditioned on the RUL
  through a basis that lets the window's mean follow the RUL non-linearly (degradation is
  flat, then steep near failure, and a joint normal is linear in its condition):
  ``basis="rbf"``: one generator conditioned on Gaussian bumps over the RUL;
  ``basis="bins"``: one generator per RUL bin (its own covariance: the spread between units
  grows near failure), conditioned on the RUL inside the bin.

Windows are (n, steps, sensors) float arrays, labels the RUL (any scale, e.g. RUL / cap).
"""

from __future__ import annotations

import time

import numpy as np

from geniot.core.exceptions import DataError
from geniot.models.registry import build_generator


def _check(windows, y) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(windows, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if x.ndim != 3:
        raise DataError(f"windows must be (n, steps, sensors), got shape {x.shape}")
    if y.shape != (len(x),):
        raise DataError(f"{len(x)} windows but labels of shape {y.shape}")
    if len(x) < 2:
        raise DataError(f"at least two windows are needed to augment, got {len(x)}")
    if not (np.isfinite(x).all() and np.isfinite(y).all()):
        raise DataError("windows and labels must be finite (no NaN or inf)")
    return x, y


def rul_bins(y, n_bins: int) -> np.ndarray:
    """Bin index of every label: quantile edges, so bins hold similar counts (the capped
    early-life labels share one value and fall into one bin)."""
    y = np.asarray(y, dtype=np.float64)
    if int(n_bins) < 1:
        raise DataError(f"n_bins must be at least 1, got {n_bins!r}")
    edges = np.unique(np.quantile(y, np.linspace(0, 1, int(n_bins) + 1)[1:-1]))
    return np.searchsorted(edges, y, side="right")


def smote_rul(
    windows, y, n: int, rng: np.random.Generator, *, n_bins: int = 20
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` mixes ``a + t (b - a)`` of two real windows of one RUL bin, labels mixed alike."""
    x, y = _check(windows, y)
    bins = rul_bins(y, n_bins)
    members = {b: np.flatnonzero(bins == b) for b in np.unique(bins)}
    anchors = rng.integers(0, len(x), int(n))
    partners = np.array([rng.choice(members[bins[i]]) for i in anchors], dtype=int)
    t = rng.uniform(0.0, 1.0, int(n))
    out = x[anchors] + t[:, None, None] * (x[partners] - x[anchors])
    return out, y[anchors] + t * (y[partners] - y[anchors])


def rbf_basis(y, centres: np.ndarray, width: float) -> np.ndarray:
    """Gaussian bumps of the labels at ``centres`` plus the label itself: (n, len(centres) + 1)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1, 1)
    return np.concatenate([y, np.exp(-0.5 * ((y - centres[None, :]) / width) ** 2)], axis=1)


class RULConditionalSampler:
    """A registry generator (``model``: name or spec) fitted on (window, RUL) and sampled at
    labels drawn from the training labels (so the synthetic windows have the real RUL mix).

    ``fit_cpu_s_`` is the process time of the fit; ``bin_counts_`` the windows per generator.
    """

    def __init__(
        self, model="gaussian", *, basis: str = "bins", n_bins: int = 8, min_bin: int = 50
    ) -> None:
        if basis not in ("rbf", "bins"):
            raise DataError(f"basis must be 'rbf' or 'bins', got {basis!r}")
        self.model = model
        self.basis = basis
        self.n_bins = n_bins
        self.min_bin = min_bin

    def _condition(self, y: np.ndarray) -> np.ndarray:
        if self.basis == "rbf":
            return rbf_basis(y, self.centres_, self.width_)
        return y.reshape(-1, 1)

    def fit(self, windows, y) -> RULConditionalSampler:
        x, y = _check(windows, y)
        c0 = time.process_time()
        self.y_ = y
        spec = self.model if isinstance(self.model, dict) else {"name": self.model, "params": {}}
        if self.basis == "rbf":
            self.centres_ = np.quantile(y, np.linspace(0, 1, int(self.n_bins)))
            self.width_ = float(max(np.ptp(y), 1e-6) / max(int(self.n_bins) - 1, 1))
            gen = build_generator(spec)
            gen.fit(x, conditions=self._condition(y))
            self.generators_ = {0: gen}
            self.bins_ = np.zeros(len(y), dtype=int)
        else:
            bins = rul_bins(y, self.n_bins)
            # Merge a bin with too few windows into its neighbour below (the lowest into the one
            # above): a covariance of a few overlapping windows of one unit is no model of a bin.
            for b in np.unique(bins)[::-1]:
                if (bins == b).sum() < int(self.min_bin) and b > bins.min():
                    bins[bins == b] = bins[bins < b].max()
            low = bins.min()
            if (bins == low).sum() < int(self.min_bin) and (bins > low).any():
                bins[bins == low] = bins[bins > low].min()
            self.bins_ = bins
            self.generators_ = {}
            for b in np.unique(bins):
                gen = build_generator(spec)
                rows = bins == b
                gen.fit(x[rows], conditions=self._condition(y[rows]))
                self.generators_[int(b)] = gen
        self.bin_counts_ = {b: int((self.bins_ == b).sum()) for b in self.generators_}
        self.fit_cpu_s_ = time.process_time() - c0
        return self

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` synthetic windows and their labels (labels drawn from the training labels)."""
        if not hasattr(self, "generators_"):
            raise DataError("the sampler is not fitted: call fit(windows, y) first")
        pick = rng.integers(0, len(self.y_), int(n))
        labels, which = self.y_[pick], self.bins_[pick]
        parts, part_labels = [], []
        for b, gen in self.generators_.items():
            rows = which == b
            if rows.any():
                parts.append(gen.sample(int(rows.sum()), conditions=self._condition(labels[rows]),
                                        random_state=int(rng.integers(2**31))))  # fmt: skip
                part_labels.append(labels[rows])
        return np.concatenate(parts), np.concatenate(part_labels)


#: ``RULEstimator(augment=...)`` names served here: SMOTE and RUL-conditional samplers
CONDITIONAL_BASES = ("-bins", "-rbf")


def is_sampler_arm(arm) -> bool:
    """``"smote"`` or ``"<registry generator>-bins"`` / ``"<registry generator>-rbf"``."""
    return isinstance(arm, str) and (arm == "smote" or (arm.endswith(CONDITIONAL_BASES) and bool(arm.rsplit("-", 1)[0])))


def augment_rul(windows, y, arm: str, n: int, rng: np.random.Generator, *, minutes: float = 1.0,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, float]:
    """``n`` extra (window, RUL) pairs of ``arm`` (:func:`is_sampler_arm`) and the generator's fit
    CPU seconds. Learned generators get ``minutes`` of training each; windows are clipped to the
    real range ± 1 (a rare wild draw of a normal is no unit) and labels to [0, 1]."""
    x, y = _check(windows, y)
    fit_cpu_s = 0.0
    if arm == "smote":
        extra, labels = smote_rul(x, y, n, rng)
    elif is_sampler_arm(arm):
        model, basis = arm.rsplit("-", 1)
        spec = {"name": model, "params": {} if model == "gaussian" else {"max_minutes": minutes, "random_state": seed}}
        sampler = RULConditionalSampler(spec, basis=basis).fit(x, y)
        extra, labels = sampler.sample(n, rng)
        fit_cpu_s = sampler.fit_cpu_s_
    else:
        raise DataError(f"augmentation {arm!r}: use 'smote' or '<generator>-bins' / '<generator>-rbf' (e.g. gaussian-bins)")
    return np.clip(extra, x.min() - 1.0, x.max() + 1.0), np.clip(labels, 0.0, 1.0), fit_cpu_s
