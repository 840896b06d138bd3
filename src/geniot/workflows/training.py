"""Train a generator on windows and save it as an artifact folder (shared by CLI and service)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError, GeniotError
from geniot.core.record import TrainingRecord, channel_names
from geniot.data.splits import interleaved_holdout
from geniot.models.registry import generator_class
from geniot.privacy import DPGenerator  # importing registers "dp", so DP artifacts load
from geniot.workflows.datasets import WindowSet, holdout_split, windows_from_file
from geniot.workflows.errors import TrainingDataError


def build_model(
    name: str,
    *,
    params: dict[str, Any] | None = None,
    max_minutes: float | None = None,
    seed: int | None = None,
    epsilon: float | None = None,
    delta: float = 1e-5,
) -> BaseGenerator:
    """A generator from its registry name; ``max_minutes`` and ``seed`` go where the model has them.

    With ``epsilon`` the generator is wrapped in a :class:`~geniot.privacy.DPGenerator` that trains
    it with DP-SGD within the (epsilon, delta) budget.
    """
    cls = generator_class(name)
    accepted = {
        p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY
    }
    params = dict(params or {})
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise GeniotError(f"model {name!r} has no parameter(s) {unknown}; it takes {sorted(accepted)}")
    if max_minutes is not None and "max_minutes" in accepted:
        params.setdefault("max_minutes", max_minutes)
    if seed is not None and "random_state" in accepted:
        params.setdefault("random_state", seed)
    model = cls(**params)
    if epsilon is not None:
        if isinstance(model, DPGenerator):
            raise GeniotError("the model is already a DP generator; set its epsilon in --params instead of --epsilon")
        model = DPGenerator(generator=model, epsilon=float(epsilon), delta=float(delta), random_state=seed)
    return model


def parse_params(text: str | None) -> dict[str, Any]:
    """Model parameters from a JSON object given on the command line."""
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeniotError(f"--params must be a JSON object: {exc}") from exc
    if not isinstance(params, dict):
        raise GeniotError("--params must be a JSON object, e.g. '{\"epochs\": 50}'")
    return params


@dataclass(frozen=True)
class TrainingSplit:
    """The windows of one training run: fitted on, calibrating the detector, held out."""

    fit: np.ndarray
    calibration: np.ndarray | None
    holdout: np.ndarray | None
    calibration_skipped: str | None = None


def split_training_windows(
    windows: np.ndarray, *, holdout: float = 0.0, holdout_split_by: str = "blocks", calibration: float = 0.0
) -> TrainingSplit:
    """The one split of training windows: ``holdout`` of them out (blocks over the span or the
    latest stretch), then ``calibration`` of the rest (blocks across the span, so the calibration
    windows share its regimes). Training and its replay (:func:`replay_training_windows`) both
    call it, so ``report`` and ``audit`` see exactly the windows training saw."""
    fit, held = windows, None
    if holdout > 0:
        fit, held = holdout_split(windows, holdout, holdout_split_by)
    calibration_windows, skipped = None, None
    if calibration > 0:
        try:
            keep, cal = interleaved_holdout(len(fit), calibration, gap=fit.shape[1])
            fit, calibration_windows = fit[keep], fit[cal]
        except DataError as exc:  # too little data to spare: train on all of it and say so
            skipped = f"no detector calibrated: {exc}"
    return TrainingSplit(fit, calibration_windows, held, skipped)


def training_record(
    data: WindowSet,
    split: TrainingSplit,
    *,
    window: int,
    stride: int = 1,
    holdout: float = 0.0,
    holdout_split_by: str = "blocks",
    calibration: float = 0.0,
    train_rows: int | None = None,
    labels: str | None = None,
    seed: int | None = None,
    budget_minutes: float | None = None,
) -> TrainingRecord:
    """The record saved with a model trained on ``data`` (see :class:`TrainingRecord`)."""
    return TrainingRecord(
        source=data.source,
        assets=tuple(data.assets),
        window=int(window),
        stride=int(stride),
        train_rows=None if train_rows is None else int(train_rows),
        labels=None if labels is None else str(labels),
        holdout=float(holdout),
        holdout_split=holdout_split_by,
        calibration=0.0 if split.calibration is None else float(calibration),
        calibration_skipped=split.calibration_skipped,
        n_training_windows=int(len(split.fit)),
        seed=seed,
        budget_minutes=budget_minutes,
        units=dict(data.units),
        timing=dict(data.timing),
        layout=source_layout(data.source),
        faults=dict(data.faults),
        conditions=tuple(data.condition_names),
    )


def train_and_save(
    data: WindowSet,
    model: BaseGenerator,
    out: Path | None,
    *,
    window: int,
    stride: int = 1,
    holdout: float = 0.0,
    progress: Callable[[dict], None] | None = None,
    train_rows: int | None = None,
    holdout_split_by: str = "blocks",
    calibration: float = 0.0,
    labels: str | None = None,
    seed: int | None = None,
    budget_minutes: float | None = None,
) -> BaseGenerator:
    """Fit ``model`` on the windows, record where they came from, and save it to ``out``.

    ``holdout`` keeps a fraction of windows out of training so that the memorization check can
    compare synthetic windows with real windows the model never saw: by default in blocks spread
    over the whole span (``holdout_split_by="blocks"``), or the latest stretch (``"time"``).
    ``calibration`` keeps normal windows the model never sees out to calibrate an anomaly detector
    saved beside it (``geniot detect MODEL DATA`` needs no more). The training record
    (``training_``) holds all of it plus the sampling clock and the source file's layout, so
    ``report``, ``audit`` and ``synthesize`` replay the same windows and write on the same clock.
    """
    share = calibration if model.tags.likelihood != "none" else 0.0
    split = split_training_windows(data.windows, holdout=holdout, holdout_split_by=holdout_split_by, calibration=share)
    record = training_record(
        data, split, window=window, stride=stride, holdout=holdout, holdout_split_by=holdout_split_by,
        calibration=share, train_rows=train_rows, labels=labels, seed=seed, budget_minutes=budget_minutes,
    )  # fmt: skip
    conditions = None
    if data.conditions is not None:  # each window's conditions (the calendar), split alike
        rows = np.arange(len(data.windows), dtype=np.float64)[:, None, None].repeat(data.windows.shape[1], axis=1)
        kept = split_training_windows(rows, holdout=holdout, holdout_split_by=holdout_split_by, calibration=share).fit
        conditions = data.conditions[kept[:, 0, 0].astype(np.int64)]
    model.fit(split.fit, conditions=conditions, progress=progress, channels=data.channels, record=record)
    if split.calibration is not None:
        from geniot.tasks import AnomalyDetector

        # One-step-ahead scores: a regime change is judged once, by what the past does not explain.
        # The stuck-sensor rule learns how long each sensor sits still from all the normal windows.
        detector = AnomalyDetector(generator=model, prefit=True, score="step").calibrate_windows(split.calibration, stuck_windows=split.fit)
        if out is not None:
            detector.save(out)  # the generator's folder plus detector.json
            return model
    if out is not None:
        model.save(out)
    return model


def replay_training_windows(model: BaseGenerator, path=None, *, asset: str | None = None) -> TrainingSplit:
    """The windows ``model`` was trained on, cut again from ``path`` (default: the recorded
    source) as its training record says: same window, stride, asset, first rows, labels and
    splits. What ``report``, ``evaluate --model`` and ``audit --model`` compare against."""
    record = model.training_
    source = path if path is not None else record.source
    if not source:
        raise TrainingDataError("the model records no training file; give the data file")
    if record.window is None:
        raise TrainingDataError("the model records no training window (fitted outside `geniot fit`)")
    data = windows_from_file(
        source, record.window, stride=record.stride, asset=asset or record.asset,
        train_rows=record.train_rows, labels=record.labels,
    )  # fmt: skip
    if tuple(data.channels) != tuple(channel_names(model)):
        raise TrainingDataError(
            f"{source} has channels {list(data.channels)}, the model was trained on {channel_names(model)}"
        )
    split = split_training_windows(
        data.windows, holdout=record.holdout, holdout_split_by=record.holdout_split, calibration=record.calibration
    )
    if record.n_training_windows is not None and len(split.fit) != record.n_training_windows:
        raise TrainingDataError(
            f"{source} gives {len(split.fit)} training windows, the model was trained on "
            f"{record.n_training_windows}: not the file (or not the rows) it was trained on"
        )
    return split


def source_layout(source: str) -> dict[str, Any]:
    """How the training file lays out its readings: format, wide/long, the time column and the
    column order (read from the header only). Empty when the source is not a readable file."""
    from geniot.data.io import TIME_NAMES, file_layout

    path = Path(source) if source else None
    if path is None or not path.is_file():
        return {}
    lower = path.name.lower()
    fmt = "parquet" if lower.endswith((".parquet", ".pq")) else "csv"
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            columns = [str(c) for c in pq.read_schema(path).names]
        else:
            import pandas as pd

            columns = [str(c).strip() for c in pd.read_csv(path, nrows=0, sep=None, engine="python").columns]
        layout = file_layout(path)
    except Exception as exc:  # the record is a convenience: say why it is missing, do not fail fit
        return {"error": f"could not read the layout of {path}: {exc}"}
    time_column = next((c for c in columns if c.lower() in TIME_NAMES), None)
    return {"format": fmt, "layout": layout, "columns": columns, "time_column": time_column}


__all__ = [
    "TrainingSplit", "build_model", "channel_names", "parse_params", "replay_training_windows",
    "source_layout", "split_training_windows", "train_and_save", "training_record",
]  # fmt: skip
