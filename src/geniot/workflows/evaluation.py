"""Score synthetic windows against real ones and write the HTML report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.core.record import record_summary
from geniot.metrics import evaluate_synthetic
from geniot.metrics.long_series import long_series_metrics
from geniot.metrics.seams import phase_of_day
from geniot.models import GaussianBaseline
from geniot.report import write_report
from geniot.tasks.long_synthesis import draw_seams, independent_windows
from geniot.workflows.datasets import describe_holdout, holdout_split
from geniot.workflows.training import replay_training_windows


def split_for_memorization(real: np.ndarray | None, model: BaseGenerator | None, path=None):
    """(train, holdout) windows as the model was fitted with a holdout, else (None, None).

    With a model that records its training (``training_``) and a data file ``path``, the windows
    are cut again exactly as training cut them (:func:`replay_training_windows`: the same first
    rows, stride, asset, holdout split and calibration windows), so "train" is the windows the
    model saw and "holdout" the ones it never saw. ``real`` is used only without ``path``.
    """
    if model is None or model.training_.holdout <= 0:
        return None, None
    if path is not None:
        split = replay_training_windows(model, path)
        return split.fit, split.holdout
    record = model.training_
    return holdout_split(real, record.holdout, record.holdout_split)


def evaluate_long(
    real: np.ndarray,
    synth: np.ndarray,
    *,
    interval_s: float,
    window: int,
    context: int | None = None,
    model: BaseGenerator | None = None,
    seed: int = 0,
    timestamps=None,
    real_timestamps=None,
) -> dict[str, Any]:
    """Long-series metrics of a synthetic series (n_steps, n_channels) against the real one,
    beside independent windows concatenated (sampled from ``model`` when given, else random real
    windows) and a block bootstrap of the real series.

    The seams are where `geniot synthesize` joined two draws (:func:`draw_seams`): with a model
    that redraws its joins (``refine``, the diffusion model) the edges of the redrawn windows,
    else (and without a model, said in ``long_seams``) the joins of the continued stretches. With
    both series' ``timestamps`` the phase-matched seam statistic compares each step with real
    steps at the same time of day."""
    if real.shape[1] != synth.shape[1]:
        raise DataError(f"the synthetic series has {synth.shape[1]} channels, the real one {real.shape[1]}")
    if len(synth) < 2 * window:
        raise DataError(f"the synthetic series ({len(synth)} steps) is shorter than two windows of {window}")
    concatenated = None
    if model is not None:
        if model.n_steps_ != window:
            raise DataError(f"the model's window is {model.n_steps_} steps, not {window}")
        conditions = None
        if model.training_.conditions:  # a --calendar model draws each window given its calendar row
            if timestamps is None:
                raise DataError("the model was fitted with calendar conditions; the synthetic series needs timestamps")
            from geniot.workflows.synthesis import model_conditions

            conditions = model_conditions(model, timestamps)
        concatenated = independent_windows(model, len(synth), conditions=conditions, random_state=seed + 1)
    redraw = model is not None and hasattr(model, "refine")
    phases = {}
    if timestamps is not None and real_timestamps is not None:
        phases = {"real_phase": phase_of_day(real_timestamps, interval_s), "synth_phase": phase_of_day(timestamps, interval_s)}
    metrics = long_series_metrics(
        real,
        synth,
        draw_seams(len(synth), window, context, redraw=redraw),
        interval_s=interval_s,
        window=window,
        concatenated=concatenated,
        random_state=seed,
        **phases,
    )
    metrics["long_concatenated_source"] = "model windows" if model is not None else "random real windows"
    metrics["long_seams"] = (
        "edges of the redrawn joins" if redraw else "joins of the continued stretches"
    ) + ("" if model is not None else " (no --model given: assumed; a diffusion model's seams are elsewhere)")
    metrics["long_seams_phase_matched"] = bool(phases)
    return metrics


def evaluate(
    real: np.ndarray,
    synth: np.ndarray,
    *,
    model: BaseGenerator | None = None,
    fast: bool = True,
    seed: int = 0,
    source=None,
) -> dict[str, Any]:
    """All fidelity, utility and memorization metrics as one flat dict. With the ``model`` and
    the data file (``source``) it was trained on, the memorization check replays its training
    split (see :func:`split_for_memorization`)."""
    if real.shape[1:] != synth.shape[1:]:
        raise DataError(
            f"synthetic windows are shaped {synth.shape[1:]} (steps, channels) but the real "
            f"windows are {real.shape[1:]}; use the same --window and channels"
        )
    train, holdout = split_for_memorization(real, model, source)
    # The metrics compare whole windows, so real windows with gaps are left out of them.
    real_complete = complete_windows(real)
    reference = None
    if train is not None:
        train, holdout = complete_windows(train), complete_windows(holdout)
        # What a model that cannot copy gives (the audit's correction): a holdout from another
        # span must not make every model look like a copier.
        reference = GaussianBaseline().fit(train).sample(len(synth), random_state=seed)
    metrics = evaluate_synthetic(
        real_complete, synth, train=train, holdout=holdout, reference=reference, fast=fast, random_state=seed
    )
    if train is not None:
        metrics["memorization_holdout"] = describe_holdout(model.training_.to_json())
        metrics["memorization_n_train"], metrics["memorization_n_holdout"] = int(len(train)), int(len(holdout))
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
        model_info = {"model": model.registry_name, **model.get_params(), **record_summary(model)}
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
