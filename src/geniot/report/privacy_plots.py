"""Plotly figures of the privacy audit: membership-inference distances, DCR, privacy-utility."""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go

from geniot.report.plots import REAL_COLOR, SYNTH_COLOR

__all__ = ["attribute_leakage_figure", "distance_figure", "privacy_utility_figure"]

_HOLDOUT_COLOR = "#2ca02c"


def distance_figure(
    first: np.ndarray, second: np.ndarray, *, names: tuple[str, str], title: str, xaxis: str
) -> go.Figure:
    """Two overlaid histograms of distances (e.g. members vs non-members to the synthetic set)."""
    fig = go.Figure()
    for values, name, color in ((first, names[0], SYNTH_COLOR), (second, names[1], _HOLDOUT_COLOR)):
        fig.add_trace(
            go.Histogram(x=np.asarray(values, dtype=float), name=html.escape(name), opacity=0.6,
                         histnorm="probability density", marker_color=color, nbinsx=50)
        )
    fig.update_layout(barmode="overlay", title=html.escape(title), xaxis_title=html.escape(xaxis),
                      yaxis_title="density", height=380, margin={"t": 50, "b": 40})
    return fig


def _epsilon_label(eps) -> str:
    return "∞" if eps is None or (isinstance(eps, float) and math.isinf(eps)) else f"{float(eps):g}"


def privacy_utility_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Discriminative score (utility, lower is better) and membership-inference AUC against epsilon.

    ``rows`` hold ``epsilon`` (None or inf = no privacy), ``discriminative_score`` and/or
    ``mia_auc``; rows with the same epsilon (e.g. seeds) are shown as mean ± sd. Epsilon is
    categorical on the x axis, ordered, with ∞ last.
    """
    groups: dict[float, list[Mapping]] = {}
    for row in rows:
        eps = row.get("epsilon")
        key = math.inf if eps is None else float(eps)
        groups.setdefault(key, []).append(row)
    keys = sorted(groups)
    labels = [_epsilon_label(k) for k in keys]
    fig = go.Figure()
    series = (("discriminative_score", "discriminative score ↓", REAL_COLOR),
              ("mia_auc", "membership-inference AUC (0.5 = guessing)", SYNTH_COLOR))
    for key, name, color in series:
        means, sds = [], []
        for k in keys:
            vals = [float(r[key]) for r in groups[k] if r.get(key) is not None]
            means.append(float(np.mean(vals)) if vals else None)
            sds.append(float(np.std(vals, ddof=1)) if len(vals) > 1 else 0.0)
        if all(m is None for m in means):
            continue
        fig.add_trace(go.Scatter(x=labels, y=means, name=name, mode="lines+markers",
                                 marker_color=color, error_y={"type": "data", "array": sds, "visible": True}))
    fig.add_hline(y=0.5, line_dash="dot", line_color="#999")
    fig.update_layout(title="Privacy-utility trade-off", xaxis_title="ε (δ fixed)", yaxis_title="score",
                      xaxis_type="category", height=420, margin={"t": 50, "b": 40})
    return fig


def attribute_leakage_figure(rows: Sequence[Mapping]) -> go.Figure:
    """Attacker accuracy on the private attribute and task score, per released data version.

    ``rows`` hold ``release`` (a name), ``attacker_accuracy``, ``chance_accuracy`` and
    ``task_score`` (e.g. the detector's ROC AUC)."""
    names = [html.escape(str(r["release"])) for r in rows]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[r["attacker_accuracy"] for r in rows], name="attacker accuracy on the private attribute ↓",
                         marker_color=SYNTH_COLOR))
    fig.add_trace(go.Bar(x=names, y=[r["task_score"] for r in rows], name="task score (anomaly ROC AUC) ↑",
                         marker_color=REAL_COLOR))
    chance = float(np.mean([r["chance_accuracy"] for r in rows]))
    fig.add_hline(y=chance, line_dash="dot", line_color="#999", annotation_text="chance")
    fig.update_layout(barmode="group", title="Attribute obfuscation", yaxis_range=[0, 1.05], height=420,
                      margin={"t": 50, "b": 40})
    return fig
