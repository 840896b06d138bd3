"""Train an anomaly detector for one asset: the one workflow behind the service's training jobs,
history scans, fleet training and the assistant's on-the-fly models.

The generator (a name, or an unfitted generator that is cloned) is seeded, an
:class:`~geniot.tasks.AnomalyDetector` is fitted on the asset's normal history (the first part
trains, the rest calibrates), and the generator's training record says which asset, source,
rows, window and seed it came from. Saving is atomic (a ``.tmp`` folder renamed into place), so
a service never lists a half-written model.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.core.record import TrainingRecord
from geniot.data.series import SensorSeries
from geniot.tasks import AnomalyDetector
from geniot.workflows.errors import NotEnoughDataError
from geniot.workflows.training import build_model


def history_detector(window: int = 16) -> AnomalyDetector:
    """The per-asset Gaussian detector that history scans and the assistant fit (unfitted):
    events of at least 3 steps, with gaps of up to 5 steps merged."""
    return AnomalyDetector(window=window, min_event_steps=3, merge_gap=5)


def normal_history(series: SensorSeries, normal_days: float | None) -> SensorSeries:
    """The asset's first ``normal_days`` of history (None: all of it)."""
    if normal_days is None:
        return series
    if series.timestamps is None:
        raise NotEnoughDataError(f"asset {series.asset!r} has no timestamps to take {normal_days} days of")
    start = series.timestamps[0]
    return series.slice_time(None, start + np.timedelta64(int(normal_days * 86400), "s"))


def train_asset_detector(
    series: SensorSeries,
    asset: str,
    *,
    generator: BaseGenerator | str = "gaussian",
    params: dict[str, Any] | None = None,
    detector: AnomalyDetector | None = None,
    seed: int | None = 0,
    max_minutes: float | None = None,
    normal_days: float | None = None,
    progress=None,
) -> AnomalyDetector:
    """A fitted detector for ``asset`` from its history ``series``.

    ``generator`` is a registry name (built with ``params``, ``max_minutes`` and ``seed``) or an
    unfitted generator (cloned, and seeded with ``seed`` where it takes a ``random_state``);
    ``detector`` is an unfitted :class:`~geniot.tasks.AnomalyDetector` whose parameters are used
    (cloned, with this generator; default ``AnomalyDetector()``). Errors name the asset.
    """
    template = AnomalyDetector() if detector is None else detector
    if not isinstance(template, AnomalyDetector):
        raise TypeError(f"detector must be an unfitted AnomalyDetector, got {type(template).__name__}")
    if isinstance(generator, str):
        gen = build_model(generator, params=params, max_minutes=max_minutes, seed=seed)
    else:
        gen = generator.clone()
        if seed is not None and "random_state" in gen.get_params():
            gen.set_params(random_state=int(seed))
    normal = normal_history(series, normal_days)
    detector = template.clone().set_params(generator=gen, prefit=False)
    record = TrainingRecord(
        source=series.source or "", assets=(asset,), window=int(detector.window), stride=1,
        train_rows=int(normal.n_steps), calibration=float(detector.calibration_fraction), seed=seed,
        budget_minutes=max_minutes, units=dict(series.units),
    )  # fmt: skip
    try:
        return detector.fit(normal, progress=progress, record=record)
    except DataError as exc:  # say which asset; a domain error keeps its kind for the front ends
        kind = type(exc) if isinstance(exc, NotEnoughDataError) else DataError
        raise kind(f"asset {asset!r}: {exc.reason}", file=exc.file, column=exc.column, row=exc.row) from exc


def save_asset_detector(detector: AnomalyDetector, out: Path) -> Path:
    """Save a fitted detector atomically: written to ``out.tmp``, then renamed to ``out``."""
    out = Path(out)
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    detector.save(tmp)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return out
