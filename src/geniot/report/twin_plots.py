"""Figures of the digital twin: forecasts with bands, what-if scenarios, the maintenance plan."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _band(fig, x, lower, upper, row, name, show):
    fig.add_trace(go.Scatter(x=x, y=upper, mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"), row=row, col=1)
    fig.add_trace(go.Scatter(x=x, y=lower, mode="lines", line={"width": 0}, fill="tonexty", fillcolor="rgba(214,39,40,0.2)",
                             name=name, showlegend=show), row=row, col=1)  # fmt: skip


def forecast_figure(past: np.ndarray, forecast: dict, channels: Sequence[str], past_x=None, future_x=None) -> go.Figure:
    n, c = past.shape
    px = np.arange(-n, 0) if past_x is None else past_x
    fx = np.arange(len(forecast["median"])) if future_x is None else future_x
    fig = make_subplots(rows=c, cols=1, shared_xaxes=True, subplot_titles=list(channels), vertical_spacing=0.02)
    for j in range(c):
        fig.add_trace(go.Scatter(x=px, y=past[:, j], mode="lines", line={"color": "#1f77b4", "width": 1}, name="observed", showlegend=j == 0), row=j + 1, col=1)
        _band(fig, fx, forecast["lower"][:, j], forecast["upper"][:, j], j + 1, "interval", j == 0)
        fig.add_trace(go.Scatter(x=fx, y=forecast["median"][:, j], mode="lines", line={"color": "#d62728"}, name="forecast", showlegend=j == 0), row=j + 1, col=1)
    fig.update_layout(height=max(300, 160 * c), title="Forecast (median and interval)", margin={"t": 40})
    return fig


def whatif_figure(scenarios: dict[str, dict], channels: Sequence[str]) -> go.Figure:
    c = len(channels)
    fig = make_subplots(rows=c, cols=1, shared_xaxes=True, subplot_titles=list(channels), vertical_spacing=0.02)
    for k, (name, res) in enumerate(scenarios.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        x = np.arange(len(res["median"]))
        for j in range(c):
            fig.add_trace(go.Scatter(x=np.r_[x, x[::-1]], y=np.r_[res["upper"][:, j], res["lower"][::-1, j]], fill="toself",
                                     fillcolor=colour, opacity=0.15, line={"width": 0}, showlegend=False, hoverinfo="skip"),
                          row=j + 1, col=1)  # fmt: skip
            fig.add_trace(go.Scatter(x=x, y=res["median"][:, j], mode="lines", line={"color": colour}, name=name, showlegend=j == 0), row=j + 1, col=1)
    fig.update_layout(height=max(300, 160 * c), title="What-if scenarios (median and interval of sampled windows)", margin={"t": 40})
    return fig


def plan_figure(plan: pd.DataFrame, fleet: pd.DataFrame, cycles_per_day: float = 1.0) -> go.Figure:
    merged = plan.merge(fleet, on="unit", how="left").sort_values("day", na_position="last")
    y = [str(u) for u in merged["unit"]]
    fig = go.Figure()
    med = merged["rul"] / cycles_per_day
    lo = merged.get("lower", med * 0.7 * cycles_per_day) / cycles_per_day
    hi = merged.get("upper", med * 1.3 * cycles_per_day) / cycles_per_day
    fig.add_trace(go.Scatter(x=med, y=y, mode="markers", marker={"color": "#7f7f7f", "symbol": "line-ns-open", "size": 12},
                             error_x={"type": "data", "symmetric": False, "array": hi - med, "arrayminus": med - lo},
                             name="predicted failure (median, 10-90%)"))  # fmt: skip
    fig.add_trace(go.Scatter(x=merged["day"], y=y, mode="markers", name="planned service",
                             marker={"size": 10, "color": merged["p_failure_before"], "colorscale": "Reds", "cmin": 0, "cmax": 0.5,
                                     "colorbar": {"title": "P(failure before)"}}))  # fmt: skip
    fig.update_layout(height=max(300, 22 * len(y) + 120), title="Maintenance plan", xaxis_title="day", yaxis_title="unit", margin={"t": 40})
    return fig
