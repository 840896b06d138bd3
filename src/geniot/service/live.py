"""Live scoring: readings as they are stored become rows per asset, scored one at a time by the
asset's active detector; flagged runs become events (stored and published); gaps in the newest
row are filled by the model or by holding the last value, whichever filled held-out newest readings
of the asset's history better (``tasks.live_fill``; the choice is in health).

Events come from the one event tracker (``geniot.core.events``): activating a detector scans the
stored history with it (``workflows.history.track_history``) and live scoring continues that
tracker, so history and live give one event per anomaly, each stored once under ``asset@start``.

Containment: a failure while scoring, filling or storing an event of one asset pauses that
asset's scoring (the error is kept and shown in health) and never reaches the writer thread or
the other assets. A paused asset starts again from an empty window: the next full window of new
readings is scored, and if that works the pause ends.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.clock import fill_missing_steps
from geniot.data.store import SensorStore
from geniot.ingest.messages import Reading
from geniot.tasks import AnomalyDetector
from geniot.tasks.events import Event
from geniot.tasks.live_fill import NewestStepFiller
from geniot.workflows.history import track_history

_MAX_PENDING_TS = 64  # timestamps kept open per asset while their signals arrive


@dataclass
class AssetState:
    detector: AnomalyDetector
    model: str
    channels: list[str]
    scorer: object
    imputer: NewestStepFiller
    pending: dict[datetime, dict[str, float]] = field(default_factory=dict)
    recent: deque = field(default_factory=lambda: deque(maxlen=2048))  # (ts, score, flag, threshold it was judged against)
    last_ts: datetime | None = None
    event: Event | None = None  # the running event, once it spans min_event_steps
    scored: int = 0
    error: str | None = None  # set while scoring is paused by a failure
    errors: int = 0
    paused_at: float | None = None


class LiveMonitor:
    def __init__(self, store: SensorStore, publish: Callable[[str, dict], None] | None = None) -> None:
        self.store = store
        self.publish = publish
        self._assets: dict[str, AssetState] = {}
        self._lock = threading.Lock()
        self.security = None  # a service.security_feed.SecurityFeed when a security detector is active

    # ------------------------------------------------------------ models
    def activate(self, asset: str, detector: AnomalyDetector, model: str) -> None:
        gen = detector.generator_
        channels = list(gen.channel_names_ or [])
        state = AssetState(detector, model, channels, detector.stream(asset=asset), NewestStepFiller(gen))
        self._warm_start(asset, state)
        with self._lock:
            self._assets[asset] = state
            if state.last_ts is not None:  # readings stored while the history was scanned
                try:
                    late = self.store.read_wide(asset, start=state.last_ts, signals=state.channels)
                    for ts, row in zip(late.timestamps, late.values, strict=True):
                        ts = pd.Timestamp(ts).to_pydatetime()
                        if ts > state.last_ts:
                            self._score(asset, state, ts, row)
                except DataError:
                    pass  # nothing newer
                except Exception as exc:  # noqa: BLE001 - contained to this asset
                    self._pause(asset, state, exc, "scoring")

    def detector(self, asset: str) -> AnomalyDetector:
        with self._lock:
            return self._assets[asset].detector

    def _warm_start(self, asset: str, state: AssetState) -> None:
        """Scan the stored history with the event tracker (its events upserted), then prime the
        scorer with the stored tail so that the next reading is scored at once and continues
        the history's events (an anomaly running at the hand-over stays one event)."""
        try:
            series = self.store.read_wide(asset, signals=state.channels)
        except Exception:  # no history yet: the scorer fills up from live readings
            state.imputer.fit(np.empty((0, len(state.channels))))
            return
        state.imputer.fit(series.values)
        if series.n_steps == 0:
            return
        try:
            if series.n_steps >= state.scorer.window:
                state.scorer.continue_from(track_history(self.store, asset, series, state.detector))
                state.event = state.scorer.tracker.current
            n = state.scorer.window + int(state.detector.smoothing) - 2  # a window and the smoothing memory
            grid = fill_missing_steps(series).series.values  # an outage in the tail as gaps, as the scan read it
            state.scorer.warm(grid[-n:] if n > 0 else grid[:0], times=series.timestamps[-256:])
            state.last_ts = pd.Timestamp(series.timestamps[-1]).to_pydatetime()
        except Exception as exc:  # noqa: BLE001 - a bad stored row pauses this asset only
            self._pause(asset, state, exc, "history scan")
            state.last_ts = pd.Timestamp(series.timestamps[-1]).to_pydatetime()

    def deactivate(self, model: str) -> None:
        with self._lock:
            for asset in [a for a, s in self._assets.items() if s.model == model]:
                del self._assets[asset]

    def status(self) -> dict[str, dict]:
        with self._lock:
            return {
                a: {"model": s.model, "scored": s.scored, "threshold": s.detector.threshold_.value,
                    "switch_threshold": None if getattr(s.detector, "moving_threshold_", None) is None
                    else s.detector.moving_threshold_.value,  # regime-switch windows' own
                    "open_event": s.event is not None, "paused": s.error is not None,
                    "error": s.error, "errors": s.errors, "fills": s.imputer.summary(),
                    "fills_reason": s.imputer.reason}
                for a, s in self._assets.items()
            }  # fmt: skip

    def scoring(self) -> dict:
        """``{"active": [asset...], "paused": {asset: error}}`` for health."""
        with self._lock:
            return {
                "active": sorted(a for a, s in self._assets.items() if s.error is None),
                "paused": {a: s.error for a, s in sorted(self._assets.items()) if s.error is not None},
            }

    def recent_scores(self, asset: str) -> list[tuple]:
        with self._lock:
            state = self._assets.get(asset)
            return list(state.recent) if state else []

    # ------------------------------------------------------------ feed
    def on_stored(self, readings: list[Reading]) -> None:
        if self.security is not None:  # contains its own failures
            self.security.on_stored(readings)
        with self._lock:
            for r in readings:
                state = self._assets.get(r.asset)
                if state is None or (state.last_ts is not None and r.ts <= state.last_ts):
                    continue
                state.pending.setdefault(r.ts, {})[r.signal] = r.value
            for asset, state in self._assets.items():
                try:
                    self._drain(asset, state)
                except Exception as exc:  # noqa: BLE001 - contained to this asset
                    self._pause(asset, state, exc, "scoring")

    def _pause(self, asset: str, state: AssetState, exc: BaseException, what: str) -> None:
        """Pause one asset's scoring with its error; its window starts again empty."""
        state.error = f"{what} failed at {state.last_ts}: {type(exc).__name__}: {exc}"[:500]
        state.errors += 1
        state.paused_at = time.time()
        state.pending.clear()
        try:
            state.scorer = state.detector.stream(asset=asset)
        except Exception:  # noqa: BLE001 - stays paused; the error above says why
            traceback.print_exc()
        print(f"geniot: live scoring of {asset!r} paused: {state.error}", flush=True)

    def _drain(self, asset: str, state: AssetState) -> None:
        """Score every pending row that is complete, or that a newer row has overtaken."""
        if not state.pending:
            return
        times = sorted(state.pending)
        newest = times[-1]
        for ts in times:
            row = state.pending[ts]
            complete = all(c in row for c in state.channels)
            if not complete and ts == newest and len(state.pending) <= _MAX_PENDING_TS:
                break  # wait for the rest of this row
            del state.pending[ts]
            values = np.array([row.get(c, np.nan) for c in state.channels])
            self._score(asset, state, ts, values)

    def _score(self, asset: str, state: AssetState, ts: datetime, values: np.ndarray) -> None:
        state.last_ts = ts
        result = state.scorer.update(values, ts)
        if np.isnan(values).any():
            self._fill(asset, state, ts)
        if result is None:
            return
        state.scored += 1
        state.error = state.paused_at = None  # a clean score ends a pause
        state.recent.append((ts, result.score, result.flag, result.threshold))
        for change in result.changes:  # opened / extended / closed, by the shared tracker
            record = change.event.record(result.threshold)
            self.store.upsert_event(record)
            state.event = change.event if change.kind != "closed" else None
            if change.kind != "extended":
                self._emit(change.event.message(result.threshold, change.kind))

    def _fill(self, asset: str, state: AssetState, ts: datetime) -> None:
        window = state.scorer.last_window()
        if len(window) < state.scorer.window:
            return
        filled, lower, upper = state.imputer.fill(window)
        gaps = np.isnan(window[-1]) & ~np.isnan(filled)  # a signal unseen in the whole window stays a gap
        rows = [(pd.Timestamp(ts), asset, state.channels[j], filled[j], lower[j], upper[j]) for j in np.flatnonzero(gaps)]
        if not rows:
            return
        self.store.add_fills(pd.DataFrame(rows, columns=["ts", "asset", "signal", "value", "lower", "upper"]))

    def _emit(self, message: dict) -> None:
        if self.publish is None:
            return
        try:
            self.publish(message["asset"], message)
        except Exception:  # alerts are best effort; the event is stored either way
            pass
