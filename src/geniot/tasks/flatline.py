"""A signal that stops moving: the fault a likelihood detector cannot see.

A stuck sensor holds a plausible value, and a constant run near the mean is *more* likely under
a Gaussian (or any smooth density) than the noisy truth, so a detector that flags unlikely
windows passes it (on the simulator fleet it flagged none of the real stuck sensors). This rule
learns, per channel, the longest run of steps that barely move (``|step|`` below ``tol`` of the
channel's median step) in real normal data, and flags runs longer than ``margin`` times that
(at least ``min_run`` steps). Quantized or slow signals that sit still in normal data raise
their own limit, so they do not alarm.
"""

from __future__ import annotations

import warnings

import numpy as np

from geniot.core.exceptions import DataError, NotFittedError


def _still_runs(x: np.ndarray, tol: np.ndarray) -> np.ndarray:
    """(n_steps, n_channels) length of the still run each step ends (0 where it moved)."""
    still = np.zeros(x.shape, dtype=bool)
    still[1:] = np.abs(np.diff(x, axis=0)) <= tol  # NaN steps compare False: a gap breaks a run
    runs = np.zeros(x.shape, dtype=np.int64)
    for t in range(1, len(x)):
        runs[t] = np.where(still[t], runs[t - 1] + 1, 0)
    return runs


class FlatlineDetector:
    """Flags steps where a channel has barely moved for longer than it ever does normally."""

    def __init__(self, *, tol: float = 0.01, margin: float = 2.0, min_run: int = 6) -> None:
        self.tol = tol
        self.margin = margin
        self.min_run = min_run

    def fit(self, series: list[np.ndarray]) -> FlatlineDetector:
        """Learn each channel's typical step and longest still run from normal series."""
        arrays = [np.asarray(s, dtype=np.float64) for s in series]
        if not arrays or any(a.ndim != 2 or len(a) < 3 for a in arrays):
            raise DataError("FlatlineDetector.fit needs series shaped (n_steps >= 3, n_channels)")
        c = arrays[0].shape[1]
        if any(a.shape[1] != c for a in arrays):
            raise DataError("all series must have the same channels")
        steps = np.concatenate([np.abs(np.diff(a, axis=0)) for a in arrays])
        typical = np.nanmedian(steps, axis=0)
        self.tol_ = self.tol * np.where(np.isfinite(typical), typical, 0.0)
        longest = np.max([_still_runs(a, self.tol_).max(axis=0) for a in arrays], axis=0)
        self.longest_normal_ = longest
        self.limit_ = np.maximum(np.ceil(self.margin * longest), self.min_run).astype(np.int64)
        return self

    def flags(self, x) -> np.ndarray:
        """(n_steps,) True where some channel's still run is past its limit (the whole run)."""
        per = self.channel_flags(x)
        return per.any(axis=1)

    def channel_flags(self, x) -> np.ndarray:
        """(n_steps, n_channels): which channel is stuck at each step."""
        if not hasattr(self, "limit_"):
            raise NotFittedError("FlatlineDetector is not fitted yet; call fit first")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != len(self.limit_):
            raise DataError(f"expected a series shaped (n_steps, {len(self.limit_)}), got {x.shape}")
        runs = _still_runs(x, self.tol_)
        out = np.zeros(x.shape, dtype=bool)
        for j in range(x.shape[1]):
            for t in np.flatnonzero(runs[:, j] > self.limit_[j]):
                out[t - runs[t, j] : t + 1, j] = True  # the run from where it stopped moving
        return out


# ---------------------------------------------------------------- the rule the detectors run
#
# ``FlatlineDetector`` above judges a whole series at once and flags each run from where it
# stopped moving (it looks back). The rule below is the causal one that batch detection, the
# streaming scorer and the edge runtime share, so that all three flag the same readings:
#
# * per channel, a run holds while each observed reading lies within ``tol`` of the reading that
#   started it (its anchor); a reading further away starts a new run; a dropped reading (NaN)
#   neither moves nor holds it (a stuck sensor whose readings drop now and then is still stuck);
# * a reading is stuck on channel j once the run has held for more than ``limit[j]`` readings
#   after its anchor; ``limit[j]`` is ``margin`` times the longest run of real normal data (at
#   least ``min_run``); 0 means the channel is not judged: one that sits still on more than
#   ``max_still_share`` of normal readings (a setpoint, a slow or coarsely quantised signal)
#   cannot be told stuck by stillness.
#
# ``geniot.edge.runtime`` holds a numpy copy of :meth:`StuckRule.step` (it cannot import
# ``geniot.tasks``, which needs torch); ``tests/edge/test_stuck_parity.py`` keeps them equal.


