"""Score long histories in chunks across workers; the result equals ``detector.detect(series)``.

Each chunk task runs the detector's own ``detect`` on its rows (with context, see
:mod:`geniot.scale.chunks`) with event clean-up switched off, and keeps its own steps. Scores,
raw flags and sensor attribution of a step depend only on its window and the windows before
it, so the chunks give the serial numbers. What looks along the whole series (merging flags
across gaps, dropping short runs, grouping events) runs once on the joined steps, through the
same event tracker ``detect`` and live scoring use (``geniot.core.events``).

This holds for generators whose window score does not depend on which other windows are scored
in the same call (Gaussian, diffusion). The VAE draws its Monte Carlo noise in sequence over
the whole call, so its chunked scores differ from its serial ones by that noise.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from geniot.core.exceptions import DataError, GeniotError
from geniot.data.series import SensorSeries
from geniot.scale.chunks import Chunk, plan_chunks
from geniot.scale.engine import Progress, SerialEngine
from geniot.tasks import AnomalyDetector, Detection
from geniot.tasks.events import event_flags

DEFAULT_CHUNK_STEPS = 10_000


def detect_chunk(detector: AnomalyDetector, values: np.ndarray, chunk: Chunk):
    """The task: per-step results of one chunk (``values`` are its input rows)."""
    d = detector.detect(values)
    a, b = chunk.out_start - chunk.in_start, chunk.out_end - chunk.in_start
    return d.scores[a:b], d.flags[a:b], d.channel_z[a:b], d.top_sensors[a:b], d.thresholds[a:b]


def score_fleet(
    detectors: Mapping[str, AnomalyDetector],
    fleet: Mapping[str, SensorSeries | np.ndarray],
    *,
    engine=None,
    chunk_steps: int = DEFAULT_CHUNK_STEPS,
    progress: Progress | None = None,
) -> dict[str, Detection]:
    """Every asset's history scored with its own detector; all chunks of all assets are tasks
    of one batch, so a long history and a large fleet both spread over the workers."""
    missing = sorted(set(fleet) - set(detectors))
    if missing:
        raise DataError(f"no model for asset(s) {missing}; models exist for {sorted(detectors)}")
    engine = engine or SerialEngine()
    tasks, plan = [], {}
    for asset, series in fleet.items():
        detector = detectors[asset]
        values = _values(series, detector, asset)
        t = detector.generator_.n_steps_
        chunks = plan_chunks(len(values), chunk_steps, window=t, smoothing=int(detector.smoothing), align=detector.align)
        shared = engine.share(_per_step(detector))
        plan[asset] = len(chunks)
        tasks += [(shared, values[c.in_start : c.in_end], c) for c in chunks]
    parts = iter(engine.map(detect_chunk, tasks, progress=progress))
    out = {}
    for asset, series in fleet.items():
        pieces = [next(parts) for _ in range(plan[asset])]
        out[asset] = _join(detectors[asset], pieces, series)
    return out


def score_history(detector: AnomalyDetector, series, *, engine=None, chunk_steps: int = DEFAULT_CHUNK_STEPS) -> Detection:
    """One history scored in chunks: the same Detection as ``detector.detect(series)``."""
    return score_fleet({"_": detector}, {"_": series}, engine=engine, chunk_steps=chunk_steps)["_"]


def _per_step(detector: AnomalyDetector) -> AnomalyDetector:
    """A copy that flags each step on its own (no merging or dropping of runs)."""
    raw = copy.copy(detector)
    raw.merge_gap, raw.min_event_steps = 0, 1
    return raw


def _values(series, detector: AnomalyDetector, asset: str) -> np.ndarray:
    gen = detector.generator_
    if gen is None or not hasattr(detector, "threshold_"):
        raise GeniotError(f"the detector for asset {asset!r} is not fitted")
    names = gen.channel_names_
    if isinstance(series, SensorSeries):
        if names and list(series.channels) != list(names):
            raise DataError(
                f"asset {asset!r}: the data's channels {list(series.channels)} do not match the model's {list(names)}",
                file=series.source,
            )
        return series.values
    return np.asarray(series, dtype=np.float64)


def _join(detector: AnomalyDetector, pieces: list, series) -> Detection:
    scores = np.concatenate([p[0] for p in pieces])
    flags = np.concatenate([p[1] for p in pieces])
    channel_z = np.concatenate([p[2] for p in pieces])
    top = [t for p in pieces for t in p[3]]
    thresholds = np.concatenate([p[4] for p in pieces])  # per step: a regime switch's windows have their own
    timestamps = series.timestamps if isinstance(series, SensorSeries) else None
    events = detector.events_of(flags, scores, channel_z, timestamps)  # one tracker over the joined steps
    if int(detector.min_event_steps) > 1 or int(detector.merge_gap) > 0:
        flags = event_flags(events, len(flags))
        if detector.attribute != "all":
            top = [t if f else () for t, f in zip(top, flags, strict=True)]
    return Detection(scores, flags, float(detector.threshold_.value), channel_z, top, events, timestamps, thresholds=thresholds)
