"""Plotly figures comparing real and synthetic windows, and an HTML table of metrics.

Every user-provided string (channel names, metric keys) is HTML-escaped before it reaches a
figure or the table: plotly renders a subset of HTML in labels, so ``<b>`` in a channel name
would otherwise turn bold instead of showing as typed.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

__all__ = [
    "REAL_COLOR",
    "SYNTH_COLOR",
    "long_series_rows",
    "long_series_table",
    "long_traces_figure",
    "marginals_figure",
    "metrics_table",
    "pca_figure",
    "traces_figure",
    "training_curve_figure",
    "tsne_figure",
]

REAL_COLOR = "#1f77b4"
SYNTH_COLOR = "#ff7f0e"


def _windows(X, name: str) -> np.ndarray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3:
        raise ValueError(f"{name} must be windows shaped (n_windows, n_steps, n_channels)")
    return arr


def _pair(real, synth):
    r, s = _windows(real, "real"), _windows(synth, "synth")
    if r.shape[1:] != s.shape[1:]:
        raise ValueError(f"real windows {r.shape[1:]} and synth windows {s.shape[1:]} differ")
    return r, s


def _plain_names(channel_names, c: int) -> list[str]:
    """The ``c`` channel names as given (``channel j`` when none are), checked for their count."""
    if channel_names is None:
        return [f"channel {j}" for j in range(c)]
    names = [str(n) for n in channel_names]
    if len(names) != c:
        raise ValueError(f"{len(names)} channel names for {c} channels")
    return names


def _names(channel_names, c: int) -> list[str]:
    """The channel names, escaped for HTML (figure titles)."""
    return [html.escape(n) for n in _plain_names(channel_names, c)]


def _flat_scaled(real: np.ndarray, synth: np.ndarray, max_points: int, rng):
    """Subsample, min-max scale with real's channel range, flatten, fill NaN with 0.5."""
    flat = real.reshape(-1, real.shape[2])
    lo, hi = np.nanmin(flat, axis=0), np.nanmax(flat, axis=0)
    span = np.where(hi - lo > 0, hi - lo, 1.0)
    out = []
    for X in (real, synth):
        idx = rng.choice(len(X), size=max_points, replace=False) if len(X) > max_points else None
        Y = X if idx is None else X[idx]
        Y = np.nan_to_num((Y - lo) / span, nan=0.5, posinf=1.0, neginf=0.0)
        out.append(Y.reshape(len(Y), -1))
    return out


def _scatter_2d(zr, zs, title: str, axis: str) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(
        go.Scattergl(
            x=zr[:, 0],
            y=zr[:, 1],
            mode="markers",
            name="real",
            marker=dict(color=REAL_COLOR, size=4, opacity=0.5),
        )
    )
    fig.add_trace(
        go.Scattergl(
            x=zs[:, 0],
            y=zs[:, 1],
            mode="markers",
            name="synthetic",
            marker=dict(color=SYNTH_COLOR, size=4, opacity=0.5),
        )
    )
    fig.update_layout(
        title=title,
        height=450,
        xaxis_title=f"{axis} 1",
        yaxis_title=f"{axis} 2",
        legend=dict(orientation="h", y=-0.15),
    )
    return fig


def pca_figure(real, synth, *, max_points: int = 1000, random_state=0) -> go.Figure:
    """2-D PCA (fitted on the real windows) of flattened, min-max scaled windows."""
    from sklearn.decomposition import PCA

    r, s = _pair(real, synth)
    rng = np.random.default_rng(random_state)
    fr, fs = _flat_scaled(r, s, max_points, rng)
    k = min(2, fr.shape[1], len(fr))
    pca = PCA(n_components=k).fit(fr)
    zr, zs = pca.transform(fr), pca.transform(fs)
    if k < 2:
        zr = np.column_stack([zr, np.zeros(len(zr))])
        zs = np.column_stack([zs, np.zeros(len(zs))])
    return _scatter_2d(zr, zs, "PCA of real and synthetic windows", "PC")


