"""A synthetic day of the fleet beside the real one: the figure for the report and the JSON for
the dashboard (the same numbers, so the two show the same thing)."""

from __future__ import annotations

import html
import warnings
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from geniot.report.plots import REAL_COLOR, SYNTH_COLOR

__all__ = ["fleet_day_figure", "fleet_day_note", "fleet_day_payload", "fleet_day_section"]

#: points per series on the dashboard: a day of minutes is thinned to 5-minute means
MAX_POINTS = 288


def _hours(n: int, interval_s: float) -> np.ndarray:
    return np.arange(n) * float(interval_s) / 3600.0


def fleet_day_figure(
    real: Mapping[str, np.ndarray], synth: Mapping[str, np.ndarray], channels: Sequence[str], interval_s: float
) -> go.Figure:
    """One panel per channel: every real asset's last day (blue) and every synthetic asset's day
    (orange) on hours from the start of each, so the daily shape and the fleet's spread compare."""
    fig = make_subplots(rows=len(channels), cols=1, subplot_titles=list(channels), shared_xaxes=True)
    for group, series, color in (("real", real, REAL_COLOR), ("synthetic", synth, SYNTH_COLOR)):
        for i, (asset, values) in enumerate(series.items()):
            x = _hours(len(values), interval_s)
            for j in range(len(channels)):
                fig.add_trace(
                    go.Scatter(x=x, y=values[:, j], name=group, legendgroup=group, hovertemplate=f"{asset}: %{{y}}<extra>{group}</extra>",
                               showlegend=j == 0 and i == 0, line={"color": color, "width": 1}, opacity=0.8),
                    row=j + 1, col=1,
                )  # fmt: skip
    fig.update_xaxes(title_text="hours from the start of the day", row=len(channels), col=1)
    fig.update_layout(title="A synthetic day of the fleet beside the real fleet's last day", height=170 * len(channels) + 90)
    return fig


def fleet_day_note(
    real_span: tuple[str, str], synth_span: tuple[str, str], model: str, n_seams: int, n_real: int, n_synth: int
) -> str:
    """What the figure shows, in words (trusted HTML; the spans and names are escaped)."""
    e = lambda t: html.escape(str(t))  # noqa: E731
    return (
        f'<p class="note">Real (blue): the {n_real} pumps from {e(real_span[0])} to {e(real_span[1])}. Synthetic '
        f"(orange): <code>geniot synthesize</code> with the {e(model)} model, {n_synth} synthetic pumps from "
        f"{e(synth_span[0])} to {e(synth_span[1])} (the calendar after the training data), one continuous series per "
        f"pump made of {n_seams + 1} stretches, each continued from the end of the last. The model pools every "
        "real pump's windows, so a synthetic pump is a new member of the fleet, not a copy of one real pump.</p>"
    )


def _thin(values: np.ndarray, interval_s: float) -> tuple[np.ndarray, float]:
    """Means over equal runs of steps so a series has at most MAX_POINTS points."""
    k = max(1, -(-len(values) // MAX_POINTS))
    n = len(values) // k * k
    with warnings.catch_warnings():  # a run that is all gap stays a gap (NaN), said as null
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values[:n].reshape(-1, k, values.shape[1]), axis=1), float(interval_s) * k


def fleet_day_payload(
    real: Mapping[str, np.ndarray],
    synth: Mapping[str, np.ndarray],
    channels: Sequence[str],
    interval_s: float,
    *,
    real_start: str,
    synth_start: str,
    model: str,
) -> dict:
    """The dashboard's JSON: per group and asset, per channel a list (null for a gap)."""

    def group(series: Mapping[str, np.ndarray], start: str) -> dict:
        out, step = {}, float(interval_s)
        for asset, values in series.items():
            thin, step = _thin(np.asarray(values, dtype=np.float64), interval_s)
            out[str(asset)] = {c: [None if not np.isfinite(v) else round(float(v), 5) for v in thin[:, j]]
                               for j, c in enumerate(channels)}  # fmt: skip
        return {"start": start, "step_s": step, "assets": out}

    return {
        "channels": list(channels),
        "model": model,
        "real": group(real, real_start),
        "synthetic": group(synth, synth_start),
    }


def fleet_day_section(
    real: Mapping[str, np.ndarray],
    synth: Mapping[str, np.ndarray],
    channels: Sequence[str],
    interval_s: float,
    *,
    real_span: tuple[str, str],
    synth_span: tuple[str, str],
    model: str,
    n_seams: int,
) -> str:
    """The report section: the note, then the figure (plotly.js is in the page already)."""
    fig = fleet_day_figure(real, synth, channels, interval_s)
    return fleet_day_note(real_span, synth_span, model, n_seams, len(real), len(synth)) + (
        '<div class="figure">' + fig.to_html(full_html=False, include_plotlyjs=False) + "</div>"
    )
