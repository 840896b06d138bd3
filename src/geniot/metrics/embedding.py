"""Context-FID-style distance: Fréchet distance between Gaussian fits of window embeddings.

Context-FID (Jeha et al., ICLR 2022) embeds windows with a pretrained TS2Vec encoder. No such
encoder ships with geniot (it must work offline), so the embedding here is fitted on the
**real windows only** and then frozen:

1. ``n_kernels`` random multichannel convolution kernels (ROCKET-style: length drawn from
   {3, 5, 7, 9} capped at the window length, weights N(0, 1) centred per kernel, dilation
   ``2**U(0, log2((t-1)/(length-1)))``, no padding). Each kernel's bias is a random quantile
   (between the 25th and 75th percentile) of its outputs on the real windows, as in MiniRocket.
   Each kernel gives two features: the proportion of positive values (PPV) and the maximum.
2. Per-channel mean and standard deviation over the window's steps.
3. Every feature is standardised with the real windows' mean and standard deviation (with a
   floor on the standard deviation so a feature that is constant on real data stays finite).

The distance is ``||mu_r - mu_s||^2 + Tr(S_r + S_s - 2 (S_r^1/2 S_s S_r^1/2)^1/2)`` between the
mean and covariance of the real and synthetic embeddings. **Lower is better**; 0 for identical
sets. Values depend on ``n_kernels`` and ``random_state`` (kernels), so compare numbers made with
the same settings; two halves of one real sample give a small positive value (sampling noise).
"""

from __future__ import annotations

import numpy as np

from geniot.metrics._common import as_rng, check_pair

__all__ = ["context_fid", "fit_embedding", "frechet_distance"]

_LENGTHS = np.array([3, 5, 7, 9])


class _Embedding:
    def __init__(self, kernels, feat_mean, feat_sd):
        self.kernels = kernels
        self.feat_mean = feat_mean
        self.feat_sd = feat_sd

    def raw(self, X: np.ndarray) -> np.ndarray:
        return _features(X, self.kernels)

    def transform(self, X: np.ndarray) -> np.ndarray:
        return (self.raw(X) - self.feat_mean) / self.feat_sd


def _conv(X: np.ndarray, w: np.ndarray, d: int) -> np.ndarray:
    """Valid dilated convolution of (n, t, c) windows with a (length, c) kernel -> (n, t_out)."""
    length = w.shape[0]
    t_out = X.shape[1] - (length - 1) * d
    out = np.zeros((X.shape[0], t_out))
    for j in range(length):
        out += X[:, j * d : j * d + t_out, :] @ w[j]
    return out


def _features(X: np.ndarray, kernels) -> np.ndarray:
    n, t, c = X.shape
    if kernels:
        # one matmul for every tap of every kernel, then shifted sums per kernel
        P = X.reshape(n * t, c) @ np.concatenate([w.T for w, _, _ in kernels], axis=1)
        P = P.reshape(n, t, -1)
    feats = []
    start = 0
    for w, d, b in kernels:
        length = w.shape[0]
        t_out = t - (length - 1) * d
        z = np.full((n, t_out), -b)
        for j in range(length):
            z += P[:, j * d : j * d + t_out, start + j]
        start += length
        feats.append((z > 0).mean(axis=1)[:, None])
        feats.append(z.max(axis=1)[:, None])
    feats.append(X.mean(axis=1))
    feats.append(X.std(axis=1))
    return np.concatenate(feats, axis=1)


def fit_embedding(real, *, n_kernels: int = 64, random_state=None) -> _Embedding:
    """Fit the fixed embedding described in the module docstring on real windows."""
    r = np.asarray(real, dtype=np.float64)
    rng = as_rng(random_state)
    n, t, c = r.shape
    kernels = []
    for _ in range(n_kernels):
        length = int(min(rng.choice(_LENGTHS), t))
        w = rng.normal(size=(length, c))
        w -= w.mean()
        if length > 1 and t > length:
            d = int(2 ** rng.uniform(0, np.log2((t - 1) / (length - 1))))
        else:
            d = 1
        d = max(1, min(d, (t - 1) // max(length - 1, 1))) if length > 1 else 1
        out = _conv(r, w, d)
        b = float(np.quantile(out, rng.uniform(0.25, 0.75)))
        kernels.append((w, d, b))
    emb = _Embedding(kernels, 0.0, 1.0)
    f = emb.raw(r)
    mean = f.mean(axis=0)
    sd = f.std(axis=0)
    floor = max(1e-3, 1e-2 * float(np.median(sd))) if sd.size else 1e-3
    emb.feat_mean, emb.feat_sd = mean, np.maximum(sd, floor)
    emb.real_embedding_ = (f - emb.feat_mean) / emb.feat_sd
    return emb


def _sqrt_psd(S: np.ndarray) -> np.ndarray:
    vals, vecs = np.linalg.eigh((S + S.T) / 2)
    return (vecs * np.sqrt(np.clip(vals, 0, None))) @ vecs.T


def frechet_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Fréchet distance between Gaussian fits of two samples of row vectors."""
    mu_a, mu_b = a.mean(axis=0), b.mean(axis=0)
    S_a = np.atleast_2d(np.cov(a, rowvar=False)) if len(a) > 1 else np.zeros((a.shape[1],) * 2)
    S_b = np.atleast_2d(np.cov(b, rowvar=False)) if len(b) > 1 else np.zeros((b.shape[1],) * 2)
    root_a = _sqrt_psd(S_a)
    inner = root_a @ S_b @ root_a
    vals = np.linalg.eigvalsh((inner + inner.T) / 2)
    tr_cross = np.sqrt(np.clip(vals, 0, None)).sum()
    fd = float(((mu_a - mu_b) ** 2).sum() + np.trace(S_a) + np.trace(S_b) - 2 * tr_cross)
    return max(fd, 0.0)


def context_fid(real, synth, *, n_kernels: int = 64, random_state=None) -> float:
    """Context-FID-style distance between real and synthetic windows. **Lower is better**.

    See the module docstring for the embedding (random convolution features plus per-channel
    mean/sd, fitted and standardised on the real windows only) and the Fréchet distance.
    """
    r, s = check_pair(real, synth)
    emb = fit_embedding(r, n_kernels=n_kernels, random_state=random_state)
    return frechet_distance(emb.real_embedding_, emb.transform(s))
