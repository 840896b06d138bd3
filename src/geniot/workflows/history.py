"""Anomaly detection over a store's history: a detector per asset, its events in the store.

The demo runs it so that a fresh plant already has detectors and events to ask about; the
service runs it for the history that was stored before an asset's detector existed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from geniot.data.series import SensorSeries
from geniot.data.store import SensorStore
from geniot.tasks import AnomalyDetector
from geniot.tasks.events import EventTracker, feed_tracker
from geniot.workflows.asset_detector import (
    history_detector,
    save_asset_detector,
    train_asset_detector,
)


def store_events(store: SensorStore, asset: str, series: SensorSeries, detector: AnomalyDetector) -> int:
    """Detect over ``series`` and upsert its events; returns how many."""
    return len(track_history(store, asset, series, detector).events())


def track_history(store: SensorStore, asset: str, series: SensorSeries, detector: AnomalyDetector) -> EventTracker:
    """Detect over ``series``, upsert its events and return the event tracker at its last step,
    for live scoring to continue (``StreamingScorer.continue_from``). Ids are ``asset@start``,
    so a rescan, or live scoring of the same steps, upserts the same rows; an event that may
    still go on at the end of the history is stored open."""
    detection = detector.detect(series)
    threshold = float(detection.threshold)
    tracker = detector.event_tracker(asset=asset)
    feed_tracker(tracker, detection.raw_flags, detection.scores,  # a stuck sensor flags a step whatever its score
                 channel_z=detection.channel_z, timestamps=series.timestamps)  # fmt: skip
    for event in tracker.events():
        store.upsert_event(event.record(threshold))
    return tracker


def scan_history(
    store: SensorStore,
    models_dir: Path,
    *,
    assets: list[str] | None = None,
    window: int = 16,
    normal_days: float | None = None,
    say: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Fit a detector per asset (saved as ``models_dir/<asset>-gaussian``), detect over the
    whole stored history and store the events. Returns events per asset."""
    counts = {}
    for asset in assets or store.assets():
        series = store.read_wide(asset)
        detector = train_asset_detector(series, asset, detector=history_detector(window), normal_days=normal_days)
        save_asset_detector(detector, Path(models_dir) / f"{asset}-gaussian")
        counts[asset] = store_events(store, asset, series, detector)
        if say is not None:
            say(f"{asset}: {counts[asset]} anomaly events ({detector.threshold_.rule})")
    return counts
