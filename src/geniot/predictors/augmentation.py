"""Training-set augmentation for classifiers of raw 1-D windows (vibration), side by side.

Three sources of extra training windows, so a benchmark can compare them on equal terms:

* :func:`shift_scale_jitter` (non-generative peer): random-offset crops of real windows,
  rescaled by a random gain and with white noise added;
* :func:`smote_windows` (non-generative peer): convex mixes of two real windows of one class;
  a class with a single window has no pair, so it gets nothing and is counted as skipped;
* :class:`ClassConditionalAugmenter` (generative): one geniot generator (any registry name,
  the Gaussian baseline by default) fitted per class on overlapping sub-windows of that class's
  real windows, then sampled. Sub-windows turn one recorded window into hundreds of training
  examples for the generator, which is what makes a generator usable with one shot per class.

Windows are 2-D here, (n, length): one channel. Generators see them as (n, length, 1).
"""

from __future__ import annotations

import time

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.cwru import cut_windows
from geniot.models.registry import build_generator


def _check(windows, labels, length: int) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(windows, dtype=np.float64)
    y = np.asarray(labels)
    if x.ndim != 2:
        raise DataError(f"windows must be (n, length), got shape {x.shape}")
    if len(y) != len(x):
        raise DataError(f"{len(x)} windows but {len(y)} labels")
    if not 1 <= int(length) <= x.shape[1]:
        raise DataError(f"crop length must be within 1..{x.shape[1]} (the window length), got {length}")
    if not np.isfinite(x).all():
        raise DataError(f"windows hold {int((~np.isfinite(x)).sum())} non-finite values")
    return x, y


def fixed_crops(windows, labels, length: int) -> tuple[np.ndarray, np.ndarray]:
    """Non-overlapping crops of ``length`` from each window (the data as it is, no augmentation)."""
    x, y = _check(windows, labels, length)
    k = x.shape[1] // length
    crops = x[:, : k * length].reshape(len(x), k, length).reshape(-1, length)
    return crops, np.repeat(y, k)


def shift_scale_jitter(windows, labels, n: int, length: int, rng: np.random.Generator, *,
                       gain: tuple[float, float] = (0.8, 1.25), noise: float = 0.05) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """``n`` random crops of random real windows, times a log-uniform gain, plus white noise
    of ``noise`` times the crop's RMS (time shift, scaling and jitter: the usual peer)."""
    x, y = _check(windows, labels, length)
    pick = rng.integers(0, len(x), int(n))
    start = rng.integers(0, x.shape[1] - length + 1, int(n))
    out = x[pick[:, None], start[:, None] + np.arange(length)]
    out = out * np.exp(rng.uniform(np.log(gain[0]), np.log(gain[1]), (int(n), 1)))
    rms = np.sqrt((out**2).mean(axis=1, keepdims=True))
    return out + noise * rms * rng.standard_normal(out.shape), y[pick]


def smote_windows(windows, labels, n_per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, list]:
    """``n_per_class`` mixes ``a + t (b - a)`` of two different real windows of each class.

    Returns (windows, labels, skipped classes): a class with one window has no pair to mix and
    is skipped (so SMOTE adds nothing in a 1-shot setting; the caller says so). With at most six
    windows per class this is imbalanced-learn's SMOTE (its 5 neighbours are every other window
    of the class), written out here so that the partner is drawn per sample and the skip is said.
    """
    x, y = _check(windows, labels, 1)
    out_x, out_y, skipped = [], [], []
    for c in np.unique(y):
        xc = x[y == c]
        if len(xc) < 2:
            skipped.append(c)
            continue
        i = rng.integers(0, len(xc), n_per_class)
        j = (i + rng.integers(1, len(xc), n_per_class)) % len(xc)  # a different window
        t = rng.random((n_per_class, 1))
        out_x.append(xc[i] + t * (xc[j] - xc[i]))
        out_y.append(np.full(n_per_class, c))
    if not out_x:
        return np.empty((0, x.shape[1])), np.empty(0, dtype=y.dtype), skipped
    return np.concatenate(out_x), np.concatenate(out_y), skipped


class ClassConditionalAugmenter:
    """One generator per class, fitted on sub-windows of ``length`` cut every ``stride`` samples
    (the stride is widened for a class whose windows would give more than ``max_subwindows``).

    ``model`` is a registry spec (``"gaussian"``, ``{"name": "vae", "params": {...}}``); each
    class gets its own unfitted copy. ``fit_seconds_`` records the generators' fit time per class.
    """

    def __init__(self, length: int, *, stride: int = 4, max_subwindows: int = 512, model="gaussian") -> None:
        if int(length) < 2 or int(stride) < 1 or int(max_subwindows) < 2:
            raise DataError(f"length >= 2, stride >= 1 and max_subwindows >= 2 needed, got {length}, {stride}, {max_subwindows}")
        self.length, self.stride, self.max_subwindows, self.model = int(length), int(stride), int(max_subwindows), model

    def fit(self, windows, labels) -> ClassConditionalAugmenter:
        x, y = _check(windows, labels, self.length)
        self.generators_, self.fit_seconds_, self.n_subwindows_ = {}, {}, {}
        for c in np.unique(y):
            xc = x[y == c]
            stride = max(self.stride, -(-len(xc) * (x.shape[1] - self.length + 1) // self.max_subwindows))
            sub = np.concatenate([cut_windows(w, self.length, stride) for w in xc])
            t0 = time.process_time()
            self.generators_[c] = build_generator(self.model).fit(sub[:, :, None])
            self.fit_seconds_[c] = time.process_time() - t0
            self.n_subwindows_[c] = len(sub)
        return self

    def sample(self, n_per_class: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        if not hasattr(self, "generators_"):
            raise DataError("ClassConditionalAugmenter is not fitted yet; call fit first")
        xs, ys = [], []
        for c, gen in self.generators_.items():
            draw = gen.sample(int(n_per_class), random_state=int(rng.integers(2**31)))[:, :, 0]
            if not np.isfinite(draw).all():
                raise DataError(f"the {self.model!r} generator of class {c} sampled non-finite values")
            xs.append(draw)
            ys.append(np.full(int(n_per_class), c))
        return np.concatenate(xs), np.concatenate(ys)
