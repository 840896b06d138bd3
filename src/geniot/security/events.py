"""A security event and its table (one row per event)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import pandas as pd

EVENT_COLUMNS = ("asset", "start", "end", "kind", "attack", "reason", "detected_at", "signal", "source")
KINDS = ("process", "integrity", "traffic")


@dataclass
class SecurityEvent:
    """``start``/``end``/``detected_at`` are Unix seconds; ``kind`` is one of :data:`KINDS`;
    ``attack`` names the attack type (``fault`` for process events); ``reason`` says why in words;
    ``source`` is ``topic|publisher`` for traffic-level events."""

    asset: str
    start: float
    end: float
    kind: str
    attack: str
    reason: str
    detected_at: float
    signal: str = ""
    source: str = ""

    def record(self) -> dict:
        """Plain values, times as ISO text (for JSON, MQTT and SIEM export)."""
        out = asdict(self)
        for key in ("start", "end", "detected_at"):
            out[key] = _iso(out[key])
        return out


def _iso(seconds: float) -> str:
    return pd.Timestamp(round(seconds * 1e6), unit="us").isoformat()


def events_frame(events: list[SecurityEvent]) -> pd.DataFrame:
    """The events as a table, times as timestamps, ordered by asset and start."""
    frame = pd.DataFrame([asdict(e) for e in events], columns=list(EVENT_COLUMNS))
    for key in ("start", "end", "detected_at"):
        frame[key] = pd.to_datetime((frame[key].astype(float) * 1e6).round().astype("int64"), unit="us")
    return frame.sort_values(["asset", "start"], ignore_index=True)
