"""Choose how to fill a series' gaps by how well each way fills gaps like them in the series itself.

The held-out check: observed entries of the series are hidden in the shape of the series' own
gaps (each gap's pattern of steps x channels moved to places where all of it was observed),
every candidate fills them, and the one with the lowest error (in each channel's standard
deviations) fills the real gaps. Candidates: the fitted model, a Gaussian of this series'
windows (exact conditional mean) and straight-line interpolation, so the choice is never worse
than interpolation on gaps shaped like the file's.

The same held-out errors set the interval (conformal scaling): per channel, the factor by which
the chosen way's band (or, without one, the square root of the steps to the nearest observed
value) must be widened or narrowed so that it covers the stated share of the held-out values.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.core.task import BaseTask
from geniot.core.validation import check_random_state
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows
from geniot.tasks._series import (
    check_long_enough,
    check_no_empty_channel,
    model_channels,
    series_values,
)
from geniot.tasks.imputer import GapImputer

METHODS = ("auto", "model", "gaussian", "linear")
_MAX_HIDDEN_SHARE = 0.2  # at most this share of the observed entries is hidden for the check
_MAX_PLACEMENTS = 200
_MIN_PER_CHANNEL = 20  # held-out values a channel needs for its own interval factor
_GAUSSIAN_MAX_WINDOWS = 20000
SHORT_GAP = 3  # a gap of at most this many steps is a short gap; longer ones are outages
KINDS = ("short gaps", "outages")


@dataclass(frozen=True)
class CandidateCheck:
    """How one way of filling did on the held-out gaps."""

    name: str
    mae_sd: float  # mean absolute error in each channel's standard deviations
    mae: dict[str, float]  # per channel, in the data's units
    raw_coverage: float  # share of held-out values inside its own band before scaling (nan: no band)
    coverage: float  # share inside the scaled band (in-sample on the held-out values)
    factor: dict[str, float]  # per-channel scale of the band
    gap_errors: tuple[float, ...] = ()  # mean absolute error (sd) in each held-out gap, in placement order


@dataclass(frozen=True)
class KindSelection:
    """The check and the choice for one kind of gap (short gaps or outages)."""

    kind: str
    chosen: str
    n_hidden: int
    n_placements: int
    interval: float
    checks: list[CandidateCheck] = field(default_factory=list)

    @property
    def reason(self) -> str:
        if not self.checks:
            return (f"{self.kind}: no room in the series to hide gaps like these; used {self.chosen} unchecked, "
                    "interval uncalibrated")  # fmt: skip
        ranked = sorted(self.checks, key=lambda c: c.mae_sd)
        table = ", ".join(f"{c.name} {c.mae_sd:.3g}" for c in ranked)
        best = next(c for c in self.checks if c.name == self.chosen)
        raw = "no band of its own" if np.isnan(best.raw_coverage) else f"its own band covered {best.raw_coverage:.0%}"
        return (
            f"{self.kind}: {self.n_hidden} held-out values in {self.n_placements} gaps shaped like the series' own, "
            f"MAE in standard deviations {table} -> {self.chosen}{self._caution}; {raw}, scaled to cover "
            f"{self.interval:.0%} ({best.coverage:.0%} of the held-out values)"
        )


    @property
    def _caution(self) -> str:
        best = min(self.checks, key=lambda c: c.mae_sd)
        if best.name != self.chosen:
            return f" ({best.name} not ahead of straight lines by more than its uncertainty over {len(best.gap_errors)} gaps)"
        return ""


@dataclass(frozen=True)
class Selection:
    """What the held-out check found and which way fills each kind of the real gaps."""

    kinds: list[KindSelection] = field(default_factory=list)

    @property
    def chosen(self) -> str:
        if len(self.kinds) == 1:
            return self.kinds[0].chosen
        return ", ".join(f"{k.kind}: {k.chosen}" for k in self.kinds) or "nothing to fill"

    @property
    def reason(self) -> str:
        return "; ".join(k.reason for k in self.kinds) or "no gaps"


class SelectingImputer(BaseTask):
    """Fills a series' gaps with whichever candidate filled held-out gaps of the same kind best,
    with intervals calibrated on those held-out gaps.

    Parameters
    ----------
    generator:
        A fitted generator that can impute (the candidate ``"model"``); its window also sets the
        Gaussian candidate's window. It is used as given (a ``prefit`` task: no ``fit``).
    method:
        ``"auto"`` (pick by the held-out check) or one of ``"model"``, ``"gaussian"``,
        ``"linear"`` (use it; the check still calibrates its interval).
    n_draws, interval, stride, random_state:
        As in ``GapImputer`` for the model candidate (the Gaussian candidate uses
        ``max(n_draws, 20)`` draws for its band).
    """

    def __init__(
        self,
        *,
        generator: BaseGenerator | None = None,
        method: str = "auto",
        n_draws: int = 1,
        interval: float = 0.9,
        stride: int | None = None,
        random_state: int | None = 0,
    ) -> None:
        self.generator = generator
        self.method = method
        self.n_draws = n_draws
        self.interval = interval
        self.stride = stride
        self.random_state = random_state

    def _validate(self) -> None:
        if self.method not in METHODS:
            raise DataError(f"method must be one of {METHODS}, got {self.method!r}")
        if not 0.0 < float(self.interval) < 1.0:
            raise DataError(f"interval must be between 0 and 1, got {self.interval}")
        GapImputer._check_generator(self.generator)

    # ------------------------------------------------------------ public
    def transform(self, X) -> tuple:
        """``(filled, lower, upper, selection)``; the first three of the type of ``X``."""
        self.validate()
        gen = self.generator
        values, source = series_values(X, gen.n_channels_, model_channels(gen))
        check_long_enough(values, gen.n_steps_, source)
        missing = np.isnan(values)
        if not missing.any():
            same = values.copy()
            out = (same, same.copy(), same.copy())
            selection = Selection()
        else:
            check_no_empty_channel(values, model_channels(gen), source)
            out, selection = self._fill(values)
        if isinstance(X, SensorSeries):
            out = tuple(X.with_values(a) for a in out)
        return (*out, selection)

    # ------------------------------------------------------------ the check
    def _candidates(self) -> list[str]:
        if self.method != "auto":
            return [self.method]
        # The Gaussian is fitted on this series, so it differs from a Gaussian model fitted on
        # the training data: it stays a candidate beside one.
        return ["model", "gaussian", "linear"]

    def _fill(self, values: np.ndarray):
        names = self._candidates()
        missing = np.isnan(values)
        sd = np.nanstd(values, axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        kinds = gap_kinds(missing)
        hidden, placements, ids = held_out_mask(missing, self.generator.n_steps_, random_state=self.random_state)
        channels = model_channels(self.generator) or [f"channel {j}" for j in range(values.shape[1])]
        runs = {}
        if hidden.any():
            holed = np.where(hidden > 0, np.nan, values)
            dist = gap_distance(np.isnan(holed))
            runs = {name: self._run(name, holed) for name in names}
        picks = []
        for k, label in enumerate(KINDS, start=1):
            if not (kinds == k).any():
                continue
            held = hidden == k
            checks = [_check(name, values, held, *runs[name], dist, sd, channels, self.interval, ids)
                      for name in names] if held.any() else []  # fmt: skip
            chosen = _choose(checks) if checks else names[0]
            picks.append(KindSelection(label, chosen, int(held.sum()), placements.get(k, 0), self.interval, checks))
        dist = gap_distance(missing)
        filled, lower, upper = values.copy(), values.copy(), values.copy()
        final = {}
        for k, pick in zip([KINDS.index(p.kind) + 1 for p in picks], picks, strict=True):
            if pick.chosen not in final:
                final[pick.chosen] = self._run(pick.chosen, values)
            point, lo, up = final[pick.chosen]
            if pick.checks:
                check = next(c for c in pick.checks if c.name == pick.chosen)
                factor = np.array([check.factor[c] for c in channels])
                lo, up = _scaled_band(point, lo, up, dist, factor)
            here = kinds == k
            filled[here], lower[here], upper[here] = point[here], lo[here], up[here]
        return (filled, lower, upper), Selection(picks)

    def _run(self, name: str, values: np.ndarray):
        """Point, lower and upper (n_steps, c) of one candidate on a series with NaN gaps."""
        if name == "linear":
            point = linear_fill(values)
            return point, point.copy(), point.copy()
        if name == "gaussian":
            gen = _series_gaussian(values, self.generator.n_steps_)
            imputer = GapImputer(generator=gen, prefit=True, n_draws=max(int(self.n_draws), 20), interval=self.interval,
                                 stride=self.stride, point="mean", random_state=self.random_state)  # fmt: skip
        else:
            imputer = GapImputer(generator=self.generator, prefit=True, n_draws=self.n_draws, interval=self.interval,
                                 stride=self.stride, random_state=self.random_state)  # fmt: skip
        return imputer.transform(values, return_interval=True)


def gap_kinds(missing: np.ndarray) -> np.ndarray:
    """Per entry: 0 observed, 1 in a short gap (at most ``SHORT_GAP`` steps), 2 in an outage."""
    out = np.zeros(missing.shape, dtype=np.int8)
    for a, b in _gap_events(missing):
        out[a:b][missing[a:b]] = 1 if b - a <= SHORT_GAP else 2
    return out


def _gap_events(missing: np.ndarray) -> list[tuple[int, int]]:
    """Runs of steps with any missing entry, as (start, end)."""
    rows = missing.any(axis=1)
    edges = np.flatnonzero(np.diff(np.concatenate([[0], rows.astype(int), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def held_out_mask(missing: np.ndarray, window: int, *, random_state=None) -> tuple[np.ndarray, dict[int, int], np.ndarray]:
    """Observed entries to hide, in the shapes of the series' own gaps, labelled by kind as in
    ``gap_kinds`` (0 = not hidden); how many gaps of each kind were placed; and which placement
    (1, 2, ...) hides each entry (0 = none).

    A gap is a run of steps with any missing entry; its pattern (steps x channels) is moved to
    a random place where every entry it would hide is observed, away from other placements by
    half the pattern's length (at most half a window), until about ``_MAX_HIDDEN_SHARE`` of the
    observed entries or ``_MAX_PLACEMENTS`` gaps are hidden.
    """
    rng = check_random_state(random_state)
    n, c = missing.shape
    events = _gap_events(missing)
    hidden = np.zeros(missing.shape, dtype=np.int8)
    busy = np.zeros(n, dtype=bool)  # steps of earlier placements (kept apart by a margin)
    budget = int(_MAX_HIDDEN_SHARE * (~missing).sum())
    ids = np.zeros(missing.shape, dtype=np.int32)
    placed: dict[int, int] = {}
    if not events:
        return hidden, placed, ids
    # Each kind of gap is drawn as often as the other, so one long outage among many dropped
    # readings still gets its own check.
    event_kind = np.array([1 if b - a <= SHORT_GAP else 2 for a, b in events])
    counts = {k: int((event_kind == k).sum()) for k in set(event_kind.tolist())}
    weight = np.array([1.0 / counts[k] for k in event_kind]) / len(counts)
    for _ in range(20 * _MAX_PLACEMENTS):
        if sum(placed.values()) >= _MAX_PLACEMENTS or (hidden > 0).sum() >= budget:
            break
        a, b = events[rng.choice(len(events), p=weight)]
        pattern = missing[a:b]
        length = b - a
        margin = max(1, min(length, window) // 2)
        if length + 2 * margin > n:
            continue
        s = int(rng.integers(margin, n - length - margin + 1))
        if busy[s - margin : s + length + margin].any() or missing[s : s + length][pattern].any():
            continue
        kind = 1 if length <= SHORT_GAP else 2
        hidden[s : s + length][pattern] = kind
        ids[s : s + length][pattern] = sum(placed.values()) + 1
        busy[s : s + length] = True
        placed[kind] = placed.get(kind, 0) + 1
    return hidden, placed, ids


def gap_distance(missing: np.ndarray) -> np.ndarray:
    """Steps from each missing entry to the nearest observed one in its channel (0 where observed)."""
    n, c = missing.shape
    big = n + 1
    fwd = np.zeros((n, c))
    bwd = np.zeros((n, c))
    run = np.full(c, big, dtype=float)
    for i in range(n):
        run = np.where(missing[i], run + 1, 0)
        fwd[i] = run
    run = np.full(c, big, dtype=float)
    for i in range(n - 1, -1, -1):
        run = np.where(missing[i], run + 1, 0)
        bwd[i] = run
    return np.minimum(fwd, bwd)


def linear_fill(values: np.ndarray) -> np.ndarray:
    """Straight-line interpolation in time per channel; the nearest observed value at the ends."""
    out = values.copy()
    steps = np.arange(len(values))
    for j in range(values.shape[1]):
        seen = ~np.isnan(values[:, j])
        if seen.any() and not seen.all():
            out[~seen, j] = np.interp(steps[~seen], steps[seen], values[seen, j])
    return out


def _series_gaussian(values: np.ndarray, window: int):
    from geniot.models.gaussian import GaussianBaseline

    stride = max(1, (len(values) - window + 1) // _GAUSSIAN_MAX_WINDOWS)
    windows = make_windows(values, window, stride)
    mask = ~np.isnan(windows)
    return GaussianBaseline().fit(windows, mask=mask)


def _band_sides(point, lower, upper, dist):
    """Upper and lower widths of a band: the candidate's own, or sqrt(steps to the nearest
    observed value) where it has none (a point estimate only)."""
    up, down = upper - point, point - lower
    own = np.nanmax(np.where(dist > 0, upper - lower, 0.0)) > 0
    if not own:
        scale = np.sqrt(np.maximum(dist, 1.0))
        return scale, scale, False
    return up, down, True


def _choose(checks: list[CandidateCheck]) -> str:
    """The lowest held-out error, but straight lines unless the winner is ahead of them by more
    than one standard error of the paired per-gap differences: a confident wrong choice costs
    more than a cautious one."""
    best = min(checks, key=lambda c: c.mae_sd)
    linear = next((c for c in checks if c.name == "linear"), None)
    if linear is None or best.name == "linear":
        return best.name
    diff = np.asarray(linear.gap_errors) - np.asarray(best.gap_errors)
    if len(diff) < 5:
        return "linear"
    se = float(diff.std(ddof=1) / np.sqrt(len(diff)))
    return best.name if float(diff.mean()) > se else "linear"


def _check(name, truth, hidden, point, lower, upper, dist, sd, channels, interval, ids) -> CandidateCheck:
    up, down, own = _band_sides(point, lower, upper, dist)
    err = truth - point
    rows, cols = np.nonzero(hidden)
    e = err[rows, cols]
    side = np.where(e > 0, up[rows, cols], down[rows, cols])
    floor = 1e-9 * sd[cols]
    ratio = np.abs(e) / np.maximum(side, floor)
    pooled = conformal_quantile(ratio, interval)
    factor, mae = {}, {}
    for j, name_j in enumerate(channels):
        pick = cols == j
        mae[name_j] = float(np.abs(e[pick]).mean()) if pick.any() else float("nan")
        factor[name_j] = conformal_quantile(ratio[pick], interval) if pick.sum() >= _MIN_PER_CHANNEL else pooled
    f = np.array([factor[c] for c in channels])[cols]
    inside = np.abs(e) <= f * side
    raw = float((np.abs(e) <= side).mean()) if own else float("nan")
    scaled = np.abs(e) / sd[cols]
    gap = ids[rows, cols]
    per_gap = tuple(float(scaled[gap == g].mean()) for g in np.unique(gap))
    return CandidateCheck(name, float(scaled.mean()), mae, raw, float(inside.mean()), factor, per_gap)


def conformal_quantile(ratio: np.ndarray, level: float) -> float:
    """The split-conformal quantile: the ceil((n + 1) * level)-th smallest ratio."""
    n = len(ratio)
    if n == 0:
        return float("nan")
    k = min(n, int(np.ceil((n + 1) * level)))
    return float(np.sort(ratio)[k - 1])


def _scaled_band(point, lower, upper, dist, factor):
    up, down, _ = _band_sides(point, lower, upper, dist)
    return point - factor * down, point + factor * up