class StuckState:
    """The run of each channel so far: what a live scorer keeps between readings."""

    def __init__(self, n_channels: int) -> None:
        self.anchor = np.full(n_channels, np.nan)  # the value each run holds
        self.anchor_time: list = [None] * n_channels  # when it started
        self.run = np.zeros(n_channels, dtype=np.int64)  # observed readings since the anchor within tol


class StuckRule:
    """Learned per channel from normal data: how long a reading may repeat (see above)."""

    def __init__(self, *, tol: float = 0.01, margin: float = 2.0, min_run: int = 6, max_still_share: float = 0.5) -> None:
        self.tol = tol
        self.margin = margin
        self.min_run = min_run
        self.max_still_share = max_still_share

    def fit(self, series: list[np.ndarray], *, skip: list[int] | tuple[int, ...] = ()) -> StuckRule:
        """Learn each channel's tolerance and limit from normal series (n_steps, c); channels in
        ``skip`` (operating conditions) are not judged."""
        arrays = [np.asarray(s, dtype=np.float64) for s in series if len(s) >= 2]
        if not arrays or any(a.ndim != 2 for a in arrays):
            raise DataError("StuckRule.fit needs normal series shaped (n_steps >= 2, n_channels)")
        c = arrays[0].shape[1]
        if any(a.shape[1] != c for a in arrays):
            raise DataError("all normal series must have the same channels")
        steps = np.concatenate([np.abs(np.diff(a, axis=0)) for a in arrays])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a sensor never read twice in a row: NaN, not judged below
            typical = np.nanmedian(steps, axis=0) if len(steps) else np.zeros(c)
        self.tol_ = self.tol * np.where(np.isfinite(typical), typical, 0.0)
        longest = np.zeros(c, dtype=np.int64)
        still = np.zeros(c, dtype=np.int64)
        seen = np.zeros(c, dtype=np.int64)
        for a in arrays:
            runs = self.runs(a)
            longest = np.maximum(longest, runs.max(axis=0))
            still += ((runs > 0) & ~np.isnan(a)).sum(axis=0)
            seen += (~np.isnan(a)).sum(axis=0)
        self.longest_normal_ = longest
        self.still_share_ = np.where(seen > 0, still / np.maximum(seen, 1), 1.0)
        limit = np.maximum(np.ceil(self.margin * longest), self.min_run).astype(np.int64)
        off = (self.still_share_ > self.max_still_share) | (seen == 0)
        off[list(skip)] = True
        self.limit_ = np.where(off, 0, limit)
        return self

    def fit_windows(self, windows, *, skip=()) -> StuckRule:
        """Learn from normal windows (n, t, c) cut with a stride from ordered series (what
        ``geniot fit`` keeps to calibrate): overlapping neighbours are joined back into series."""
        return self.fit(join_windows(windows), skip=skip)

    # ------------------------------------------------------------ applying it
    def _check(self, n_channels: int) -> None:
        if not hasattr(self, "limit_"):
            raise NotFittedError("StuckRule is not fitted yet; call fit first")
        if n_channels != len(self.limit_):
            raise DataError(f"the stuck rule was learned on {len(self.limit_)} channels, got {n_channels}")

    def step(self, state: StuckState, row: np.ndarray, time=None) -> np.ndarray:
        """Advance ``state`` by one reading (c,); returns which channels are stuck at it."""
        row = np.asarray(row, dtype=np.float64).reshape(-1)
        self._check(row.size)
        with np.errstate(invalid="ignore"):
            held = np.abs(row - state.anchor) <= self.tol_  # False where either is NaN
        moved = ~np.isnan(row) & ~held
        state.run = np.where(held, state.run + 1, np.where(moved, 0, state.run))
        state.anchor = np.where(moved, row, state.anchor)
        for j in np.flatnonzero(moved):
            state.anchor_time[j] = time
        return (self.limit_ > 0) & (state.run > self.limit_)

    def runs(self, x) -> np.ndarray:
        """(n_steps, c): each reading's run length, as :meth:`step` counts it from a fresh state."""
        x = np.asarray(x, dtype=np.float64)
        state = StuckState(x.shape[1])
        out = np.zeros(x.shape, dtype=np.int64)
        tol = self.tol_
        for t in range(len(x)):  # the same arithmetic as ``step`` (without its checks: it is hot)
            row = x[t]
            with np.errstate(invalid="ignore"):
                held = np.abs(row - state.anchor) <= tol
            moved = ~np.isnan(row) & ~held
            state.run = np.where(held, state.run + 1, np.where(moved, 0, state.run))
            state.anchor = np.where(moved, row, state.anchor)
            out[t] = state.run
        return out

    def channel_flags(self, x) -> np.ndarray:
        """(n_steps, c): which channel is stuck at each reading (causal: from the reading at
        which its run passed the limit; what a live scorer flags)."""
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2:
            raise DataError(f"expected a series shaped (n_steps, n_channels), got {x.shape}")
        self._check(x.shape[1])
        return (self.limit_ > 0) & (self.runs(x) > self.limit_)

    def reasons(self, x, channels: list[str], timestamps=None) -> list[str]:
        """Per reading: "stuck: <sensor> held <value> for <time>" for each stuck channel
        (joined by "; "), "" where none is."""
        x = np.asarray(x, dtype=np.float64)
        self._check(x.shape[1])
        state = StuckState(x.shape[1])
        out = []
        for t in range(len(x)):
            stuck = self.step(state, x[t], None if timestamps is None else timestamps[t])
            out.append(stuck_reason(state, stuck, channels, None if timestamps is None else timestamps[t]))
        return out

    # ------------------------------------------------------------ persistence
    def to_dict(self) -> dict:
        return {"tol": self.tol_.tolist(), "limit": self.limit_.tolist(), "longest_normal": self.longest_normal_.tolist(),
                "still_share": self.still_share_.tolist(),
                "settings": {"tol": self.tol, "margin": self.margin, "min_run": self.min_run,
                             "max_still_share": self.max_still_share}}  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict) -> StuckRule:
        try:
            rule = cls(**d["settings"])
            rule.tol_ = np.asarray(d["tol"], dtype=np.float64)
            rule.limit_ = np.asarray(d["limit"], dtype=np.int64)
            rule.longest_normal_ = np.asarray(d["longest_normal"], dtype=np.int64)
            rule.still_share_ = np.asarray(d["still_share"], dtype=np.float64)
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"the saved stuck rule is unreadable ({exc!r})") from exc
        return rule


