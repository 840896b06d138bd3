"""Figures of the tasks: filled gaps with their intervals; anomaly scores over the signals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

_MAX_POINTS = 20_000  # per trace; longer series are thinned evenly for the browser


def _x(timestamps, n: int):
    return np.arange(n) if timestamps is None else np.asarray(timestamps)


def _thin(n: int) -> np.ndarray:
    step = max(1, int(np.ceil(n / _MAX_POINTS)))
    return np.arange(0, n, step)


def imputation_figure(
    original: np.ndarray,
    filled: np.ndarray,
    lower: np.ndarray,
    upper: np.ndarray,
    channels: Sequence[str],
    timestamps=None,
) -> go.Figure:
    """One panel per channel: observed readings, filled values, and the interval band."""
    n, c = original.shape
    x = _x(timestamps, n)
    keep = _thin(n)
    fig = make_subplots(rows=c, cols=1, shared_xaxes=True, subplot_titles=list(channels), vertical_spacing=0.02)
    for j in range(c):
        gap = np.isnan(original[:, j])
        band_lo = np.where(gap, lower[:, j], np.nan)[keep]
        band_hi = np.where(gap, upper[:, j], np.nan)[keep]
        show = j == 0
        fig.add_trace(go.Scatter(x=x[keep], y=band_hi, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"), row=j + 1, col=1)
        fig.add_trace(
            go.Scatter(x=x[keep], y=band_lo, mode="lines", line={"width": 0}, fill="tonexty",
                       fillcolor="rgba(214,39,40,0.2)", name="interval", showlegend=show),
            row=j + 1, col=1,
        )  # fmt: skip
        fig.add_trace(go.Scatter(x=x[keep], y=original[keep, j], mode="lines", line={"color": "#1f77b4", "width": 1}, name="observed", showlegend=show), row=j + 1, col=1)
        fig.add_trace(
            go.Scatter(x=x[keep], y=np.where(gap, filled[:, j], np.nan)[keep], mode="lines+markers",
                       marker={"size": 3}, line={"color": "#d62728", "width": 1}, name="filled", showlegend=show),
            row=j + 1, col=1,
        )  # fmt: skip
    fig.update_layout(height=max(300, 170 * c), margin={"t": 40, "b": 30}, title="Filled gaps")
    return fig


def detection_figure(
    values: np.ndarray,
    scores: np.ndarray,
    threshold,
    flags: np.ndarray,
    channels: Sequence[str],
    timestamps=None,
    labels: np.ndarray | None = None,
) -> go.Figure:
    """The anomaly score with its threshold on top (one number, or one per step: a regime
    switch's windows have their own), each signal below; flagged steps shaded."""
    n, c = values.shape
    x = _x(timestamps, n)
    keep = _thin(n)
    fig = make_subplots(
        rows=c + 1, cols=1, shared_xaxes=True, subplot_titles=["anomaly score", *channels], vertical_spacing=0.015
    )
    fig.add_trace(go.Scatter(x=x[keep], y=scores[keep], mode="lines", name="score", line={"color": "#333", "width": 1}), row=1, col=1)
    per_step = np.ndim(threshold) > 0
    tx, ty = (x[keep], np.asarray(threshold, dtype=np.float64)[keep]) if per_step else ([x[0], x[-1]], [threshold, threshold])
    fig.add_trace(
        go.Scatter(x=tx, y=ty, mode="lines", name="threshold", line={"color": "#d62728", "dash": "dash"},
                   line_shape="hv" if per_step else "linear"),
        row=1, col=1,
    )  # fmt: skip
    flagged_scores = np.where(flags, scores, np.nan)
    fig.add_trace(go.Scatter(x=x[keep], y=flagged_scores[keep], mode="markers", marker={"color": "#d62728", "size": 3}, name="flagged"), row=1, col=1)
    if labels is not None:
        lab = np.where(np.asarray(labels) > 0, np.nanmax(scores[np.isfinite(scores)]) if np.isfinite(scores).any() else 1.0, np.nan)
        fig.add_trace(go.Scatter(x=x[keep], y=lab[keep], mode="markers", marker={"color": "#ff7f0e", "size": 3, "symbol": "square"}, name="labelled anomaly"), row=1, col=1)
    for j in range(c):
        fig.add_trace(go.Scatter(x=x[keep], y=values[keep, j], mode="lines", line={"color": "#1f77b4", "width": 1}, showlegend=False), row=j + 2, col=1)
        fig.add_trace(
            go.Scatter(x=x[keep], y=np.where(flags, values[:, j], np.nan)[keep], mode="markers",
                       marker={"color": "#d62728", "size": 2}, showlegend=False),
            row=j + 2, col=1,
        )  # fmt: skip
    fig.update_layout(height=max(400, 150 * (c + 1)), margin={"t": 40, "b": 30}, title="Anomaly detection")
    return fig
