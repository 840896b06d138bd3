import numpy as np
import plotly.graph_objects as go
import plotly.offline
import pytest
import torch

from geniot.report import (
    marginals_figure,
    metrics_table,
    pca_figure,
    traces_figure,
    training_curve_figure,
    tsne_figure,
    write_report,
)

torch.set_num_threads(1)

METRICS = {
    "discriminative_score": 0.0832,
    "discriminative_real_accuracy": 0.55,
    "predictive_tstr_mae": 0.041,
    "predictive_trtr_mae": 0.039,
    "context_fid": 1.5,
    "correlation_distance": 0.02,
    "acf_distance": 0.03,
    "marginal_distance": 0.01,
    "memorized": False,
    "n_real": 60,
    "<i>custom</i>": 1.0,
}


@pytest.fixture
def windows():
    rng = np.random.default_rng(0)
    t = np.arange(16)
    real = np.sin(t[None, :, None] * rng.uniform(0.2, 0.6, (60, 1, 3))) * 10 + 100
    synth = real + rng.normal(0, 1, real.shape)
    return real, synth


def test_write_report_is_self_contained_and_escaped(tmp_path, windows):
    real, synth = windows
    names = ["<b>bold</b>", "temp & pressure", "vib"]
    history = [{"epoch": i, "train_loss": 1 / (i + 1), "val_loss": 1.2 / (i + 1)} for i in range(5)]
    path = write_report(
        tmp_path / "sub" / "report.html",
        title="Report <script>alert(1)</script>",
        metrics=METRICS,
        real=real,
        synth=synth,
        channel_names=names,
        history=history,
        model_info={"name": "TimeVAE", "params": {"latent_dim": 8}, "<x>": "y"},
        extra_sections=[("Privacy <audit>", "<p id='extra'>ok</p>")],
        random_state=0,
    )
    assert path.exists()
    text = path.read_text(encoding="utf-8")
    assert '<script src="http' not in text and "<script src='http" not in text
    assert "cdn.plot.ly" not in text.replace(plotly.offline.get_plotlyjs(), "")
    assert text.count(plotly.offline.get_plotlyjs()) == 1  # plotly.js inline, once
    assert text.count("Plotly.newPlot") >= 5  # pca, tsne, marginals, traces, training curve
    # metric names and explanations
    for key in ["discriminative_score", "predictive_tstr_mae", "context_fid", "acf_distance"]:
        assert key in text
    assert "Discriminative score" in text and "lower is better" in text
    assert ".102" in text  # published reference value, as text
    # user strings escaped everywhere outside plotly.js
    body = text.replace(plotly.offline.get_plotlyjs(), "")
    assert "&lt;b&gt;bold&lt;/b&gt;" in body
    assert "<b>bold</b>" not in body
    assert "temp &amp; pressure" in body
    assert "<script>alert(1)</script>" not in body
    assert "Report &lt;script&gt;alert(1)&lt;/script&gt;" in body
    assert "&lt;i&gt;custom&lt;/i&gt;" in body and "<i>custom</i>" not in body
    assert "&lt;x&gt;" in body and "latent_dim" in body
    # extra section: heading escaped, body trusted
    assert "Privacy &lt;audit&gt;" in body and "<p id='extra'>ok</p>" in body


def test_write_report_minimal(tmp_path, windows):
    real, synth = windows
    path = write_report(
        tmp_path / "r.html",
        title="t",
        metrics={},
        real=real[:, :, :1],
        synth=synth[:, :, :1],
        tsne=False,
    )
    text = path.read_text(encoding="utf-8")
    assert "channel 0" in text
    assert "Training curve" not in text


def test_figures(windows):
    real, synth = windows
    for fig in (
        pca_figure(real, synth, max_points=30),
        tsne_figure(real, synth, 0, max_points=30),
        marginals_figure(real, synth, ["a", "b", "c"]),
        traces_figure(real, synth, ["a", "b", "c"], n=2),
        training_curve_figure([{"epoch": 1, "train_loss": 1.0}, {"epoch": 2, "train_loss": 0.5}]),
        training_curve_figure([]),
    ):
        assert isinstance(fig, go.Figure)
    pca = pca_figure(real, synth, max_points=30)
    assert len(pca.data) == 2 and len(pca.data[0].x) == 30
    traces = traces_figure(real, synth, n=2)
    assert len(traces.data) == 2 * 2 * 3  # n windows x (real, synth) x channels
    with pytest.raises(ValueError):
        marginals_figure(real, synth, ["only one name"])


def test_metrics_table_formats_and_escapes():
    table = metrics_table({"discriminative_score": 0.123456, "memorized": True, "<k>": "<v>"})
    assert table.startswith("<table") and "0.1235" in table and "yes" in table
    assert "&lt;k&gt;" in table and "&lt;v&gt;" in table and "<k>" not in table
