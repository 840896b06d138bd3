"""Long synthetic series by continuation: each new stretch is imputed given the end of the last.

A generator knows windows of ``w`` steps. To make a series of any length without seams, the
first window is sampled, and every next window overlaps the series by a context of ``k`` steps:
those ``k`` steps are shown to the model as observed and it imputes the other ``w - k``, which
are appended. The join is thus drawn from the model's own conditional distribution, not glued.

* The Gaussian baseline conditions exactly, the diffusion model natively; the VAE by
  pseudo-Gibbs (an approximation). A generator that cannot impute (the GAN) cannot continue a
  series: :func:`check_can_continue` says so.
* ``fixed`` values (a setpoint held by ``--set``, or calendar channels) are shown as observed in
  every stretch, so the model fills the other signals given them (a what-if at the scale of days).
* Several series (a fleet) are continued together in one batch, one chain each.
* Long-range structure rides on explicit conditions (``conditions``, one row per step): each
  window is sampled or imputed given the conditions at its first step. The calendar
  (:func:`calendar_conditions`: time of day and day of week as points on a circle) is learned at
  fit time (``geniot fit --calendar``), so daily and weekly cycles carry over any length.

Faults on demand (:class:`FaultProfile`) are learned from labelled stretches of real data: the
deviation of each channel from the normal level just before the episode, as a function of the
progress through the episode (mean and extra spread per bin), and whether a channel freezes. A
fault is applied on top of the continued normal series: the model keeps generating the machine's
normal behaviour underneath, so a fault does not feed back into the other signals' dynamics
beyond what its profile carries (a limitation, said in the docs).
"""

from __future__ import annotations

import warnings
from contextlib import nullcontext
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import CapabilityError, DataError
from geniot.core.validation import check_random_state

#: condition columns of the calendar: time of day and day of week as points on a circle
CALENDAR_CONDITIONS = ("day_sin", "day_cos", "week_sin", "week_cos")

#: how far (share of the diffusion chain) a join is noised before it is redrawn (generators with
#: ``refine``); low keeps the series' shape and makes the two sides of a join agree
JOIN_STRENGTH = 0.1
#: bins of progress through an episode in a learned fault profile
PROFILE_BINS = 20
#: a channel whose step changes inside episodes shrink below this share of normal ones freezes
FROZEN_RATIO = 0.05
#: a label whose runs last at most this many rows (median) marks impulses (spikes), not a stretch
IMPULSE_ROWS = 2
#: impulses of one label at most this many rows apart belong to one episode
IMPULSE_GAP = 24
#: real episode shapes a profile keeps to draw synthetic episodes from
MAX_SHAPES = 32


def check_can_continue(generator: BaseGenerator) -> None:
    """Raise a clear CapabilityError if the generator cannot condition a window on its start."""
    if not generator.can_impute:
        raise CapabilityError(
            f"{type(generator).__name__} cannot impute, so it cannot continue a series from its "
            "last steps; concatenating independent windows would put a seam every window. Fit a "
            "model that imputes: 'gaussian' (exact), 'diffusion' (native) or 'vae' (pseudo-Gibbs)"
        )


def calendar_conditions(timestamps) -> np.ndarray:
    """(n, 4) calendar conditions of each timestamp (see :data:`CALENDAR_CONDITIONS`)."""
    ts = pd.DatetimeIndex(pd.to_datetime(np.asarray(timestamps)))
    day = (ts.hour * 3600 + ts.minute * 60 + ts.second).to_numpy(dtype=np.float64) / 86400.0
    week = (ts.day_of_week.to_numpy(dtype=np.float64) + day) / 7.0
    return np.stack([np.sin(2 * np.pi * day), np.cos(2 * np.pi * day), np.sin(2 * np.pi * week), np.cos(2 * np.pi * week)], axis=1)