def tsne_figure(real, synth, random_state=0, *, max_points: int = 1000) -> go.Figure:
    """2-D t-SNE (scikit-learn) of flattened, min-max scaled real and synthetic windows."""
    from sklearn.manifold import TSNE

    r, s = _pair(real, synth)
    rng = np.random.default_rng(random_state)
    fr, fs = _flat_scaled(r, s, max_points, rng)
    both = np.concatenate([fr, fs])
    if len(both) < 4:
        z = np.zeros((len(both), 2))
    else:
        perplexity = float(min(30.0, max(1.0, (len(both) - 1) / 3)))
        seed = None if random_state is None else int(random_state) % (2**31)
        z = TSNE(
            n_components=2,
            perplexity=perplexity,
            init="pca",
            random_state=seed,
        ).fit_transform(both)
    return _scatter_2d(z[: len(fr)], z[len(fr) :], "t-SNE of real and synthetic windows", "t-SNE")


def _grid(c: int, cols: int = 3) -> tuple[int, int]:
    cols = min(cols, c)
    return math.ceil(c / cols), cols


def marginals_figure(real, synth, channel_names=None, *, bins: int = 40) -> go.Figure:
    """Per-channel histograms (density) of all values, real and synthetic overlaid.

    The densities are binned here with numpy so that the report carries 2 x bins numbers per
    channel rather than every raw value (which made reports tens of MB).
    """
    r, s = _pair(real, synth)
    c = r.shape[2]
    names = _names(channel_names, c)
    rows, cols = _grid(c)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names)
    for j in range(c):
        vr, vs = r[:, :, j].ravel(), s[:, :, j].ravel()
        vr, vs = vr[np.isfinite(vr)], vs[np.isfinite(vs)]
        both = np.concatenate([vr, vs])
        lo, hi = (float(both.min()), float(both.max())) if both.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        edges = np.linspace(lo, hi, bins + 1)
        centres, width = (edges[:-1] + edges[1:]) / 2, edges[1] - edges[0]
        pos = {"row": j // cols + 1, "col": j % cols + 1}
        for values, name, color in ((vr, "real", REAL_COLOR), (vs, "synthetic", SYNTH_COLOR)):
            density = np.histogram(values, bins=edges, density=True)[0] if values.size else np.zeros(bins)
            fig.add_trace(
                go.Bar(
                    x=centres,
                    y=density,
                    width=width,
                    name=name,
                    marker_color=color,
                    opacity=0.55,
                    legendgroup=name,
                    showlegend=j == 0,
                ),
                **pos,
            )
    fig.update_layout(
        barmode="overlay", title="Marginal distributions per channel", height=max(300, 260 * rows)
    )
    return fig


def traces_figure(real, synth, channel_names=None, n: int = 3, *, random_state=0) -> go.Figure:
    """``n`` random real windows (left column) beside ``n`` synthetic ones (right column)."""
    r, s = _pair(real, synth)
    c = r.shape[2]
    names = _names(channel_names, c)
    rng = np.random.default_rng(random_state)
    n = max(1, min(int(n), len(r), len(s)))
    ir = rng.choice(len(r), size=n, replace=False)
    i_s = rng.choice(len(s), size=n, replace=False)
    titles = []
    for k in range(n):
        titles += [f"real window {int(ir[k])}", f"synthetic window {int(i_s[k])}"]
    fig = make_subplots(
        rows=n, cols=2, subplot_titles=titles, shared_yaxes=True, vertical_spacing=0.08
    )
    palette = [
        "#1f77b4",
        "#ff7f0e",
        "#2ca02c",
        "#d62728",
        "#9467bd",
        "#8c564b",
        "#e377c2",
        "#7f7f7f",
        "#bcbd22",
        "#17becf",
    ]
    t = np.arange(r.shape[1])
    for k in range(n):
        for col, X, i in ((1, r, ir[k]), (2, s, i_s[k])):
            for j in range(c):
                fig.add_trace(
                    go.Scatter(
                        x=t,
                        y=X[i, :, j],
                        mode="lines",
                        name=names[j],
                        line=dict(color=palette[j % len(palette)], width=1.5),
                        legendgroup=names[j],
                        showlegend=(k == 0 and col == 1),
                    ),
                    row=k + 1,
                    col=col,
                )
    fig.update_layout(
        title="Sample windows: real (left) and synthetic (right)", height=max(300, 230 * n)
    )
    return fig


def training_curve_figure(history: Sequence[Mapping]) -> go.Figure:
    """Loss per epoch: one line per numeric key whose name contains "loss"."""
    rows = [dict(h) for h in (history or [])]
    fig = go.Figure()
    keys: list[str] = []
    for h in rows:
        for k, v in h.items():
            if "loss" in str(k) and k not in keys and _is_number(v):
                keys.append(k)
    for k in keys:
        xs, ys = [], []
        for i, h in enumerate(rows):
            if _is_number(h.get(k)):
                xs.append(h.get("epoch", i) if _is_number(h.get("epoch", i)) else i)
                ys.append(float(h[k]))
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines+markers", name=html.escape(str(k))))
    if not keys:
        fig.add_annotation(
            text="no loss values recorded",
            showarrow=False,
            x=0.5,
            y=0.5,
            xref="paper",
            yref="paper",
        )
    fig.update_layout(title="Training curve", xaxis_title="epoch", yaxis_title="loss", height=400)
    return fig


def _is_number(v) -> bool:
    return (
        isinstance(v, (int, float, np.integer, np.floating))
        and not isinstance(v, bool)
        and math.isfinite(float(v))
    )


# key -> (label, direction, explanation)
METRIC_INFO: dict[str, tuple[str, str, str]] = {
    "discriminative_score": (
        "Discriminative score",
        "lower is better (0 to 0.5)",
        "|accuracy - 0.5| of a GRU classifier trained to tell real from synthetic windows "
        "(TimeGAN protocol).",
    ),
    "discriminative_score_sd": (
        "Discriminative score, sd",
        "-",
        "Standard deviation over repeats.",
    ),
    "discriminative_real_accuracy": (
        "Discriminator accuracy on real",
        "~0.5 is best",
        "Share of held-out real windows the classifier calls real.",
    ),
    "discriminative_fake_accuracy": (
        "Discriminator accuracy on synthetic",
        "~0.5 is best",
        "Share of held-out synthetic windows the classifier calls synthetic. A score near 0 with "
        "one accuracy at 1 and the other at 0 means the classifier failed, not that the data "
        "is good.",
    ),
    "discriminative_repeats": ("Discriminative repeats", "-", "Independent repeats averaged."),
    "predictive_tstr_mae": (
        "Predictive score (TSTR MAE)",
        "lower is better",
        "MAE on real test windows of a GRU trained on synthetic windows to predict the next step.",
    ),
    "predictive_trtr_mae": (
        "Predictive ceiling (TRTR MAE)",
        "lower is better",
        "The same model trained on real windows: what synthetic data should match.",
    ),
    "predictive_ratio": ("TSTR / TRTR", "~1 is best", "Utility of synthetic relative to real."),
    "context_fid": (
        "Context-FID (embedding distance)",
        "lower is better",
        "Fréchet distance between Gaussian fits of real and synthetic window embeddings "
        "(random convolution features fitted on real windows).",
    ),
    "correlation_distance": (
        "Correlation distance",
        "lower is better",
        "Mean absolute difference of the channel correlation matrices.",
    ),
    "acf_distance": (
        "ACF distance",
        "lower is better",
        "Mean absolute difference of the per-channel autocorrelation functions.",
    ),
    "marginal_distance": (
        "Marginal distance",
        "lower is better",
        "Wasserstein-1 distance between the per-channel value distributions (scaled data).",
    ),
    "dcr_synth_median": (
        "DCR, synthetic (median)",
        "higher is safer",
        "Distance of synthetic windows to their closest training window.",
    ),
    "dcr_holdout_median": (
        "DCR, holdout (median)",
        "reference",
        "Distance of unseen real windows to their closest training window.",
    ),
    "dcr_ratio": (
        "DCR ratio",
        "~1 is expected; < 0.5 flags copying",
        "Synthetic median DCR / holdout median DCR.",
    ),
    "share_closer_than_holdout_5pct": (
        "Share closer than holdout 5th pct.",
        "~0.05 is expected; > 0.2 flags copying",
        "Share of synthetic windows closer to training than 95% of unseen real windows are.",
    ),
    "memorized": (
        "Memorized (copies training windows)",
        "no is good",
        "Yes only when synthetic windows lie much nearer the training windows than unseen real windows "
        "and than samples of a Gaussian model of the training windows, which cannot copy.",
    ),
    "memorization_verdict": ("Memorization verdict", "-", "What the distances say, in words."),
    "memorization_holdout": ("Holdout", "-", "Which real windows were kept out of training for the check."),
    "dcr_reference_median": (
        "DCR, reference (median)",
        "reference",
        "Distance to the closest training window of samples from a Gaussian model of the training windows "
        "(fresh samples of the training distribution that cannot copy).",
    ),
    "dcr_ratio_to_reference": (
        "DCR ratio to reference",
        "~1 or more is expected; < 0.5 flags copying",
        "Synthetic median DCR / reference median DCR.",
    ),
    "n_real": ("Real windows", "-", "Number of real windows evaluated."),
    "n_synthetic": ("Synthetic windows", "-", "Number of synthetic windows evaluated."),
    "n_steps": ("Steps per window", "-", ""),
    "n_channels": ("Channels", "-", ""),
    "fast": (
        "Fast settings",
        "-",
        "Fewer iterations and repeats than the published protocol: not comparable.",
    ),
}


def _fmt(v) -> str:
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if isinstance(v, (float, np.floating)):
        f = float(v)
        if not math.isfinite(f):
            return str(f)
        return f"{f:.4g}" if abs(f) >= 1e-3 or f == 0 else f"{f:.2e}"
    return html.escape(str(v))


def metrics_table(metrics: Mapping) -> str:
    """An HTML ``<table>`` with one row per metric: name, value, direction, explanation.

    Known keys (those of :func:`geniot.metrics.evaluate_synthetic`) get a label and an
    explanation; other keys are shown as given. Every key and value is HTML-escaped.
    """
    rows = []
    for key, value in metrics.items():
        label, direction, text = METRIC_INFO.get(str(key), (str(key), "", ""))
        rows.append(
            "<tr>"
            f'<td><span class="metric-label">{html.escape(label)}</span>'
            f"<br><code>{html.escape(str(key))}</code></td>"
            f'<td class="num">{_fmt(value)}</td>'
            f"<td>{html.escape(direction)}</td>"
            f"<td>{html.escape(text)}</td>"
            "</tr>"
        )
    return (
        '<table class="metrics"><thead><tr><th>metric</th><th>value</th><th>direction</th>'
        "<th>what it measures</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
    )


# ------------------------------------------------------------------------------ long series
#: metric -> (label, what it measures); every one is "lower is better" except the step ratios
#: (1 = like the real series) and the longest match (copies give long runs)
LONG_METRIC_INFO: dict[str, tuple[str, str]] = {
    "acf_day_distance": ("ACF distance, lags up to a day", "mean |ACF real - ACF| per channel, lags 1..day"),
    "acf_week_distance": ("ACF distance, lags up to a week", "mean |ACF real - ACF| per channel, lags 1..week"),
    "spectrum_distance": ("Power spectrum distance", "total variation between normalised Welch spectra (0-1)"),
    "xcorr_distance": ("Cross-correlation distance", "mean |xcorr real - xcorr| of channel pairs at lags up to a day"),
    "seam_step_ratio": ("Seam statistic: step spread at seams / real", "RMS step where stretches join over the real RMS step (1 = no seam)"),
    "inside_step_ratio": ("Step spread inside / real", "RMS step inside stretches over the real RMS step (1 = as real)"),
    "seam_inside_ratio": ("Step spread at seams / inside", "RMS step where stretches join over inside them (1 = no seam)"),
    "seam_worst_step_ratio": ("Seam statistic, worst channel", "the channel whose step spread at seams / real is furthest from 1 (the per-channel table names it)"),
    "seam_abs_step_ratio": ("Mean |step| at seams / real", "as the seam statistic with mean |step| (tail-sensitive)"),
    "seam_phase_ratio": ("Seams / inside, same time of day", "RMS step at seams over inside, each step in units of the real step spread at its time of day (1 = no seam)"),
    "seam_phase_step_ratio": ("Seam step / real, same time of day", "RMS step at seams in units of the real step spread at the same time of day (1 = as real)"),
    "window_acf_distance": ("Window ACF distance", "windows cut at random offsets vs real windows"),
    "window_correlation_distance": ("Window correlation distance", "windows cut at random offsets vs real windows"),
    "window_marginal_distance": ("Window marginal distance", "Wasserstein-1 of values, windows at random offsets"),
}
LONG_SET_LABELS = {
    "synthetic": "synthetic",
    "concatenated": "independent windows concatenated",
    "bootstrap": "block bootstrap of real",
    "real_stretch": "real stretches (median)",
}


def _set_cells(values) -> str:
    """One numeric cell per set of LONG_SET_LABELS (a dash where a set has no value)."""
    return "".join(f'<td class="num">{"&ndash;" if v is None else _fmt(v)}</td>' for v in values)


def long_series_rows(metrics: Mapping) -> list[tuple[str, str, list[float | None]]]:
    """(label, explanation, value per set in LONG_SET_LABELS order) for each long metric present."""
    rows = []
    for key, (label, text) in LONG_METRIC_INFO.items():
        values = [metrics.get(f"long_{s}_{key}") for s in LONG_SET_LABELS]
        if any(v is not None for v in values):
            rows.append((label, text, values))
    return rows


def long_series_table(metrics: Mapping) -> str:
    """HTML table of the long-series metrics, the synthetic series beside the baselines."""
    head = "".join(f"<th>{html.escape(v)}</th>" for v in LONG_SET_LABELS.values())
    body = []
    for label, text, values in long_series_rows(metrics):
        cells = _set_cells(values)
        body.append(f'<tr><td><span class="metric-label">{html.escape(label)}</span><br>'
                    f'<span class="note">{html.escape(text)}</span></td>{cells}</tr>')
    copies = [
        ("synthetic", metrics.get("long_longest_match_synthetic")),
        ("held-out real stretch", metrics.get("long_longest_match_holdout")),
        ("block bootstrap (copies by construction)", metrics.get("long_longest_match_bootstrap")),
    ]
    copy_rows = "".join(
        f'<tr><td>{html.escape(name)}</td><td class="num">{_fmt(v)}</td></tr>' for name, v in copies if v is not None
    )
    tol = metrics.get("long_copy_tolerance")
    return (
        '<table class="metrics"><thead><tr><th>metric</th>' + head + "</tr></thead><tbody>" + "".join(body)
        + "</tbody></table>"
        + f'<h3>No copied stretches</h3><p class="note">Longest run of consecutive steps lying within '
        f"{_fmt(tol)} real standard deviations (every channel) of a run of the real series.</p>"
        + '<table class="metrics"><thead><tr><th>series</th><th>longest matching run (steps)</th></tr></thead><tbody>'
        + copy_rows + "</tbody></table>"
    )


def seam_channel_rows(metrics: Mapping, channel_names=None) -> list[tuple[str, list[float | None]]]:
    """(channel, seam statistic per set in LONG_SET_LABELS order) for every channel; empty
    when the metrics have no seams."""
    per_set = [metrics.get(f"long_{s}_seam_channel_step_ratios") for s in LONG_SET_LABELS]
    if per_set[0] is None:
        return []
    names = _plain_names(channel_names, len(per_set[0]))
    return [(name, [None if v is None else float(v[j]) for v in per_set]) for j, name in enumerate(names)]


def seam_channels_table(metrics: Mapping, channel_names=None) -> str:
    """HTML table of the seam statistic of each channel beside the baselines (empty without seams)."""
    rows = seam_channel_rows(metrics, channel_names)
    if not rows:
        return ""
    head = "".join(f"<th>{html.escape(v)}</th>" for v in LONG_SET_LABELS.values())
    body = "".join(f"<tr><td>{html.escape(name)}</td>{_set_cells(values)}</tr>" for name, values in rows)
    return (
        '<h3>Seam statistic per channel</h3><p class="note">Step spread where stretches join over the real '
        "step spread, channel by channel (1 = no seam). A smooth channel shows a join that the mean over "
        "channels hides.</p>"
        '<table class="metrics"><thead><tr><th>channel</th>' + head + "</tr></thead><tbody>" + body + "</tbody></table>"
    )


def long_traces_figure(real, synth, channel_names=None, *, n_steps: int | None = None, random_state=0) -> go.Figure:
    """The synthetic series beside a real stretch of the same length, one panel per channel."""
    r = np.asarray(real, dtype=np.float64)
    s = np.asarray(synth, dtype=np.float64)
    n = int(n_steps or len(s))
    c = s.shape[1]
    names = _names(channel_names, c)
    start = int(np.random.default_rng(random_state).integers(0, max(1, len(r) - n + 1)))
    rows, cols = _grid(c, cols=1)
    fig = make_subplots(rows=rows, cols=1, subplot_titles=names, shared_xaxes=True)
    for j in range(c):
        fig.add_trace(go.Scatter(y=r[start : start + n, j], name="real stretch", line={"color": REAL_COLOR, "width": 1},
                                 showlegend=j == 0, legendgroup="real"), row=j + 1, col=1)
        fig.add_trace(go.Scatter(y=s[:n, j], name="synthetic", line={"color": SYNTH_COLOR, "width": 1},
                                 showlegend=j == 0, legendgroup="synth"), row=j + 1, col=1)
    fig.update_layout(title="Synthetic series beside a real stretch of the same length", height=180 * c + 80)
    return fig
