"""`geniot fit --epsilon` and `geniot audit`, end to end on small simulator files."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.simulate import simulate_plant
from geniot.workflows.datasets import time_split_windows, windows_from_file

pytest.importorskip("opacus")
runner = CliRunner()
WINDOW, STRIDE = "12", "6"


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    path = tmp_path_factory.mktemp("plant") / "pump.csv"
    simulate_plant(n_assets=1, days=3.0, interval_s=120, seed=4, fault_rate=0.0, outage_rate=0.0,
                   drop_rate=0.0).write(path, layout="wide")
    return path


@pytest.fixture(scope="module")
def dp_model(plant, tmp_path_factory):
    art = tmp_path_factory.mktemp("dp") / "m"
    result = run("fit", plant, "--model", "vae", "--window", WINDOW, "--stride", STRIDE, "--holdout", "0.3",
                 "--epsilon", "4", "--delta", "1e-4", "--params", '{"epochs": 8, "batch_size": 32, "hidden": [16, 32]}',
                 "--out", art)
    assert result.exit_code == 0, result.output
    return art


def test_fit_with_epsilon_writes_a_dp_artifact(dp_model):
    spec = json.loads((dp_model / "spec.json").read_text())
    state = json.loads((dp_model / "state.json").read_text())
    assert spec["name"] == "dp" and spec["params"]["generator"]["name"] == "vae"
    privacy = state["privacy_"]
    assert privacy["epsilon_target"] == 4.0 and 0 < privacy["epsilon_spent"] <= 4.0
    assert privacy["delta"] == 1e-4 and privacy["steps"] > 0
    assert state["training_"]["holdout"] == 0.3


def test_audit_of_dp_samples_writes_json_and_report(plant, dp_model, tmp_path):
    synth = tmp_path / "s.npy"
    assert run("sample", dp_model, "--n", "300", "--out", synth).exit_code == 0
    out, report = tmp_path / "audit.json", tmp_path / "audit.html"
    result = run("audit", plant, synth, "--model", dp_model, "--out", out, "--report", report)
    assert result.exit_code == 0, result.output
    metrics = json.loads(out.read_text())
    assert metrics["verdict"] in ("pass", "warn")
    assert 0.0 <= metrics["mia_auc"] <= 1.0 and metrics["epsilon"] <= 4.0
    assert metrics["n_members"] == metrics["n_non_members"] > 0
    page = report.read_text()
    assert "Membership inference" in page and "NNDR" in page and metrics["verdict"].upper() in page


def test_audit_flags_released_training_windows(plant, tmp_path):
    windows = windows_from_file(plant, int(WINDOW), stride=int(STRIDE)).windows
    train, _ = time_split_windows(windows, 0.7)
    copies = tmp_path / "copies.npy"
    np.save(copies, train)
    utility = tmp_path / "runs.jsonl"
    utility.write_text("\n".join(json.dumps(r) for r in [
        {"epsilon": 1.0, "discriminative_score": 0.3, "mia_auc": 0.5},
        {"epsilon": None, "discriminative_score": 0.1, "mia_auc": 0.6},
    ]))
    report = tmp_path / "a.html"
    result = run("audit", plant, copies, "--window", WINDOW, "--stride", STRIDE, "--holdout-fraction", "0.3",
                 "--strict", "--report", report, "--utility", utility)
    assert result.exit_code == 1, result.output
    assert "FAIL" in result.output
    assert "Privacy-utility" in report.read_text()


def test_audit_needs_a_holdout(plant, tmp_path):
    synth = tmp_path / "s.npy"
    np.save(synth, np.zeros((10, 12, 8)))
    result = run("audit", plant, synth, "--window", WINDOW)
    assert result.exit_code == 2
    assert "--holdout" in result.output


def test_audit_checks_the_window_length(plant, tmp_path):
    synth = tmp_path / "s.npy"
    np.save(synth, np.zeros((10, 10, 8)))
    result = run("audit", plant, synth, "--window", WINDOW, "--holdout-fraction", "0.3")
    assert result.exit_code == 2
    assert "10 steps" in result.output


def test_fit_with_epsilon_refuses_a_gan(plant, tmp_path):
    result = run("fit", plant, "--model", "gan", "--window", WINDOW, "--epsilon", "1", "--out", tmp_path / "g")
    assert result.exit_code == 2
    assert "DP-SGD" in result.output