def continue_series(
    generator: BaseGenerator,
    n_steps: int,
    *,
    n_series: int = 1,
    context: int | None = None,
    fixed: np.ndarray | None = None,
    conditions: np.ndarray | None = None,
    join_strength: float | None = JOIN_STRENGTH,
    random_state=None,
) -> tuple[np.ndarray, np.ndarray]:
    """``n_series`` continuous series of ``n_steps`` steps: (n_series, n_steps, n_channels).

    ``context`` (k, default half the window) steps of the series so far are shown in every new
    window. ``fixed`` is (n_steps, n_channels) or (n_series, n_steps, n_channels), NaN where the
    model is free; elsewhere the value is held (and shown to the model). ``conditions`` is
    (n_steps, n_conditions) or (n_series, n_steps, n_conditions) for a model fitted with
    conditions: each window is drawn given the row of its first step. A generator with
    ``refine`` (the diffusion model) then redraws a window around every join at
    ``join_strength`` (``None``: no redraw), seen both sides, so the two stretches agree.
    Also returns the seams (every step where a part drawn by one call meets another's), for
    the seam statistic.
    """
    check_can_continue(generator)
    # A generator may keep a sampler for long series (the diffusion model's full chain).
    sampler = generator.series_sampler() if hasattr(generator, "series_sampler") else nullcontext()
    with sampler:
        return _continue(generator, n_steps, n_series, context, fixed, conditions, join_strength, random_state)


def _continue(generator, n_steps, n_series, context, fixed, conditions, join_strength, random_state):
    """The body of :func:`continue_series`, under the generator's series sampler."""
    w = int(generator.n_steps_)
    c = int(generator.n_channels_)
    k = w // 2 if context is None else int(context)
    if not 1 <= k < w:
        raise DataError(f"the context must be between 1 and {w - 1} steps (window {w}), got {k}")
    n_steps, n_series = int(n_steps), int(n_series)
    if n_steps < 1 or n_series < 1:
        raise DataError(f"need at least one step and one series, got {n_steps} steps and {n_series} series")
    rng = check_random_state(random_state)
    held = _fixed_array(fixed, n_series, n_steps, c)
    given = _condition_rows(generator, conditions, n_series, n_steps)
    # Room for a last window that runs past the end; cut off at the end.
    total = n_steps + w
    out = np.full((n_series, total, c), np.nan)
    if held is not None:
        out[:, :n_steps] = held
    first = out[:, :w]
    first_mask = ~np.isnan(first)
    cond = None if given is None else given[:, 0]
    if first_mask.any():
        out[:, :w] = generator.impute(first, first_mask, random_state=rng, conditions=cond)[0]
    else:
        out[:, :w] = generator.sample(n_series, random_state=rng, conditions=cond)
    joins, filled = _join_plan(n_steps, w, k)
    for pos in joins:
        lo = pos - k
        window = out[:, lo : lo + w].copy()
        mask = ~np.isnan(window)
        mask[:, :k] = True
        cond = None if given is None else given[:, lo]
        out[:, lo : lo + w] = generator.impute(window, mask, random_state=rng, conditions=cond)[0]
    redraw = join_strength is not None and hasattr(generator, "refine")
    if redraw:
        shown = np.zeros(out.shape, dtype=bool)
        if held is not None:
            shown[:, :n_steps] = ~np.isnan(held)
        for lo, edge in _redraw_plan(joins, filled, w):
            mask = shown[:, lo : lo + w].copy()
            mask[:, :edge] = mask[:, w - edge :] = True
            cond = None if given is None else given[:, lo]
            out[:, lo : lo + w] = generator.refine(
                out[:, lo : lo + w], mask, strength=float(join_strength), random_state=rng, conditions=cond
            )
    return out[:, :n_steps], draw_seams(n_steps, w, k, redraw=redraw)


def _join_plan(n_steps: int, w: int, k: int) -> tuple[list[int], int]:
    """The first step of every continued stretch (each imputed from the ``k`` steps before it),
    and how many steps are drawn in all (the last stretch runs past ``n_steps``)."""
    joins, pos = [], w
    while pos < n_steps:
        joins.append(pos)
        pos += w - k
    return joins, pos


