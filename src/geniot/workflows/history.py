"""Anomaly detection over a store's history: a detector per asset, its events in the store.

The demo runs it so that a fresh plant already has detectors and events to ask about; the
service runs it for the history that was stored before an asset's detector existed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.data.series import SensorSeries
from geniot.data.store import SensorStore
from geniot.tasks import AnomalyDetector
from geniot.workflows.training import build_model


def save_asset_detector(detector: AnomalyDetector, series: SensorSeries, asset: str, out: Path) -> Path:
    """Save a fitted detector for one asset atomically, with the metadata the service lists."""
    window = int(detector.generator_.n_steps_)
    detector.generator_.metadata_ = {
        **detector.generator_.metadata_, "channels": list(series.channels), "asset": asset,
        "window": window, "units": series.units,
    }  # fmt: skip
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    detector.save(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out


def fit_asset_detector(series: SensorSeries, *, window: int = 16, normal_days: float | None = None,
                       min_event_steps: int = 3, merge_gap: int = 5) -> AnomalyDetector:  # fmt: skip
    """A Gaussian-baseline detector on the asset's first ``normal_days``, or on all of its history
    (None: anomalies are assumed rare; a first day alone misses the daily and load cycles of a
    week and flags them as anomalies)."""
    normal = series
    if normal_days is not None:
        start = series.timestamps[0]
        normal = series.slice_time(None, start + np.timedelta64(int(normal_days * 86400), "s"))
    detector = AnomalyDetector(
        build_model("gaussian", seed=0), window=window, min_event_steps=min_event_steps, merge_gap=merge_gap
    )
    return detector.fit(normal)


def store_events(store: SensorStore, asset: str, series: SensorSeries, detector: AnomalyDetector) -> int:
    """Detect over ``series`` and upsert its events (ids from asset and start: re-runs replace)."""
    detection = detector.detect(series)
    ts = pd.to_datetime(series.timestamps)
    threshold = float(detection.threshold)
    for ev in detection.events:
        start = ts[ev.start].to_pydatetime()
        store.upsert_event({
            "id": f"{asset}@{start.isoformat()}", "asset": asset, "start_ts": start,
            "end_ts": ts[ev.end].to_pydatetime(), "peak_ts": ts[ev.peak].to_pydatetime(),
            "peak_score": float(ev.peak_score), "threshold": threshold,
            "top_sensors": ";".join(ev.top_sensors), "is_open": False,
        })  # fmt: skip
    return len(detection.events)


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
        detector = fit_asset_detector(series, window=window, normal_days=normal_days)
        save_asset_detector(detector, series, asset, Path(models_dir) / f"{asset}-gaussian")
        counts[asset] = store_events(store, asset, series, detector)
        if say is not None:
            say(f"{asset}: {counts[asset]} anomaly events ({detector.threshold_.rule})")
    return counts
