"""The one way anomaly events are built: readings with gaps, smoothed scores, flags, events.

Batch detection, the streaming scorer, the live service, history scans, fleet scoring and the
edge runtime all use these functions, so a stream gives the same events wherever it is scored.
Only the standard library and numpy: ``geniot-edge`` imports this module in a venv without
torch or pandas.

Rules:
* a dropped reading (missing, None, NaN, not a number) is a gap: the window is scored on what was
  observed, and a window with nothing observed scores NaN; an infinite reading is an error;
* a step's smoothed score is the mean of the last ``k`` window scores that are not NaN (+inf, a
  window too extreme to score, counts and makes the mean +inf); NaN when all ``k`` are NaN;
* a step is flagged when its smoothed score is above the threshold (NaN never is);
* an event is a run of flagged steps, bridged across at most ``merge_gap`` unflagged steps, kept
  once it spans ``min_steps`` steps; it closes after ``merge_gap + 1`` unflagged steps. Its peak is
  its highest score, its sensors those with the largest mean z over its steps, and its id is
  ``asset@start`` (``start`` in ISO time, UTC), so rescoring the same history upserts it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

import numpy as np

# ------------------------------------------------------------------ readings


def reading_row(values, channels: list[str]) -> np.ndarray:
    """One reading as floats in ``channels`` order; a dropped value is NaN (a gap).

    ``values``: a mapping signal -> value (missing keys, None and non-numbers are gaps) or a
    sequence in channel order. Raises ``ValueError`` naming the signal for an unknown signal or an
    infinite value, and for a sequence of the wrong length."""
    if isinstance(values, dict):
        unknown = sorted(set(values) - set(channels))
        if unknown:
            raise ValueError(f"unknown signal(s) {unknown}; the model has {channels}")
        row = np.array([_number(values.get(ch)) for ch in channels], dtype=np.float64)
    else:
        row = np.asarray(values, dtype=np.float64).reshape(-1)
        if row.size != len(channels):
            raise ValueError(f"a reading must have {len(channels)} values ({', '.join(channels)}), got {row.size}")
    if np.isinf(row).any():
        j = int(np.flatnonzero(np.isinf(row))[0])
        raise ValueError(f"infinite value in a reading (signal {channels[j]!r})")
    return row


def _number(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


# ------------------------------------------------------------------ scores and flags


def smooth_scores(raw, k: int) -> np.ndarray:
    """Trailing mean over ``k`` window scores, NaN skipped (+inf kept): (n,) -> (n,).

    The streaming scorer calls it on its last ``k`` scores and keeps the last value, so the
    live number is this function's, bit for bit."""
    raw = np.asarray(raw, dtype=np.float64).reshape(-1)
    k = int(k)
    if k <= 1 or raw.size == 0:
        return raw.copy()
    padded = np.concatenate([np.full(k - 1, np.nan), raw])
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    known = ~np.isnan(windows)
    count = known.sum(axis=1)
    total = np.where(known, windows, 0.0).sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def flag_scores(scores, threshold) -> np.ndarray:
    """Steps whose score is above the threshold (one number, or one per step); a NaN score, a
    window with nothing seen, never is."""
    scores = np.asarray(scores, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(scores) & (scores > np.asarray(threshold, dtype=np.float64))


def rank_sensors(z, channels: list[str], top_k: int) -> tuple[str, ...]:
    """The ``top_k`` sensors with the largest positive z (a sensor more surprising than on normal
    data; +inf, too surprising to compute, first), largest first; ties keep channel order."""
    z = np.asarray(z, dtype=np.float64).reshape(-1)
    known = ~np.isnan(z)
    if not known.any():
        return ()
    order = np.argsort(-np.where(known, z, -np.inf), kind="stable")[: int(top_k)]
    return tuple(channels[j] for j in order if known[j] and z[j] > 0)


# ------------------------------------------------------------------ times and ids


def iso_time(t) -> str | None:
    """A timestamp as ISO text in UTC without a zone (what the store holds): datetime (an aware
    one is converted), numpy datetime64, ISO text (no zone: UTC) or Unix seconds. None stays None."""
    if t is None:
        return None
    if isinstance(t, (int, float, np.integer, np.floating)) and not isinstance(t, bool):
        t = datetime.fromtimestamp(float(t), tz=UTC)  # Unix seconds, as the ingest reads them
    elif isinstance(t, np.datetime64):
        if np.isnat(t):
            return None
        t = t.astype("datetime64[us]").item()
    elif isinstance(t, str):
        try:
            t = datetime.fromisoformat(t.strip())
        except ValueError:
            return t.strip()  # not ISO (e.g. a row label): kept as given
    if isinstance(t, datetime):
        if t.tzinfo is not None:
            t = t.astimezone(UTC).replace(tzinfo=None)
        return t.isoformat()
    return str(t)


def event_id(asset: str, start_time) -> str:
    """``asset@start``: the same event scored again (a rescan, another scorer) has the same id."""
    return f"{asset}@{iso_time(start_time)}"


# ------------------------------------------------------------------ events


@dataclass(frozen=True)
class Event:
    start: int  # first flagged step (index into the stream)
    end: int  # last flagged step, inclusive
    peak: int  # step with the highest score
    peak_score: float
    top_sensors: tuple[str, ...]
    start_time: str | None = None  # ISO, UTC
    end_time: str | None = None
    peak_time: str | None = None
    is_open: bool = False  # fewer than merge_gap + 1 unflagged steps have followed it yet
    asset: str | None = None

    @property
    def n_steps(self) -> int:
        return self.end - self.start + 1

    @property
    def id(self) -> str | None:
        """``asset@start`` (None for an event of a series without an asset)."""
        if self.asset is None:
            return None
        return event_id(self.asset, self.start_time if self.start_time is not None else str(self.start))

    def to_dict(self) -> dict:
        return {**asdict(self), "top_sensors": list(self.top_sensors), "n_steps": self.n_steps, "id": self.id}

    def record(self, threshold: float) -> dict:
        """The row the store keeps (``SensorStore.upsert_event``) and alerts carry."""
        def when(iso):
            try:
                return datetime.fromisoformat(iso) if iso is not None else None
            except ValueError:
                return iso  # not a time (a row label): kept as text

        return {
            "id": self.id, "asset": self.asset, "start_ts": when(self.start_time), "end_ts": when(self.end_time),
            "peak_ts": when(self.peak_time), "peak_score": float(self.peak_score), "threshold": float(threshold),
            "top_sensors": ";".join(self.top_sensors), "is_open": bool(self.is_open),
        }  # fmt: skip

    def message(self, threshold: float, kind: str) -> dict:
        """The JSON alert for an event that opened or closed (times as ISO text; a score that is
        not finite, a window the model could not score, as null)."""
        out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in self.record(threshold).items()}
        for k in ("peak_score", "threshold"):
            if not math.isfinite(out[k]):
                out[k] = None
        return {**out, "kind": kind}


