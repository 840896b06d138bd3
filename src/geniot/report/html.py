"""One self-contained HTML report (plotly.js inline, no network) of synthetic-data quality."""

from __future__ import annotations

import datetime as _dt
import html
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import plotly.graph_objects as go
import plotly.offline

from geniot.report.plots import (
    long_series_table,
    long_traces_figure,
    marginals_figure,
    metrics_table,
    pca_figure,
    seam_channels_table,
    traces_figure,
    training_curve_figure,
    tsne_figure,
)

__all__ = ["REFERENCE_HTML", "long_series_section", "write_figure_report", "write_long_report", "write_report"]

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#222;
background:#fafafa}
main{max-width:1200px;margin:0 auto;padding:1.5rem}
h1{margin-top:0}h2{border-bottom:1px solid #ddd;padding-bottom:.3rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;background:#fff}
th,td{border:1px solid #ddd;padding:.35rem .6rem;text-align:left;vertical-align:top}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
.metric-label{font-weight:600}code{font-size:.85em;color:#555}
.figure{background:#fff;border:1px solid #eee;margin:1rem 0}
.note{color:#555;font-size:.9em}
"""

#: published reference values (BENCHMARKS.md section 1), shown as text for context only
REFERENCE_HTML = """
<p class="note">For context only: published discriminative scores (TimeGAN protocol, windows of
24 steps, lower is better). They were obtained on those data sets with the full protocol
(2,000 iterations, 5 repeats); numbers from other data or from fast settings are not comparable.
</p>
<table class="reference"><thead><tr><th>method</th><th>Sines</th><th>Stocks</th><th>ETTh</th>
<th>Energy</th></tr></thead><tbody>
<tr><td>TimeGAN (2019)</td><td>.011</td><td>.102</td><td>.114</td><td>.236</td></tr>
<tr><td>TimeVAE (2021)</td><td>.041</td><td>.145</td><td>.209</td><td>.499</td></tr>
<tr><td>Diffusion-TS (ICLR 2024)</td><td>.006</td><td>.067</td><td>.061</td><td>.122</td></tr>
<tr><td>ImagenTime (NeurIPS 2024)</td><td>&ndash;</td><td>.037</td><td>&ndash;</td>
<td>.040</td></tr>
<tr><td>FM-TS (2024)</td><td>.005</td><td>.019</td><td>.011</td><td>.053</td></tr>
</tbody></table>
<p class="note">The predictive score is nearly saturated: the best methods equal the real-data
ceiling (Stocks .036, Energy .250 MAE); read it as a sanity check against TRTR.</p>
"""


def _fig_html(fig: go.Figure) -> str:
    return '<div class="figure">' + fig.to_html(full_html=False, include_plotlyjs=False) + "</div>"


def _info_table(info: Mapping) -> str:
    rows = []
    for k, v in info.items():
        text = v if isinstance(v, str) else json.dumps(v, default=str, ensure_ascii=False)
        rows.append(f"<tr><th>{html.escape(str(k))}</th><td>{html.escape(text)}</td></tr>")
    return '<table class="info"><tbody>' + "".join(rows) + "</tbody></table>"


def write_report(
    path,
    *,
    title: str,
    metrics: Mapping,
    real,
    synth,
    channel_names: Sequence[str] | None = None,
    history: Sequence[Mapping] | None = None,
    model_info: Mapping | None = None,
    extra_sections: Sequence[tuple[str, str]] | None = None,
    random_state=0,
    max_points: int = 1000,
    tsne: bool = True,
) -> Path:
    """Write one self-contained HTML report and return its path.

    The file embeds plotly.js once, inline (it opens offline; no CDN), and holds: the model
    information, the metrics table (explanation and direction of each metric) with published
    reference values for context, PCA and t-SNE maps (at most ``max_points`` windows of each
    set; ``tsne=False`` skips the slower t-SNE), per-channel marginals, sample traces and, when
    ``history`` is given, the training curve. ``metrics`` is an already computed dict such as
    :func:`geniot.metrics.evaluate_synthetic` returns. ``real`` and ``synth`` are windows
    (n, t, c) in the units the plots should show.

    Every user-provided string (title, channel names, metric keys, model info) is HTML-escaped.
    ``extra_sections`` are ``(heading, html)`` pairs appended at the end: the heading is
    escaped, the body is trusted HTML supplied by the caller.
    """
    r = np.asarray(real, dtype=np.float64)
    s = np.asarray(synth, dtype=np.float64)
    parts: list[str] = []
    esc_title = html.escape(str(title))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(f"<h1>{esc_title}</h1>")
    shape = f"{r.shape[0]} real and {s.shape[0]} synthetic windows"
    if r.ndim == 3:
        shape += f" of {r.shape[1]} steps &times; {r.shape[2]} channels"
    parts.append(f'<p class="note">Generated {now} by geniot &middot; {shape}.</p>')
    if channel_names is not None:
        names = ", ".join(html.escape(str(n)) for n in channel_names)
        parts.append(f"<p><b>Channels:</b> {names}</p>")

    if model_info:
        parts.append("<h2>Model</h2>" + _info_table(model_info))

    parts.append("<h2>Metrics</h2>")
    parts.append(metrics_table(metrics))
    parts.append(
        '<p class="note">geniot computes these metrics on data min-max scaled per channel with '
        "the real windows' range (distances are in those units); the plots below show the data "
        "as given.</p>"
    )
    parts.append("<h3>Reference values</h3>" + REFERENCE_HTML)

    parts.append("<h2>Real vs synthetic: embeddings</h2>")
    parts.append(_fig_html(pca_figure(r, s, max_points=max_points, random_state=random_state)))
    if tsne:
        parts.append(_fig_html(tsne_figure(r, s, random_state, max_points=max_points)))

    parts.append("<h2>Marginal distributions</h2>")
    parts.append(_fig_html(marginals_figure(r, s, channel_names)))
    parts.append("<h2>Sample windows</h2>")
    parts.append(_fig_html(traces_figure(r, s, channel_names, random_state=random_state)))

    if history:
        parts.append("<h2>Training</h2>")
        parts.append(_fig_html(training_curve_figure(history)))

    for heading, body in extra_sections or ():
        parts.append(f"<h2>{html.escape(str(heading))}</h2>\n{body}")

    return _write_document(path, esc_title, parts)


def _write_document(path, esc_title: str, parts: Sequence[str]) -> Path:
    doc = (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc_title}</title>\n<style>{_CSS}</style>\n"
        f'<script type="text/javascript">{plotly.offline.get_plotlyjs()}</script>\n'
        "</head>\n<body>\n<main>\n" + "\n".join(parts) + "\n</main>\n</body>\n</html>\n"
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(doc, encoding="utf-8")
    return out


def write_figure_report(
    path,
    *,
    title: str,
    info: Mapping | None = None,
    sections: Sequence[tuple[str, go.Figure | str]] = (),
) -> Path:
    """A self-contained HTML page of figures (gap filling, anomaly detection): an information
    table, then ``(heading, figure or trusted HTML)`` sections. Strings from users are escaped."""
    esc_title = html.escape(str(title))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [f"<h1>{esc_title}</h1>", f'<p class="note">Generated {now} by geniot.</p>']
    if info:
        parts.append(_info_table(info))
    for heading, body in sections:
        parts.append(f"<h2>{html.escape(str(heading))}</h2>")
        parts.append(_fig_html(body) if isinstance(body, go.Figure) else body)
    return _write_document(path, esc_title, parts)


def long_series_section(metrics: Mapping, real, synth, channel_names=None) -> str:
    """HTML of the long-series metrics (beside both baselines) and the series beside a real stretch."""
    note = (
        '<p class="note">Metrics of the synthetic series as one long series, each beside two baselines '
        "computed in the same run: independent windows laid end to end "
        f"({html.escape(str(metrics.get('long_concatenated_source', 'windows')))}) and a block bootstrap of "
        "the real series (blocks of one window), and the median of random real stretches of the same length. "
        f"Lags: a day = {metrics.get('long_day_lag')} steps, a week = {metrics.get('long_week_lag')} steps. "
        "Data standardised per channel with the real series' mean and standard deviation.</p>"
    )
    # Two weeks at most: a month of hourly steps per panel is unreadable.
    fig = long_traces_figure(real, synth, channel_names, n_steps=min(len(synth), 14 * int(metrics.get("long_day_lag") or 24)))
    return note + long_series_table(metrics) + seam_channels_table(metrics, channel_names) + _fig_html(fig)


def write_long_report(
    path,
    *,
    title: str,
    metrics: Mapping,
    real,
    synth,
    channel_names: Sequence[str] | None = None,
    model_info: Mapping | None = None,
) -> Path:
    """A self-contained HTML report of a long synthetic series (``real`` and ``synth`` are
    (n_steps, n_channels) series in their units)."""
    esc_title = html.escape(str(title))
    now = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [
        f"<h1>{esc_title}</h1>",
        f'<p class="note">Generated {now} by geniot &middot; a synthetic series of {len(synth)} steps '
        f"against a real series of {len(real)} steps.</p>",
    ]
    if channel_names is not None:
        parts.append("<p><b>Channels:</b> " + ", ".join(html.escape(str(n)) for n in channel_names) + "</p>")
    if model_info:
        parts.append("<h2>Model</h2>" + _info_table(model_info))
    parts.append("<h2>Long-series metrics</h2>" + long_series_section(metrics, real, synth, channel_names))
    return _write_document(path, esc_title, parts)
