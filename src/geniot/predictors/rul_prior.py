"""The prior before onset when it is not known how the units to predict were observed.

Before a unit's onset of degradation its sensors say nothing about its remaining life, so the
answer is what the training units' lives say about a unit of that age, and that depends on how the
unit came to be observed at that age:

* in service: the age is independent of the life (a fleet looked at today); a unit is seen in
  proportion to its life, so the units alive at that age are equally likely;
* cut at a share of its life in [a, b] (test sets cut before failure): a long-lived unit is seen
  later, so age and remaining life go up together.

:func:`observation_posterior` weighs these hypotheses (in service, and every [a, b] on a grid of
shares) by how well each explains the ages and onset flags of the batch of units to predict:
the batch tells how it was cut. :func:`mixture_prior` then gives one unit's remaining life under
the posterior mixture. Lives, onsets and ages are in median lives of each unit's condition.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

QUANTILES = (0.1, 0.5, 0.9)
_FLAG_NOISE = 0.02  # an onset flag the hypothesis says is impossible is unlikely, not impossible


@dataclass
class ObservationModels:
    """Hypotheses on how the units were observed, with their posterior weights."""

    ranges: list[tuple[float, float] | None]  # None: in service
    weights: np.ndarray
    n_units: int

    def summary(self) -> str:
        service = float(sum(w for r, w in zip(self.ranges, self.weights, strict=True) if r is None))
        shares = [(r, w) for r, w in zip(self.ranges, self.weights, strict=True) if r is not None]
        total = sum(w for _, w in shares)
        text = f"the observation process estimated from the {self.n_units} unit(s) of this batch: in service {service:.0%}"
        if total > 1e-9:
            a = sum(r[0] * w for r, w in shares) / total
            b = sum(r[1] * w for r, w in shares) / total
            best = max(shares, key=lambda rw: rw[1])[0]
            text += f", cut at a share of their life {1 - service:.0%} (about {a:.0%}-{b:.0%}; most likely {best[0]:.0%}-{best[1]:.0%})"
        return text


def _atoms(lives: np.ndarray, share_range: tuple[float, float] | None):
    """Looks at every training unit on a grid of shares of its life: ages, remaining lives and each
    look's weight (units equally likely when cut at a share; in proportion to life in service)."""
    a, b = share_range if share_range is not None else (0.0, 1.0)
    shares = np.linspace(a, b, max(11, int(round((b - a) * 100)) + 1))
    unit_w = lives / lives.sum() if share_range is None else np.full(len(lives), 1.0 / len(lives))
    ages = lives[:, None] * shares[None, :]
    left = lives[:, None] - ages
    weight = np.repeat(unit_w[:, None] / len(shares), len(shares), axis=1)
    return ages, left, weight


def _kernel(x: np.ndarray, ages: np.ndarray, width: float) -> np.ndarray:
    return np.exp(-0.5 * ((x[:, None, None] - ages[None]) / width) ** 2) / (width * np.sqrt(2 * np.pi))


def observation_posterior(lives, onsets, ages, gated, *, width: float = 0.1, step: float = 0.05) -> ObservationModels:
    """Posterior weights of "in service" and of every share range [a, b] (multiples of ``step``)
    given the batch's ages and onset flags: each hypothesis says where in their lives the units
    were seen, hence how old they would be and whether their onset would have come. Every
    hypothesis is equally likely beforehand (in service is one of them, as each range is)."""
    lives, onsets = np.asarray(lives, dtype=float), np.asarray(onsets, dtype=float)
    x, flag = np.asarray(ages, dtype=float), np.asarray(gated, dtype=bool)
    grid = np.round(np.arange(0.0, 1.0 + step / 2, step), 6)
    ranges: list[tuple[float, float] | None] = [None] + [(float(a), float(b)) for a in grid for b in grid if b > a]
    logp = np.empty(len(ranges))
    for m, share_range in enumerate(ranges):
        atom_ages, _, weight = _atoms(lives, share_range)
        past = atom_ages >= onsets[:, None]
        fits = np.where(flag[:, None, None], past[None], ~past[None])
        like = (_kernel(x, atom_ages, width) * weight[None] * np.where(fits, 1.0 - _FLAG_NOISE, _FLAG_NOISE)).sum(axis=(1, 2))
        logp[m] = np.log(np.maximum(like, 1e-300)).sum()
    post = np.exp(logp - logp.max())
    return ObservationModels(ranges, post / post.sum(), len(x))


def mixture_prior(lives, onsets, age: float, models: ObservationModels, *, width: float = 0.1,
                  point: str = "mean", min_weight: float = 1e-4):  # fmt: skip
    """10%, middle and 90% of the remaining life of a unit of ``age`` before onset under the
    posterior mixture of observation hypotheses: the looks at training units before their onset,
    weighted by a Gaussian of their age minus ``age`` (``width`` median lives). The middle is the
    mean (``point="mean"``) or the median. None when no look is within three widths of ``age``."""
    lives, onsets = np.asarray(lives, dtype=float), np.asarray(onsets, dtype=float)
    values, weights = [], []
    for share_range, post in zip(models.ranges, models.weights, strict=True):
        if post < min_weight:
            continue
        atom_ages, left, weight = _atoms(lives, share_range)
        near = np.exp(-0.5 * ((atom_ages - age) / width) ** 2)
        w = weight * near * (atom_ages < onsets[:, None])
        if near.max() < np.exp(-0.5 * 3.0**2) or w.sum() <= 0:
            continue
        values.append(left.ravel())
        weights.append(post * w.ravel() / w.sum())
    if not values:
        return None
    left, weight = np.concatenate(values), np.concatenate(weights)
    order = np.argsort(left)
    left, weight = left[order], weight[order]
    cum = (np.cumsum(weight) - weight / 2) / weight.sum()
    lo, med, hi = np.interp(QUANTILES, cum, left)
    mid = float(np.sum(weight * left) / weight.sum()) if point == "mean" else float(med)
    return mid, float(min(lo, mid)), float(max(hi, mid))
