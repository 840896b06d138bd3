"""Operating regimes learned from the data, and synthesis held in one (`geniot synthesize --regime`).

Where the regimes come from, in this order:

1. a ``regime`` column of a labels file (``geniot simulate --labels`` writes one);
2. a text column of the data that names a mode (``regime``, ``mode``, ``state``, ``status``,
   ``operating_mode``; 2 to 8 values);
3. otherwise clusters of the readings (k-means on the per-channel standardized values, 2 to 4
   clusters by silhouette), named by their order along the channel that tells them apart best:
   ``low`` / ``high``, ``low`` / ``mid`` / ``high``, ``low`` / ``mid-low`` / ``mid-high`` / ``high``.

A regime is its centre (per-channel median of its rows). Synthesis is held in a regime by
guidance, not by a retrained model: every window the continuation draws is drawn several times
(:class:`RegimeGuided`) and the draw whose new steps lie nearest the regime's centre is kept, so
the model's own dynamics stay and only its regime choice is steered. How well that held is
measured afterwards (:meth:`RegimeSet.share`) and said.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.core.validation import check_random_state
from geniot.data.series import SensorSeries
from geniot.workflows.fault_labels import read_label_file

#: text column names taken as an operating mode
MODE_COLUMNS = ("regime", "mode", "state", "status", "operating_mode", "betriebsart")
#: names of clustered regimes, by how many there are
CLUSTER_NAMES = {2: ("low", "high"), 3: ("low", "mid", "high"), 4: ("low", "mid-low", "mid-high", "high")}
#: draws per window when a regime is held
GUIDE_DRAWS = 8


@dataclass(frozen=True)
class RegimeSet:
    """Regimes of one model's channels: names, centres (k, c) in the data's units, the per-channel
    scale and weight of the distance that tells them apart, and where they were learned from."""

    names: tuple[str, ...]
    centres: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    source: str
    counts: tuple[int, ...]

    def index(self, name: str) -> int:
        if name not in self.names:
            raise DataError(f"--regime {name!r}: the regimes learned ({self.source}) are {list(self.names)}")
        return self.names.index(name)

    def distance(self, values: np.ndarray) -> np.ndarray:
        """(..., k) weighted distance of points (..., c) to each centre."""
        z = (np.asarray(values, dtype=np.float64)[..., None, :] - self.centres) / self.scale
        return np.sqrt(np.nansum(self.weights * z**2, axis=-1))

    def classify(self, values: np.ndarray) -> np.ndarray:
        """The nearest regime of every step (n, c) -> (n,)."""
        return np.argmin(self.distance(values), axis=-1)

    def share(self, values: np.ndarray, name: str) -> float:
        """Share of steps whose nearest centre is ``name``'s."""
        return float(np.mean(self.classify(values) == self.index(name)))

    def describe(self) -> str:
        return ", ".join(f"{n} ({c} steps)" for n, c in zip(self.names, self.counts, strict=True)) + f"; from {self.source}"


def _rows(table: dict[str, SensorSeries], channels: list[str]) -> tuple[np.ndarray, list[tuple[str, np.ndarray]]]:
    parts, stamps = [], []
    for asset, s in table.items():
        parts.append(s.select(channels).values)
        stamps.append((asset, s.timestamps))
    return np.concatenate(parts), stamps


def _from_labels(path: Path, table: dict[str, SensorSeries], stamps, n_rows: int) -> np.ndarray:
    labels = read_label_file(path, table, "regime")
    key = labels.set_index([labels["asset"].astype(str), pd.to_datetime(labels["ts"])])["regime"]
    out = []
    for asset, ts in stamps:
        if ts is None:
            raise DataError("regime labels need timestamps in the data", file=str(path))
        idx = pd.MultiIndex.from_arrays([[asset] * len(ts), pd.to_datetime(ts)])
        out.append(key.reindex(idx).to_numpy(dtype=object))
    lab = np.concatenate(out)
    if len(lab) != n_rows or pd.isna(lab).all():
        raise DataError("the labels' regime column matches none of the data's rows (asset, ts)", file=str(path))
    return lab


def _channel_scale(x: np.ndarray) -> np.ndarray:
    """Per-channel spread of the rows (1 where a channel is constant): the distance's unit."""
    scale = np.nanstd(x, axis=0)
    return np.where(scale > 0, scale, 1.0)


def _from_text(table: dict[str, SensorSeries]) -> tuple[str, np.ndarray] | None:
    first = next(iter(table.values()))
    for name in first.categorical:
        if name.strip().lower() in MODE_COLUMNS and all(name in s.categorical for s in table.values()):
            lab = np.concatenate([np.asarray(s.categorical[name], dtype=object) for s in table.values()])
            if 2 <= len(pd.unique(lab[~pd.isna(lab)])) <= 8:
                return name, lab
    return None


def _centres(x: np.ndarray, lab: np.ndarray, scale: np.ndarray, source: str, names=None) -> RegimeSet:
    keep = ~pd.isna(lab) & ~np.isnan(x).any(axis=1)
    x, lab = x[keep], np.asarray(lab[keep]).astype(str)
    names = tuple(str(n) for n in (names if names is not None else sorted(pd.unique(lab))))
    centres = np.stack([np.median(x[lab == n], axis=0) for n in names])
    within = np.stack([np.std(x[lab == n], axis=0) for n in names]).mean(axis=0)
    between = centres.std(axis=0)
    # Channels that tell the regimes apart (a setpoint, a flow) weigh most; noise channels little.
    weights = between**2 / np.maximum(within, 1e-12 * scale) ** 2
    weights = weights / max(float(weights.sum()), 1e-12)
    return RegimeSet(names, centres, scale, weights, source, tuple(int((lab == n).sum()) for n in names))