@dataclass(frozen=True)
class Change:
    kind: str  # "opened" (it spans min_steps now), "extended" (a later end) or "closed"
    event: Event


class EventTracker:
    """Builds events one step at a time (``update``), with bounded memory.

    A candidate opens at a flagged step, extends over later flags (bridging at most
    ``merge_gap`` unflagged steps), becomes an event ("opened") once it spans ``min_steps``
    steps and closes after ``merge_gap + 1`` unflagged steps; a candidate that closes shorter
    is dropped. ``events()`` is every kept event so far, the running one last (``is_open``).
    Offline grouping (``group_events``) runs the same tracker over a whole series.
    """

    def __init__(self, *, channels: list[str] | None = None, merge_gap: int = 0, min_steps: int = 1,
                 top_k: int = 3, asset: str | None = None, keep_closed: bool = True) -> None:  # fmt: skip
        if int(merge_gap) < 0 or int(min_steps) < 1:
            raise ValueError(f"merge_gap must be >= 0 and min_steps >= 1, got {merge_gap} and {min_steps}")
        self.channels = list(channels) if channels is not None else None
        self.merge_gap = int(merge_gap)
        self.min_steps = int(min_steps)
        self.top_k = int(top_k)
        self.asset = asset
        self.keep_closed = keep_closed  # a live scorer keeps no history of closed events
        self.closed: list[Event] = []
        self._open: dict | None = None
        self._gap: list = []  # (score, z, time) of the unflagged steps since the last flag (<= merge_gap)
        self.step = -1  # index of the last step seen

    # -------------------------------------------------------------- state
    @property
    def current(self) -> Event | None:
        """The running event once it spans ``min_steps`` (None before, or when none runs)."""
        if self._open is None or not self._confirmed():
            return None
        return self._event(is_open=True)

    def events(self) -> list[Event]:
        running = self.current
        return [*self.closed, *([running] if running is not None else [])]

    def _confirmed(self) -> bool:
        return self._open["end"] - self._open["start"] + 1 >= self.min_steps

    # -------------------------------------------------------------- feed
    def update(self, flag: bool, score: float, *, z=None, time=None, report: bool = True) -> list[Change]:
        """One step: its flag, smoothed score, sensor z-scores (NaN where not computed) and time.
        Returns what changed (``report=False``: nothing, for a whole series at once)."""
        self.step += 1
        ev = self._open
        if flag:
            if ev is None:
                self._open = ev = {"start": self.step, "start_time": time, "end": self.step, "end_time": time,
                                   "peak": self.step, "peak_score": float(score), "peak_time": time,
                                   "z_sum": None, "z_n": None}  # fmt: skip
                was_confirmed = False
            else:
                was_confirmed = self._confirmed()
                for step, (s_gap, z_gap, t_gap) in enumerate(self._gap, start=ev["end"] + 1):
                    self._add_step(ev, step, s_gap, z_gap, t_gap)  # bridged steps belong to the event
                ev["end"], ev["end_time"] = self.step, time
                self._add_step(ev, self.step, score, None, time)
            self._gap = []
            self._add_z(ev, z)
            if not report or not self._confirmed():
                return []
            return [Change("extended" if was_confirmed else "opened", self._event(is_open=True))]
        if ev is None:
            return []
        self._gap.append((score, z, time))
        if len(self._gap) <= self.merge_gap:
            return []
        return self._close()

    def finish(self) -> list[Event]:
        """Every kept event; the running one stays open (more steps may extend it)."""
        return self.events()

    def _close(self) -> list[Change]:
        confirmed = self._confirmed()
        event = self._event(is_open=False) if confirmed else None
        self._open, self._gap = None, []
        if event is None:
            return []
        if self.keep_closed:
            self.closed.append(event)
        return [Change("closed", event)]

    def _add_step(self, ev: dict, step: int, score: float, z, time) -> None:
        if _above(score, ev["peak_score"]):
            ev["peak"], ev["peak_score"], ev["peak_time"] = step, float(score), time
        self._add_z(ev, z)

    def _add_z(self, ev: dict, z) -> None:
        if z is None:
            return
        z = np.asarray(z, dtype=np.float64).reshape(-1)
        known = ~np.isnan(z)
        if ev["z_sum"] is None:
            ev["z_sum"], ev["z_n"] = np.zeros(z.size), np.zeros(z.size, dtype=np.int64)
        with np.errstate(over="ignore", invalid="ignore"):  # extreme sensors sum to +inf: still first
            ev["z_sum"] += np.where(known, z, 0.0)
        ev["z_n"] += known

    def _event(self, *, is_open: bool) -> Event:
        ev = self._open
        top: tuple[str, ...] = ()
        if ev["z_sum"] is not None and self.channels is not None:
            with np.errstate(invalid="ignore", divide="ignore"):
                mean_z = np.where(ev["z_n"] > 0, ev["z_sum"] / np.maximum(ev["z_n"], 1), np.nan)
            top = rank_sensors(mean_z, self.channels, self.top_k)
        return Event(
            start=ev["start"], end=ev["end"], peak=ev["peak"], peak_score=ev["peak_score"], top_sensors=top,
            start_time=iso_time(ev["start_time"]), end_time=iso_time(ev["end_time"]),
            peak_time=iso_time(ev["peak_time"]), is_open=is_open, asset=self.asset,
        )  # fmt: skip


