"""`geniot fl simulate`: three simulated sites (one pump each) in Flower's simulation engine."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

import geniot.federated  # noqa: F401 - first: it turns Flower's usage telemetry off before flwr loads
from geniot.cli.main import app
from geniot.data.io import read_series
from geniot.models.loading import load_generator
from geniot.tasks import AnomalyDetector

pytest.importorskip("flwr")
pytest.importorskip("ray")

TINY_VAE = {"hidden": [8, 16], "latent_dim": 3, "batch_size": 64, "patience": None, "learning_rate": 3e-3}


def test_three_site_simulation_converges_and_saves_a_usable_model(tmp_path):
    out, work = tmp_path / "model", tmp_path / "sites"
    args = [
        "fl", "simulate", "--sites", "3", "--days", "1", "--work", str(work), "--model", "vae",
        "--params", json.dumps(TINY_VAE), "--window", "8", "--rounds", "3", "--local-epochs", "1", "--out", str(out),
    ]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    for r in (1, 2, 3):
        assert f"round {r}/3" in result.output
    assert "F1" in result.output  # the simulator's sites carry labels: each round reports F1

    fed = json.loads((out / "federation.json").read_text())
    assert len(fed["sites"]) == 3 and all(s["windows"] > 0 for s in fed["sites"])
    losses = [r["loss"] for r in fed["rounds"]]
    assert losses[-1] < losses[0], losses  # the global model's loss on held-out normal windows falls
    assert all(0.0 <= r["f1"] <= 1.0 for r in fed["rounds"])

    # The folder is a normal geniot model: detector and generator both load and work.
    detector = AnomalyDetector.load(out)
    series = read_series(work / "P-1.csv")
    flags = detector.detect(series.values).flags
    assert flags.shape == (series.n_steps,)
    assert np.isfinite(load_generator(out).sample(2, random_state=0)).all()