def _clusters(x: np.ndarray, scale: np.ndarray, seed: int) -> RegimeSet:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    ok = x[~np.isnan(x).any(axis=1)]
    if len(ok) < 40:
        raise DataError(f"{len(ok)} complete rows are too few to learn regimes from")
    rng = check_random_state(seed)
    sub = ok[rng.choice(len(ok), size=min(len(ok), 4000), replace=False)]
    z = (sub - np.median(ok, axis=0)) / scale
    best = None
    for k in CLUSTER_NAMES:
        km = KMeans(n_clusters=k, n_init=4, random_state=seed).fit(z)
        score = silhouette_score(z, km.labels_, sample_size=min(len(z), 2000), random_state=seed)
        if best is None or score > best[0]:
            best = (score, k, km)
    score, k, km = best
    lab = km.predict((ok - np.median(ok, axis=0)) / scale)
    centres = np.stack([np.median(ok[lab == j], axis=0) for j in range(k)])
    # Order along the channel that separates the clusters most (e.g. the speed): low ... high.
    spread = centres.std(axis=0) / scale
    order = np.argsort(centres[:, int(np.argmax(spread))])
    named = np.empty(len(lab), dtype=object)
    for rank, j in enumerate(order):
        named[lab == j] = CLUSTER_NAMES[k][rank]
    source = f"{k} clusters of the readings (silhouette {score:.2f})"
    return _centres(ok, named, scale, source, names=CLUSTER_NAMES[k])


def learn_regimes(
    table: dict[str, SensorSeries], channels: list[str], *, labels: Path | None = None, seed: int = 0
) -> RegimeSet:
    """The regimes of ``table``'s ``channels``: from ``labels``' regime column, else a mode text
    column, else clusters (see the module docstring)."""
    missing = {a: [c for c in channels if c not in s.channels] for a, s in table.items()}
    missing = {a: m for a, m in missing.items() if m}
    if missing:
        raise DataError(f"the data lack the model's channels: {missing}")
    x, stamps = _rows(table, channels)
    scale = _channel_scale(x)
    if labels is not None:
        lab = _from_labels(Path(labels), table, stamps, len(x))
        return _centres(x, lab, scale, f"the regime column of {labels}")
    text = _from_text(table)
    if text is not None:
        return _centres(x, text[1], scale, f"the data's text column {text[0]!r}")
    return _clusters(x, scale, seed)


class RegimeGuided:
    """A generator that keeps, of :data:`GUIDE_DRAWS` draws of every window, the one whose new
    steps lie nearest a regime's centre. Everything else is the wrapped generator's."""

    def __init__(self, generator, regimes: RegimeSet, regime: str, draws: int = GUIDE_DRAWS):
        self.generator = generator
        self.regimes = regimes
        self.target = regimes.index(regime)
        self.draws = int(draws)

    def __getattr__(self, name):  # n_steps_, n_channels_, can_impute, refine, ...
        return getattr(self.generator, name)

    def _pick(self, draws: np.ndarray, free: np.ndarray) -> np.ndarray:
        """draws (d, n, t, c); free (n, t, c) True where drawn: the nearest draw per window."""
        w = np.where(free[None], draws, np.nan)
        with np.errstate(invalid="ignore"):
            means = np.nanmean(w, axis=2)  # (d, n, c)
        dist = self.regimes.distance(np.where(np.isnan(means), self.regimes.centres[self.target], means))[..., self.target]
        best = np.argmin(dist, axis=0)
        return draws[best, np.arange(draws.shape[1])]

    def sample(self, n_samples: int, *, conditions=None, random_state=None) -> np.ndarray:
        cond = None if conditions is None else np.repeat(np.asarray(conditions), self.draws, axis=0)
        s = self.generator.sample(int(n_samples) * self.draws, conditions=cond, random_state=random_state)
        draws = s.reshape(int(n_samples), self.draws, *s.shape[1:]).swapaxes(0, 1)
        return self._pick(draws, np.ones(draws.shape[1:], dtype=bool))

    def impute(self, X, mask=None, *, n_draws: int = 1, random_state=None, conditions=None) -> np.ndarray:
        """``n_draws`` guided draws (n_draws, n, t, c): each the nearest of its own group of draws."""
        k = int(n_draws)
        draws = self.generator.impute(X, mask, n_draws=k * self.draws, random_state=random_state, conditions=conditions)
        free = np.ones(np.shape(X), dtype=bool) if mask is None else ~np.asarray(mask, dtype=bool)
        groups = draws.reshape(k, self.draws, *draws.shape[1:])
        return np.stack([self._pick(group, free) for group in groups])


def text_column_models(table: dict[str, SensorSeries], channels: list[str]) -> dict[str, RegimeSet]:
    """Per text column of the data (a status, a mode), its values as regimes of the numbers: a
    synthetic step gets the value whose rows' centre lies nearest (:meth:`RegimeSet.classify`)."""
    first = next(iter(table.values()))
    names = [n for n in first.categorical if all(n in s.categorical for s in table.values())]
    if not names or any(c not in s.channels for s in table.values() for c in channels):
        return {}
    x, _ = _rows(table, channels)
    scale = _channel_scale(x)
    out = {}
    for name in names:
        lab = np.concatenate([np.asarray(s.categorical[name], dtype=object) for s in table.values()])
        if len(pd.unique(lab[~pd.isna(lab)])) >= 1:
            out[name] = _centres(x, lab, scale, f"the data's text column {name!r}")
    return out
