"""Group consecutive anomalous steps into events an engineer can read."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np


@dataclass(frozen=True)
class Event:
    start: int  # first flagged step (index into the series)
    end: int  # last flagged step, inclusive
    peak: int  # step with the highest score
    peak_score: float
    top_sensors: tuple[str, ...]
    start_time: str | None = None
    end_time: str | None = None

    @property
    def n_steps(self) -> int:
        return self.end - self.start + 1

    def to_dict(self) -> dict:
        return {**asdict(self), "top_sensors": list(self.top_sensors), "n_steps": self.n_steps}


def group_events(
    flags: np.ndarray,
    scores: np.ndarray,
    *,
    channel_z: np.ndarray | None = None,
    channels: list[str] | None = None,
    timestamps: np.ndarray | None = None,
    merge_gap: int = 0,
    min_steps: int = 1,
    top_k: int = 3,
) -> list[Event]:
    """Runs of flagged steps, merged across gaps of at most ``merge_gap`` unflagged steps and
    kept if at least ``min_steps`` long. ``channel_z`` (n_steps, c), where given, ranks the
    sensors of each event by their mean excess over normal."""
    flags = np.asarray(flags, dtype=bool)
    idx = np.flatnonzero(flags)
    if idx.size == 0:
        return []
    breaks = np.flatnonzero(np.diff(idx) > merge_gap + 1)
    starts = np.concatenate([[idx[0]], idx[breaks + 1]])
    ends = np.concatenate([idx[breaks], [idx[-1]]])
    events = []
    for s, e in zip(starts, ends, strict=True):
        if e - s + 1 < min_steps:
            continue
        seg = np.where(np.isfinite(scores[s : e + 1]), scores[s : e + 1], -np.inf)
        peak = int(s + np.argmax(seg))
        top: tuple[str, ...] = ()
        if channel_z is not None and channels is not None:
            z = channel_z[s : e + 1][flags[s : e + 1]]
            if np.isfinite(z).any():
                mean_z = np.nanmean(np.where(np.isfinite(z), z, np.nan), axis=0)
                top = tuple(channels[j] for j in np.argsort(-np.nan_to_num(mean_z, nan=-np.inf))[:top_k]
                            if np.isfinite(mean_z[j]) and mean_z[j] > 0)
        events.append(
            Event(
                start=int(s),
                end=int(e),
                peak=peak,
                peak_score=float(scores[peak]),
                top_sensors=top,
                start_time=None if timestamps is None else str(timestamps[s]),
                end_time=None if timestamps is None else str(timestamps[e]),
            )
        )
    return events


def debounce(flags: np.ndarray, merge_gap: int, min_steps: int) -> np.ndarray:
    """Flags with gaps of at most ``merge_gap`` steps filled and runs shorter than
    ``min_steps`` removed (the steps of the events ``group_events`` keeps)."""
    flags = np.asarray(flags, dtype=bool)
    out = np.zeros_like(flags)
    for event in group_events(flags, np.zeros(len(flags)), merge_gap=merge_gap, min_steps=min_steps):
        out[event.start : event.end + 1] = True
    return out
