"""The learned traffic model of a plant's data channel, and its live monitor.

Learned from normal message logs, per stream (an MQTT topic and the client publishing on it):
messages per sliding window (``window_s``), the longest gap between messages, the delay from a
message's own time stamp to its arrival (the clocks), and payload sizes. The whitelist is the set
of streams seen. The monitor takes one message at a time and raises:

* ``spoof`` (integrity): a publisher or topic never seen in normal operation;
* ``stale`` (integrity): a time stamp too old for the learned delay, from the future, or going back;
* ``flood`` (traffic): more messages in a window than normal operation ever had, with margin;
* ``silence`` (traffic): a stream quiet far longer than its longest normal gap;
* ``payload`` (traffic): a payload size outside the learned range.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from geniot.core.exceptions import DataError
from geniot.security.events import SecurityEvent
from geniot.security.messages import Message


def stream_key(topic: str, publisher: str) -> str:
    return f"{topic}|{publisher}"


@dataclass
class StreamProfile:
    asset: str
    count_limit: int
    silence_s: float
    delay_low_s: float
    delay_high_s: float
    payload_low: int
    payload_high: int


def fit_traffic(messages: list[Message], *, window_s: float, interval_s: float, min_silence_s: float) -> dict[str, StreamProfile]:
    """A profile per stream of normal messages (each with its traffic side)."""
    by_stream: dict[str, list[Message]] = {}
    for m in messages:
        if m.received_at is None:
            raise DataError("the traffic model needs received_at on every message")
        by_stream.setdefault(stream_key(m.topic, m.publisher), []).append(m)
    out = {}
    for key, msgs in by_stream.items():
        recv = np.sort(np.array([m.received_at for m in msgs]))
        delay = np.array([m.received_at - m.ts for m in msgs])
        size = np.array([m.payload_bytes for m in msgs])
        counts = np.searchsorted(recv, recv + window_s, side="left") - np.arange(len(recv))
        gaps = np.diff(recv) if len(recv) > 1 else np.array([interval_s])
        spread = max(float(delay.max() - delay.min()), interval_s * 0.5)
        out[key] = StreamProfile(
            asset=msgs[0].asset,
            count_limit=int(np.ceil(counts.max() * 1.5)) + 2,
            silence_s=max(1.5 * float(gaps.max()), float(min_silence_s)),
            delay_low_s=float(delay.min()) - spread,
            delay_high_s=float(delay.max()) + 2.0 * spread + interval_s,
            payload_low=int(np.floor(size.min() * 0.8)),
            payload_high=int(np.ceil(size.max() * 1.25)),
        )
    return out


@dataclass
class _Open:
    event: SecurityEvent
    last: float


@dataclass
class _StreamState:
    recent: deque = field(default_factory=deque)
    last_recv: float | None = None
    last_ts: float | None = None
    silence_told: bool = False  # a silence already raised by tick() while it lasted


class TrafficMonitor:
    """One message at a time; returns the events that close (and keeps the open ones)."""

    def __init__(self, profiles: dict[str, StreamProfile], *, window_s: float) -> None:
        self.profiles = profiles
        self.window_s = float(window_s)
        self._state: dict[str, _StreamState] = {k: _StreamState() for k in profiles}
        self._open: dict[tuple[str, str], _Open] = {}
        self.now: float | None = None

    def known(self, m: Message) -> bool:
        return stream_key(m.topic, m.publisher) in self.profiles

    def update(self, m: Message) -> tuple[list[SecurityEvent], bool]:
        """(closed events, whether the message's readings are trustworthy for the process view)."""
        now = m.received_at
        self.now = now if self.now is None else max(self.now, now)
        closed = self._close_idle(self.now)
        key = stream_key(m.topic, m.publisher)
        prof = self.profiles.get(key)
        if prof is None:
            known_topics = {k.split("|", 1)[0] for k in self.profiles}
            what = f"publisher {m.publisher!r} never seen on topic {m.topic!r}" if m.topic in known_topics else f"topic {m.topic!r} never seen"
            self._flag(key, "spoof", "integrity", m, f"{what} in normal operation (spoofed source); its readings are kept out", closed)
            return closed, False
        st = self._state[key]
        if st.last_recv is not None and now - st.last_recv > prof.silence_s and not st.silence_told:
            gap = now - st.last_recv
            closed.append(SecurityEvent(prof.asset, st.last_recv, now, "traffic", "silence",
                                        f"no message on {m.topic!r} for {gap / 60:.0f} min (normal longest gap allows {prof.silence_s / 60:.0f} min)",
                                        st.last_recv + prof.silence_s, source=key))  # fmt: skip
        st.recent.append(now)
        while st.recent and st.recent[0] <= now - self.window_s:
            st.recent.popleft()
        trusted = True
        if len(st.recent) > prof.count_limit:
            self._flag(key, "flood", "traffic", m, f"{len(st.recent)} messages within {self.window_s:.0f} s on {m.topic!r} "
                       f"(normal at most {prof.count_limit})", closed)  # fmt: skip
        delay = now - m.ts
        if delay > prof.delay_high_s or delay < prof.delay_low_s or (st.last_ts is not None and m.ts < st.last_ts - prof.delay_high_s):
            why = ("time stamp from the future" if delay < prof.delay_low_s else
                   f"time stamp {delay / 60:.1f} min behind its arrival (normal at most {prof.delay_high_s:.1f} s)")  # fmt: skip
            self._flag(key, "stale", "integrity", m, f"{why}: manipulated or replayed clock; its readings are kept out", closed)
            trusted = False
        else:
            st.last_ts = m.ts if st.last_ts is None else max(st.last_ts, m.ts)
        if m.payload_bytes is not None and not prof.payload_low <= m.payload_bytes <= prof.payload_high:
            self._flag(key, "payload", "traffic", m, f"payload of {m.payload_bytes} bytes (normal {prof.payload_low}-{prof.payload_high})", closed)
        st.last_recv, st.silence_told = now, False
        return closed, trusted

    def _flag(self, key: str, attack: str, kind: str, m: Message, reason: str, closed: list) -> None:
        slot = (key, attack)
        t = m.received_at
        op = self._open.get(slot)
        if op is None:
            asset = self.profiles[key].asset if key in self.profiles else m.asset
            self._open[slot] = _Open(SecurityEvent(asset, t, t, kind, attack, reason, t, source=key), t)
        else:
            op.event.end = t
            op.last = t

    def _close_idle(self, now: float) -> list[SecurityEvent]:
        out = []
        for slot in [s for s, op in self._open.items() if now - op.last > self.window_s]:
            out.append(self._open.pop(slot).event)
        return out

    def flush(self, now: float | None = None) -> list[SecurityEvent]:
        """Close everything: open events and silences up to ``now`` (default: the latest arrival)."""
        now = self.now if now is None else now
        out = [op.event for op in self._open.values()]
        self._open.clear()
        if now is not None:
            for key, st in self._state.items():
                prof = self.profiles[key]
                if st.last_recv is not None and now - st.last_recv > prof.silence_s and not st.silence_told:
                    out.append(SecurityEvent(prof.asset, st.last_recv, now, "traffic", "silence",
                                             f"no message for {(now - st.last_recv) / 60:.0f} min so far", st.last_recv + prof.silence_s, source=key))  # fmt: skip
                    st.last_recv = now
        return out

    def tick(self, now: float) -> list[SecurityEvent]:
        """Close idle events and raise silences still going on at wall-clock ``now`` (a live
        service calls this now and then; each silence is raised once)."""
        self.now = now if self.now is None else max(self.now, now)
        out = self._close_idle(self.now)
        for key, st in self._state.items():
            prof = self.profiles[key]
            if st.last_recv is not None and not st.silence_told and self.now - st.last_recv > prof.silence_s:
                out.append(SecurityEvent(prof.asset, st.last_recv, self.now, "traffic", "silence",
                                         f"no message for {(self.now - st.last_recv) / 60:.0f} min so far (normal longest gap allows "
                                         f"{prof.silence_s / 60:.0f} min)", self.now, source=key))  # fmt: skip
                st.silence_told = True
        return out