def stuck_reason(state: StuckState, stuck: np.ndarray, channels: list[str], now=None) -> str:
    """The reason text of the stuck channels at this reading ("" when none is)."""
    parts = []
    for j in np.flatnonzero(stuck):
        parts.append(f"stuck: {channels[j]} held {state.anchor[j]:.4g} for {held_for(state.anchor_time[j], now, int(state.run[j]))}")
    return "; ".join(parts)


def held_for(start, now, repeats: int) -> str:
    """How long a run has held: minutes between its anchor's time and now when both are times,
    else the number of readings (the anchor and its repeats)."""
    from geniot.core.events import iso_time

    try:
        from datetime import datetime

        a, b = datetime.fromisoformat(iso_time(start)), datetime.fromisoformat(iso_time(now))
        return f"{(b - a).total_seconds() / 60.0:.0f} min"
    except (TypeError, ValueError):
        return f"{repeats + 1} readings"


def join_windows(windows) -> list[np.ndarray]:
    """Ordered windows (n, t, c) back into the series they were cut from: a window that
    continues the one before with a stride s < t (its first t - s steps equal the last t - s of
    the previous) adds its last s steps; any other starts a new series."""
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3:
        raise DataError(f"expected windows shaped (n, t, c), got {w.shape}")
    if len(w) == 0:
        return []
    t = w.shape[1]
    series, current = [], [w[0]]
    for prev, nxt in zip(w[:-1], w[1:], strict=True):
        for s in range(1, t):
            if np.array_equal(prev[s:], nxt[: t - s], equal_nan=True):
                current.append(nxt[t - s :])
                break
        else:
            series.append(np.concatenate(current))
            current = [nxt]
    series.append(np.concatenate(current))
    return series
