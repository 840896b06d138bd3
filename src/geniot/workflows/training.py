"""Train a generator on windows and save it as an artifact folder (shared by CLI and service)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError, GeniotError
from geniot.core.registry import generator_class
from geniot.data.splits import interleaved_holdout
from geniot.privacy import DPGenerator  # importing registers "dp", so DP artifacts load
from geniot.workflows.datasets import WindowSet, holdout_split


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
) -> BaseGenerator:
    """Fit ``model`` on the windows, record where they came from, and save it to ``out``.

    ``holdout`` keeps a fraction of windows out of training so that the memorization check can
    compare synthetic windows with real windows the model never saw: by default in blocks spread
    over the whole span (``holdout_split_by="blocks"``), or the latest stretch (``"time"``).
    The record (``metadata_``) holds the channels, the window, the sampling interval and time
    span (``timing``) and the source file's layout (``layout``), so that ``geniot synthesize``
    writes data on the same clock and in the same columns.
    """
    train = data.windows if holdout <= 0 else holdout_split(data.windows, holdout, holdout_split_by)[0]
    calibration_windows, skipped = None, None
    if calibration > 0 and model.tags.likelihood != "none":
        # Normal windows the model never sees, in blocks across the span (so they share its
        # regimes), calibrate the anomaly threshold: `geniot detect MODEL DATA` needs no more.
        try:
            keep, held = interleaved_holdout(len(train), calibration, gap=train.shape[1])
            train, calibration_windows = train[keep], train[held]
        except DataError as exc:  # too little data to spare: train on all of it and say so
            skipped = f"no detector calibrated: {exc}"
    model.fit(train, progress=progress)
    model.metadata_ = {
        "channels": list(data.channels),
        "units": data.units,
        "assets": list(data.assets),
        "window": int(window),
        "stride": int(stride),
        "source": data.source,
        "holdout": float(holdout),
        "holdout_split": holdout_split_by,
        "timing": dict(data.timing),
        "layout": source_layout(data.source),
        "n_training_windows": int(len(train)),
        "train_rows": None if train_rows is None else int(train_rows),
    }
    if data.faults:
        model.metadata_["faults"] = dict(data.faults)
    if skipped:
        model.metadata_["calibration"] = {"skipped": skipped}
    if calibration_windows is not None:
        from geniot.tasks import AnomalyDetector

        detector = AnomalyDetector(model, prefit=True).calibrate_windows(calibration_windows)
        model.metadata_["calibration"] = {
            "fraction": float(calibration), "split": "blocks", "windows": int(len(calibration_windows)),
            "threshold": float(detector.threshold_.value), "rule": detector.threshold_.rule,
        }  # fmt: skip
        if out is not None:
            detector.save(out)  # the generator's folder plus detector.json
            return model
    if out is not None:
        model.save(out)
    return model


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


def channel_names(model: BaseGenerator) -> list[str]:
    """The training data's channel names, or ch0..chN for models fitted on bare arrays."""
    names = getattr(model, "metadata_", {}).get("channels")
    return list(names) if names else [f"ch{i}" for i in range(model.n_channels_)]