def _above(score: float, peak: float) -> bool:
    """A new peak: strictly higher (the first of equal scores stays), NaN never."""
    score = float(score)
    return not math.isnan(score) and (math.isnan(peak) or score > peak)


def track_events(flags, scores, *, channel_z=None, channels=None, timestamps=None, merge_gap: int = 0,
                 min_steps: int = 1, top_k: int = 3, asset: str | None = None) -> list[Event]:  # fmt: skip
    """Run one tracker over a whole series: the events a live scorer would have built."""
    tracker = EventTracker(channels=channels, merge_gap=merge_gap, min_steps=min_steps, top_k=top_k, asset=asset)
    return feed_tracker(tracker, flags, scores, channel_z=channel_z, timestamps=timestamps).finish()


def feed_tracker(tracker: EventTracker, flags, scores, *, channel_z=None, timestamps=None) -> EventTracker:
    """Feed a tracker many steps at once (a history before live scoring takes over from it)."""
    flags = np.asarray(flags, dtype=bool)
    scores = np.asarray(scores, dtype=np.float64)
    base = tracker.step + 1
    flagged = np.flatnonzero(flags)
    pos = 0  # next flagged position in ``flagged``
    i = 0
    while i < len(flags):
        if tracker._open is None and not flags[i]:
            # Idle and unflagged: the tracker would only count these steps; jump to the next flag.
            while pos < len(flagged) and flagged[pos] < i:
                pos += 1
            i = int(flagged[pos]) if pos < len(flagged) else len(flags)
            tracker.step = base + i - 1
            continue
        tracker.update(bool(flags[i]), float(scores[i]), z=None if channel_z is None else channel_z[i],
                       time=None if timestamps is None else timestamps[i], report=False)  # fmt: skip
        i += 1
    return tracker