def _redraw_plan(joins: list[int], filled: int, w: int) -> list[tuple[int, int]]:
    """(first step, edge) of the window redrawn around each join: centred on it, its ``edge``
    steps at both ends shown, so the middle is one draw that saw the two stretches it links."""
    edge = max(1, w // 6)
    return [(min(max(p - w // 2, 0), filled - w), edge) for p in joins]


def draw_seams(n_steps: int, window: int, context: int | None = None, *, redraw: bool = False) -> np.ndarray:
    """Where :func:`continue_series` puts the steps that one draw made next to another's: the
    joins of the continued stretches, or with ``redraw`` (a generator with ``refine``, the
    diffusion model) the edges of the windows redrawn around them. The seam statistics are
    measured there, so they must be these steps and no others."""
    w = int(window)
    k = w // 2 if context is None else int(context)
    if not 1 <= k < w:
        raise DataError(f"the context must be between 1 and {w - 1} steps (window {w}), got {k}")
    joins, filled = _join_plan(int(n_steps), w, k)
    origin = np.zeros(int(n_steps) + w, dtype=np.int64)  # which draw made each step
    for i, pos in enumerate(joins):
        origin[pos : pos - k + w] = i + 1
    if redraw:
        for i, (lo, edge) in enumerate(_redraw_plan(joins, filled, w)):
            origin[lo + edge : lo + w - edge] = len(joins) + i + 1
    n = int(n_steps)
    return (np.flatnonzero(origin[1:n] != origin[: n - 1]) + 1).astype(np.int64)


def independent_windows(
    generator: BaseGenerator, n_steps: int, *, conditions: np.ndarray | None = None, random_state=None
) -> tuple[np.ndarray, np.ndarray]:
    """The baseline continuation beats: independent windows laid end to end, (n_steps, c), and
    the steps where they join. A model fitted with conditions (the calendar) draws each window
    given the row of its first step, ``conditions`` being (n_steps, n_conditions) as for
    :func:`continue_series`, so the baseline keeps the same daily and weekly cycles."""
    w = int(generator.n_steps_)
    n_steps = int(n_steps)
    if n_steps < 1:
        raise DataError(f"need at least one step, got {n_steps}")
    given = _condition_rows(generator, conditions, 1, n_steps)
    starts = np.arange(0, n_steps, w)
    cond = None if given is None else given[0, starts]
    windows = generator.sample(len(starts), random_state=random_state, conditions=cond)
    return windows.reshape(-1, windows.shape[2])[:n_steps], starts[1:].astype(np.int64)


def _condition_rows(generator: BaseGenerator, conditions, n_series: int, n_steps: int) -> np.ndarray | None:
    """Per-step conditions as (n_series, n_steps, n_conditions), checked against the model."""
    wanted = int(getattr(generator, "n_conditions_", 0))
    if conditions is None:
        if wanted:
            raise DataError(f"the model was fitted with {wanted} condition columns; pass their values for every step")
        return None
    arr = _per_step(conditions, n_series, n_steps, wanted, what="conditions")
    if np.isnan(arr).any():
        raise DataError("the conditions have missing values; every step needs one")
    return arr


def _fixed_array(fixed, n_series: int, n_steps: int, c: int) -> np.ndarray | None:
    if fixed is None:
        return None
    return _per_step(fixed, n_series, n_steps, c, what="fixed values")


def _per_step(values, n_series: int, n_steps: int, width: int, *, what: str) -> np.ndarray:
    """``values`` as (n_series, n_steps, width); one (n_steps, width) array serves every series."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2:
        arr = np.broadcast_to(arr, (n_series, *arr.shape))
    if arr.shape != (n_series, n_steps, width):
        raise DataError(f"{what} must be shaped ({n_series}, {n_steps}, {width}), got {arr.shape}")
    return arr


# ------------------------------------------------------------------------ faults on demand
@dataclass(frozen=True)
class FaultProfile:
    """How one fault type moves each channel away from normal, learned from labelled episodes.

    ``shapes`` (when learned) holds each real episode's mean deviation per bin: a synthetic
    episode follows one of them, drawn at random and read linearly between the bins' centres,
    plus white noise of sd ``spread`` (the roughness the real episodes had beyond normal noise),
    so a drift keeps one sign and its ramp (the average of drifts of either sign is flat, and
    their spread across episodes is noise that looks like spikes).
    Without them (a profile saved before), ``mean`` (their average) is followed.

    ``mean`` and ``spread`` are (PROFILE_BINS, n_channels): the average deviation from the normal
    level before the episode, and the extra white noise (from the step changes inside the bin
    beyond the normal ones), at each bin of progress through the episode. ``frozen`` marks
    channels that stop moving.
    ``impulses`` (a fault labelled on isolated rows, as spikes are) replaces the per-bin profile:
    ``rate`` (impulses per row of an episode) and, per channel, ``amplitude`` (signed deviations
    of the real impulses from the normal level around them, resampled); only the impulse rows
    carry the label, as in the real data.
    """

    fault: str
    channels: tuple[str, ...]
    mean: np.ndarray
    spread: np.ndarray
    frozen: np.ndarray
    n_episodes: int
    median_steps: int
    impulses: dict | None = None
    shapes: np.ndarray | None = None  # (n, PROFILE_BINS, n_channels): each real episode's binned deviation

    def to_dict(self) -> dict:
        extra = {"impulses": self.impulses} if self.impulses is not None else {}
        if self.shapes is not None:
            extra["shapes"] = self.shapes.tolist()
        return extra | {
            "fault": self.fault,
            "channels": list(self.channels),
            "mean": self.mean.tolist(),
            "spread": self.spread.tolist(),
            "frozen": self.frozen.tolist(),
            "n_episodes": self.n_episodes,
            "median_steps": self.median_steps,
        }

    @classmethod
    def from_dict(cls, d: dict) -> FaultProfile:
        return cls(
            fault=str(d["fault"]),
            channels=tuple(d["channels"]),
            mean=np.asarray(d["mean"], dtype=np.float64),
            spread=np.asarray(d["spread"], dtype=np.float64),
            frozen=np.asarray(d["frozen"], dtype=bool),
            n_episodes=int(d["n_episodes"]),
            median_steps=int(d["median_steps"]),
            impulses=d.get("impulses"),
            shapes=np.asarray(d["shapes"], dtype=np.float64) if d.get("shapes") is not None else None,
        )

    def apply(self, values: np.ndarray, start: int, stop: int, rng) -> np.ndarray:
        """``values`` (n_steps, n_channels) with the fault over steps ``start:stop``."""
        return self.apply_rows(values, start, stop, rng)[0]

    def apply_rows(self, values: np.ndarray, start: int, stop: int, rng) -> tuple[np.ndarray, np.ndarray]:
        """The faulty values and the rows that carry the fault's label (all of ``start:stop``,
        or the impulse rows of an impulsive fault)."""
        out = np.array(values, dtype=np.float64)
        n = stop - start
        if n <= 0:
            return out, np.arange(0)
        if self.impulses is not None:
            k = int(np.clip(rng.binomial(n, float(self.impulses["rate"])), 1, n))  # at least one impulse
            rows = start + np.sort(rng.choice(n, size=k, replace=False))
            for j, amps in enumerate(self.impulses["amplitude"]):
                if amps:
                    out[rows, j] += rng.choice(np.asarray(amps, dtype=np.float64), size=k)
            return out, rows
        bins = np.minimum((np.arange(n) + 0.5) / n * PROFILE_BINS, PROFILE_BINS - 1).astype(int)
        shape = self.mean if self.shapes is None or not len(self.shapes) else self.shapes[rng.integers(len(self.shapes))]
        dev = _along(shape, n) + self.spread[bins] * rng.standard_normal((n, out.shape[1]))
        out[start:stop] += dev
        for j in np.flatnonzero(self.frozen):
            out[start:stop, j] = values[start, j]
        return out, np.arange(start, stop)


def _along(shape: np.ndarray, n: int) -> np.ndarray:
    """(n, c): a binned shape (PROFILE_BINS, c) read at each of ``n`` steps, linear between the
    bins' centres (held flat before the first and after the last): a ramp stays a ramp instead
    of a staircase whose steps at every bin edge look like impulses."""
    grid = np.arange(len(shape), dtype=np.float64)
    pos = (np.arange(n) + 0.5) / n * len(shape) - 0.5
    return np.stack([np.interp(pos, grid, shape[:, j]) for j in range(shape.shape[1])], axis=1)


def fault_episodes(labels: pd.Series, *, merge_gap: int = 0, merge: set[str] | None = None) -> list[tuple[str, int, int]]:
    """(fault, start, stop) runs of one asset's per-row fault label; 'normal'/'' are not faults.
    Runs of the same fault at most ``merge_gap`` normal rows apart are one episode (for the
    faults in ``merge``, default all): the impulses of one spike episode."""
    codes = labels.fillna("normal").astype(str).to_numpy()
    out: list[tuple[str, int, int]] = []
    i = 0
    while i < len(codes):
        j = i
        while j < len(codes) and codes[j] == codes[i]:
            j += 1
        if codes[i] not in ("normal", "", "0", "none"):
            last = out[-1] if out else None
            joins = merge_gap > 0 and (merge is None or codes[i] in merge)
            if joins and last is not None and last[0] == codes[i] and i - last[2] <= merge_gap:
                out[-1] = (last[0], last[1], j)
            else:
                out.append((codes[i], i, j))
        i = j
    return out


def impulsive_faults(labels: list[pd.Series]) -> set[str]:
    """The faults whose labelled runs last at most ``IMPULSE_ROWS`` rows (median): isolated
    impulses such as spikes, labelled on their own rows."""
    lengths: dict[str, list[int]] = {}
    for lab in labels:
        for fault, start, stop in fault_episodes(lab):
            lengths.setdefault(fault, []).append(stop - start)
    return {f for f, n in lengths.items() if len(n) >= 3 and np.median(n) <= IMPULSE_ROWS}


def _normal_before(x: np.ndarray, normal: np.ndarray, start: int, stop: int):
    """(level, step noise) of the normal rows just before an episode (as many as it is long,
    at least 12); None when fewer than 4 of them are normal."""
    idx = np.arange(max(0, start - max(12, stop - start)), start)
    idx = idx[normal[idx]]
    if len(idx) < 4:
        return None
    return np.nanmedian(x[idx], axis=0), np.nanstd(np.diff(x[idx], axis=0), axis=0)


def episode_features(x: np.ndarray, normal: np.ndarray, start: int, stop: int) -> np.ndarray | None:
    """What a fault episode did, for naming its type: per channel the mean deviation from the
    level before it (in units of the normal step noise, signed-log scaled), then summaries that
    do not depend on which signal a sensor fault hit: the least and most step spread relative to
    normal (a stuck signal stops moving), the two largest deviations, how many channels moved,
    and the strongest trend (a drift grows). None without a normal stretch before it."""
    before = _normal_before(x, normal, start, stop)
    if before is None or stop - start < 3:
        return None
    base, noise = before
    scale = np.maximum(noise, 1e-9)
    dev = (x[start:stop] - base) / scale
    slog = lambda v: np.sign(v) * np.log1p(np.abs(v))  # noqa: E731
    mean = np.nan_to_num(np.nanmean(dev, axis=0))
    steps = np.log(np.nan_to_num(np.nanstd(np.diff(x[start:stop], axis=0), axis=0) / scale, nan=1.0) + 1e-3)
    t = np.arange(stop - start) - (stop - start - 1) / 2.0
    trend = np.abs(np.nan_to_num((np.nan_to_num(dev - mean) * t[:, None]).mean(axis=0) / max(np.mean(t**2), 1e-9)))
    top = np.sort(np.abs(mean))[::-1]
    summary = [steps.min(), steps.max(), slog(top[0]), slog(top[1] if len(top) > 1 else 0.0),
               float(np.sum(np.abs(mean) > 3.0)), slog(trend.max() * (stop - start))]  # fmt: skip
    return np.concatenate([slog(mean), np.asarray(summary)])


def learn_fault_profiles(
    values: list[np.ndarray], labels: list[pd.Series], channels: tuple[str, ...]
) -> dict[str, FaultProfile]:
    """Fault profiles from series (n_steps, n_channels) and their per-row fault labels.

    The normal level of an episode is the median of the normal rows just before it (as many
    as the episode is long, at least 12); its normal noise the spread of their step changes.
    A label ``TYPE:SIGNAL`` is a sensor fault of that one signal: the profile moves only it.
    Whatever else changed during the episodes (a regime switch) enters a process fault's profile
    as noise; it averages out only over many labelled episodes. Each episode's binned deviation
    is kept as a shape to draw from; ``spread`` is the white noise that explains the step
    changes inside the bins beyond normal ones (their slow motion, the process wandering or the
    fault's own ramp, is the shape's or the model's, so it is not added twice). A fault
    labelled on isolated rows (spikes, :func:`impulsive_faults`) is learned as impulses
    instead: a rate and amplitudes (:func:`_impulse_profiles`).
    """
    by_fault: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    lengths: dict[str, list[int]] = {}
    for x, lab in zip(values, labels, strict=True):
        if len(lab) != len(x):
            raise DataError(f"{len(lab)} label rows for a series of {len(x)} rows")
    impulsive = impulsive_faults(labels)
    profiles = _impulse_profiles(values, labels, channels, impulsive)
    for x, lab in zip(values, labels, strict=True):
        normal = lab.fillna("normal").astype(str).isin(["normal", ""]).to_numpy()
        for fault, start, stop in fault_episodes(lab):
            if fault in impulsive:
                continue
            n = stop - start
            before = _normal_before(x, normal, start, stop)
            if before is None:
                continue  # no normal stretch to measure the deviation from
            base, noise = before
            dev = x[start:stop] - base
            bins = np.minimum((np.arange(n) + 0.5) / n * PROFILE_BINS, PROFILE_BINS - 1).astype(int)
            steps = np.nanstd(np.diff(x[start:stop], axis=0), axis=0) if n > 2 else np.full(x.shape[1], np.nan)
            by_fault.setdefault(fault, []).append((bins, dev, np.c_[noise, steps].T))
            lengths.setdefault(fault, []).append(n)
    for fault, items in by_fault.items():
        c = len(channels)
        sq = np.zeros((PROFILE_BINS, c))
        cnt = np.zeros((PROFILE_BINS, c))
        shapes = np.zeros((len(items), PROFILE_BINS, c))
        for i, (bins, dev, _) in enumerate(items):
            shapes[i] = _binned_mean(bins, dev)
            # Step changes inside a bin: the roughness of the episode. Its slow motion (the
            # process wandering, the fault's own ramp) is in the shape or comes from the model.
            d = np.diff(dev, axis=0)
            same = bins[1:] == bins[:-1]
            ok = ~np.isnan(d) & same[:, None]
            for b in range(PROFILE_BINS):
                rows = bins[1:] == b
                sq[b] += np.where(ok[rows], d[rows] ** 2, 0).sum(axis=0)
                cnt[b] += ok[rows].sum(axis=0)
        mean = shapes.mean(axis=0)
        # A bin with too few step changes (short episodes) takes the episodes' pooled figure.
        pooled = sq.sum(axis=0) / np.maximum(cnt.sum(axis=0), 1)
        step_var = np.where(cnt >= 3, sq / np.maximum(cnt, 1), pooled[None])
        noise = np.nanmedian(np.stack([s[0] for _, _, s in items]), axis=0)
        inside = np.stack([s[1] for _, _, s in items])
        # The model supplies normal noise already; only the roughness beyond it is added: white
        # noise of sd s adds 2 s^2 to the variance of the step changes.
        spread = np.sqrt(np.maximum(step_var - (noise**2)[None], 0.0) / 2.0)
        ratio = np.nanmedian(inside, axis=0) / np.maximum(noise, 1e-12)
        frozen = np.nan_to_num(ratio, nan=1.0) < FROZEN_RATIO
        spread[:, frozen] = 0.0
        mean[:, frozen] = 0.0
        shapes[:, :, frozen] = 0.0
        signal = fault.partition(":")[2]
        if signal in channels:
            # A sensor fault (``TYPE:SIGNAL``) corrupts that one signal; what the others did during
            # the episodes (a regime change, say) is the process, not the fault.
            others = np.asarray([c != signal for c in channels])
            mean[:, others] = 0.0
            spread[:, others] = 0.0
            shapes[:, :, others] = 0.0
            frozen = frozen & ~others
        if len(shapes) > MAX_SHAPES:  # enough of them to draw from; the record stays small
            shapes = shapes[np.random.default_rng(0).choice(len(shapes), MAX_SHAPES, replace=False)]
        profiles[fault] = FaultProfile(
            fault, tuple(channels), mean, spread, frozen, len(items), int(np.median(lengths[fault])), shapes=shapes
        )
    return profiles


def _binned_mean(bins: np.ndarray, dev: np.ndarray) -> np.ndarray:
    """(PROFILE_BINS, c): an episode's mean deviation per bin of progress; a bin it has no
    reading in (a short episode) takes the nearest bins' (linear between them), 0 with none."""
    out = np.full((PROFILE_BINS, dev.shape[1]), np.nan)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # an empty bin or an unread channel: NaN, filled below
        for b in np.unique(bins):
            out[b] = np.nanmean(dev[bins == b], axis=0)
    grid = np.arange(PROFILE_BINS)
    for j in range(out.shape[1]):
        ok = np.isfinite(out[:, j])
        out[:, j] = np.interp(grid, grid[ok], out[ok, j]) if ok.any() else 0.0
    return out


def _impulse_profiles(values, labels, channels: tuple[str, ...], impulsive: set[str]) -> dict[str, FaultProfile]:
    """Profiles of impulsive faults: the impulses of one fault at most ``IMPULSE_GAP`` rows apart
    form an episode; its rate is impulses per row of the episodes, and each channel's amplitudes
    are the impulses' deviations from the median of the normal rows around the episode (only
    the labelled signal's, for ``TYPE:SIGNAL``; only channels that move beyond 3 normal steps)."""
    found: dict[str, dict] = {}
    for x, lab in zip(values, labels, strict=True):
        codes = lab.fillna("normal").astype(str).to_numpy()
        normal = np.isin(codes, ["normal", ""])
        for fault, start, stop in fault_episodes(lab, merge_gap=IMPULSE_GAP, merge=impulsive):
            if fault not in impulsive:
                continue
            near = np.arange(max(0, start - IMPULSE_GAP), min(len(x), stop + IMPULSE_GAP))
            near = near[normal[near]]
            if len(near) < 4:
                continue  # no normal readings around to measure the impulses from
            base = np.nanmedian(x[near], axis=0)
            noise = np.nanstd(np.diff(x[near], axis=0), axis=0)
            rows = start + np.flatnonzero(codes[start:stop] == fault)
            d = found.setdefault(fault, {"dev": [], "noise": [], "impulses": 0, "rows": 0, "lengths": []})
            d["dev"].append(x[rows] - base)
            d["noise"].append(noise)
            d["impulses"] += len(rows)
            d["rows"] += stop - start
            d["lengths"].append(stop - start)
    profiles = {}
    c = len(channels)
    rng = np.random.default_rng(0)
    for fault, d in found.items():
        dev = np.concatenate(d["dev"])
        noise = np.nanmedian(np.stack(d["noise"]), axis=0)
        signal = fault.partition(":")[2]
        moves = np.nanmedian(np.abs(dev), axis=0) > 3.0 * np.maximum(noise, 1e-12)
        if signal in channels:
            moves = np.asarray([ch == signal for ch in channels])
        amplitude = []
        for j in range(c):
            col = dev[:, j][np.isfinite(dev[:, j])]
            if not moves[j] or not len(col):
                amplitude.append([])
                continue
            if len(col) > 256:  # a sample of them is enough to resample from
                col = rng.choice(col, 256, replace=False)
            amplitude.append([float(v) for v in col])
        zeros = np.zeros((PROFILE_BINS, c))
        profiles[fault] = FaultProfile(
            fault, tuple(channels), zeros, zeros.copy(), np.zeros(c, dtype=bool), len(d["lengths"]),
            int(np.median(d["lengths"])), impulses={"rate": d["impulses"] / max(d["rows"], 1), "amplitude": amplitude},
        )  # fmt: skip
    return profiles
