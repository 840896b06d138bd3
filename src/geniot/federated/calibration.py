"""Federated threshold calibration: the pooled peaks-over-threshold rule, exactly, from score tails.

The threshold rules (``geniot.tasks.thresholds``) read only the top of the normal scores: POT
fits a Pareto tail above the ``level`` quantile, the quantile rule reads one order statistic.
Every score among the pooled top ``K`` is also among its own site's top ``K``, so when each site
sends its ``K = ceil((1 - level) * N) + 2`` largest calibration scores (N = pooled count, known
from the setup pass) the server knows the pooled top ``K`` exactly, and the rule gives the same
threshold as on all scores pooled in one place. A site reveals about ``1 - level`` (5%) of its
calibration window scores: numbers, not windows.

Sensor attribution needs each channel's typical surprise (median and spread on normal data);
sites send their own median, quartiles and standard deviation and the server takes the
window-weighted mean: an approximation, used only to rank sensors, never to flag.
"""

from __future__ import annotations

import math

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.tasks import AnomalyDetector
from geniot.tasks.thresholds import Threshold, calibrate_threshold

_EXTRA = 2  # order statistics beyond the tail, so that the quantile's interpolation is covered


def tail_size(n_total: int, threshold: str | float, *, level: float, quantile: float) -> int:
    """How many of its largest calibration scores each site sends."""
    if not isinstance(threshold, str):
        return 0
    q = level if threshold == "pot" else quantile
    return min(int(n_total), int(math.ceil((1.0 - float(q)) * n_total)) + _EXTRA)


def site_tail(scores: np.ndarray, k: int) -> np.ndarray:
    """A site's ``k`` largest finite scores, ascending."""
    s = np.sort(np.asarray(scores, dtype=np.float64)[np.isfinite(scores)])
    return s[len(s) - min(k, len(s)) :] if k else s[:0]


def pooled_threshold(
    tails: list[np.ndarray], n_total: int, threshold: str | float, *, risk: float, level: float, quantile: float
) -> Threshold:
    """The threshold ``calibrate_threshold`` gives on all sites' scores pooled, from their tails."""
    if not isinstance(threshold, str):
        return calibrate_threshold(np.zeros(2), threshold)
    k = tail_size(n_total, threshold, level=level, quantile=quantile)
    merged = np.sort(np.concatenate([np.asarray(t, dtype=np.float64) for t in tails]))
    if len(merged) < min(k, n_total):
        raise DataError(f"sites sent {len(merged)} calibration scores, the pooled rule needs {k}")
    top = merged[len(merged) - k :]
    # Below the pooled top k, only the count matters to the rule: stand-ins no larger than it.
    full = np.concatenate([np.full(n_total - k, top[0]), top]) if n_total > k else merged
    return calibrate_threshold(full, threshold, risk=risk, level=level, quantile=quantile)


def channel_summary(surprise: np.ndarray) -> dict[str, np.ndarray]:
    """What a site sends about its sensors' surprise on normal windows (n, c)."""
    q25, q50, q75 = np.nanpercentile(surprise, [25, 50, 75], axis=0)
    return {"n": np.array([float(len(surprise))]), "median": q50, "iqr": q75 - q25, "std": np.nanstd(surprise, axis=0)}


def pooled_channel_stats(parts: list[dict[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Window-weighted centre and scale of each sensor's surprise (as ``AnomalyDetector`` keeps)."""
    weights = np.array([float(p["n"][0]) for p in parts])
    if weights.sum() <= 0:
        raise DataError("no site had calibration windows for sensor attribution")
    w = weights / weights.sum()
    center = sum(wi * p["median"] for wi, p in zip(w, parts, strict=True))
    spread = sum(wi * p["iqr"] for wi, p in zip(w, parts, strict=True)) / 1.349
    std = sum(wi * p["std"] for wi, p in zip(w, parts, strict=True))
    scale = np.where(spread > 1e-12, spread, np.where(std > 1e-12, std, 1.0))
    return np.asarray(center, dtype=np.float64), np.asarray(scale, dtype=np.float64)


DETECTOR_SETTINGS = ("threshold", "risk", "level", "quantile", "calibration_fraction", "min_event_steps", "merge_gap")


def assemble_detector(
    generator: BaseGenerator,
    plan,
    threshold: Threshold,
    *,
    channel_center: np.ndarray | None = None,
    channel_scale: np.ndarray | None = None,
    n_calibration_windows: int = 0,
) -> AnomalyDetector:
    """A calibrated detector over the global generator, as ``AnomalyDetector.load`` builds one."""
    settings = {k: getattr(plan, k) for k in DETECTOR_SETTINGS}
    detector = AnomalyDetector(generator=generator, window=generator.n_steps_, prefit=True, **settings)
    detector.generator_ = generator
    detector.threshold_ = threshold
    detector.n_calibration_windows_ = int(n_calibration_windows)
    c = generator.n_channels_
    detector.channel_center_ = np.zeros(c) if channel_center is None else np.asarray(channel_center, dtype=np.float64)
    detector.channel_scale_ = np.ones(c) if channel_scale is None else np.asarray(channel_scale, dtype=np.float64)
    return detector
