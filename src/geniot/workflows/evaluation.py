"""Score synthetic windows against real ones and write the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.metrics import evaluate_synthetic
from geniot.report import write_report
from geniot.workflows.datasets import time_split_windows


def split_for_memorization(real: np.ndarray, model: BaseGenerator | None):
    """(train, holdout) windows if the model was fitted with a time hold-out, else (None, None)."""
    holdout = 0.0 if model is None else float(getattr(model, "metadata_", {}).get("holdout", 0.0))
    if holdout <= 0:
        return None, None
    return time_split_windows(real, 1.0 - holdout)


def evaluate(
    real: np.ndarray,
    synth: np.ndarray,
    *,
    model: BaseGenerator | None = None,
    fast: bool = True,
    seed: int = 0,
) -> dict[str, Any]:
    """All fidelity, utility and memorization metrics as one flat dict."""
    if real.shape[1:] != synth.shape[1:]:
        raise DataError(
            f"synthetic windows are shaped {synth.shape[1:]} (steps, channels) but the real "
            f"windows are {real.shape[1:]}; use the same --window and channels"
        )
    train, holdout = split_for_memorization(real, model)
    # The metrics compare whole windows, so real windows with gaps are left out of them.
    real_complete = complete_windows(real)
    if train is not None:
        train, holdout = complete_windows(train), complete_windows(holdout)
    metrics = evaluate_synthetic(
        real_complete, synth, train=train, holdout=holdout, fast=fast, random_state=seed
    )
    metrics["n_real_with_gaps_skipped"] = int(len(real) - len(real_complete))
    return metrics


def complete_windows(windows: np.ndarray) -> np.ndarray:
    """The windows without any gap; an error if there are none."""
    keep = ~np.isnan(windows).any(axis=(1, 2))
    if not keep.any():
        raise DataError(
            "every real window has a gap; use a shorter --window or fill the gaps first"
        )
    return windows[keep]


def write_evaluation_report(
    out,
    *,
    metrics: dict[str, Any],
    real: np.ndarray,
    synth: np.ndarray,
    channels,
    model: BaseGenerator | None = None,
    title: str = "geniot synthetic data report",
    extra_sections=None,
) -> Path:
    model_info = None
    history = None
    if model is not None:
        model_info = {"model": model.registry_name, **model.get_params(), **getattr(model, "metadata_", {})}
        history = model.history_
    return write_report(
        Path(out),
        title=title,
        metrics=metrics,
        real=real,
        synth=synth,
        channel_names=list(channels),
        history=history,
        model_info=model_info,
        extra_sections=extra_sections,
    )
