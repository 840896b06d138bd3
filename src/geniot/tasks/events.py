"""Group anomalous steps into events an engineer can read.

The rules and the tracker live in :mod:`geniot.core.events` (numpy only, so that the edge
runtime uses the same code); offline grouping here is that tracker run over a whole series.
"""

from __future__ import annotations

import numpy as np

from geniot.core.events import (
    Change,
    Event,
    EventTracker,
    event_id,
    feed_tracker,
    flag_scores,
    iso_time,
    rank_sensors,
    reading_row,
    smooth_scores,
    track_events,
)

__all__ = [
    "Change", "Event", "EventTracker", "debounce", "event_id", "feed_tracker", "flag_scores", "group_events", "iso_time",
    "rank_sensors", "reading_row", "smooth_scores", "track_events",
]  # fmt: skip


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
    asset: str | None = None,
) -> list[Event]:
    """Runs of flagged steps, merged across gaps of at most ``merge_gap`` unflagged steps and
    kept if at least ``min_steps`` long (the events an :class:`EventTracker` fed the same steps
    one at a time builds). ``channel_z`` (n_steps, c), where given, ranks the sensors of each
    event by their mean excess over normal."""
    return track_events(flags, scores, channel_z=channel_z, channels=channels, timestamps=timestamps,
                        merge_gap=merge_gap, min_steps=min_steps, top_k=top_k, asset=asset)  # fmt: skip


def debounce(flags: np.ndarray, merge_gap: int, min_steps: int) -> np.ndarray:
    """Flags with gaps of at most ``merge_gap`` steps filled and runs shorter than
    ``min_steps`` removed (the steps of the events ``group_events`` keeps)."""
    return event_flags(group_events(flags, np.zeros(len(flags)), merge_gap=merge_gap, min_steps=min_steps), len(flags))


def event_flags(events: list[Event], n_steps: int) -> np.ndarray:
    """The steps covered by ``events``: (n_steps,) bool."""
    out = np.zeros(n_steps, dtype=bool)
    for event in events:
        out[event.start : event.end + 1] = True
    return out
