"""The real commands, run end to end on simulator data (tiny settings)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.models.loading import load_generator

runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, [str(a) for a in args])
    return result


@pytest.fixture(scope="module")
def plant_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("plant") / "plant.csv"
    result = run("simulate", "--assets", "2", "--days", "0.5", "--seed", "3", "--out", path)
    assert result.exit_code == 0, result.output
    return path


def test_simulate_writes_long_csv(plant_csv):
    header = plant_csv.read_text().splitlines()[0]
    assert header.split(",")[:4] == ["ts", "asset", "signal", "value"]


def test_fit_sample_evaluate(plant_csv, tmp_path):
    art = tmp_path / "m"
    result = run("fit", plant_csv, "--model", "gaussian", "--window", "16", "--stride", "4", "--out", art, "--holdout", "0.2")
    assert result.exit_code == 0, result.output
    assert (art / "spec.json").is_file()

    synth = tmp_path / "s.npy"
    result = run("sample", art, "--n", "50", "--out", synth)
    assert result.exit_code == 0, result.output
    arr = np.load(synth, allow_pickle=False)
    n_signals = len(set(pd.read_csv(plant_csv)["signal"]))  # the long file's signals are the channels
    assert arr.shape == (50, 16, n_signals)

    report = tmp_path / "r.html"
    result = run("evaluate", plant_csv, synth, "--window", "16", "--model", art, "--out", report, "--json")
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.stdout[result.stdout.index("{") :])
    assert 0.0 <= metrics["discriminative_score"] <= 0.5
    assert report.is_file() and "<html" in report.read_text().lower()


def test_sample_to_csv_table(plant_csv, tmp_path):
    art = tmp_path / "m"
    assert run("fit", plant_csv, "--model", "gaussian", "--window", "8", "--stride", "8", "--out", art).exit_code == 0
    out = tmp_path / "s.csv"
    result = run("sample", art, "--n", "3", "--out", out)
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("window,step,") and len(lines) == 1 + 3 * 8


def test_fit_torch_model_with_params(plant_csv, tmp_path):
    art = tmp_path / "d"
    params = json.dumps({"epochs": 1, "d_model": 16, "n_layers": 1, "timesteps": 10, "sampling_steps": 3})
    result = run("fit", plant_csv, "--model", "diffusion", "--window", "8", "--stride", "8", "--out", art, "--params", params)
    assert result.exit_code == 0, result.output
    assert (art / "weights.pt").is_file()
    spec = json.loads((art / "spec.json").read_text())
    assert {k: spec["params"][k] for k in json.loads(params)} == json.loads(params)
    model = load_generator(art)
    assert model.d_model == 16 and model.n_layers == 1 and len(model.history_) == 1  # one epoch, as asked


def test_bad_input_gives_one_clear_line(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "timestamp,a\n2026-01-01 00:00,1\n2026-01-01 00:01,x\n2026-01-01 00:02,3\n2026-01-01 00:03,4\n"
    )
    result = run("fit", bad, "--model", "gaussian", "--window", "2", "--out", tmp_path / "m")
    assert result.exit_code == 2
    assert "bad.csv" in result.output and "'a'" in result.output and "row 2" in result.output
    assert "Traceback" not in result.output


def test_unknown_model_and_long_window(plant_csv, tmp_path):
    result = run("fit", plant_csv, "--model", "nope", "--window", "8", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "known models" in result.output
    result = run("fit", plant_csv, "--model", "gaussian", "--window", "100000", "--out", tmp_path / "m")
    assert result.exit_code == 2 and "longer than the series" in result.output


def test_demo_runs_end_to_end(tmp_path):
    result = run("demo", "--home", tmp_path, "--model", "gaussian", "--assets", "2", "--days", "0.5")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "report.html").is_file()
    assert (tmp_path / "plant.duckdb").is_file()
    assert (tmp_path / "model" / "spec.json").is_file()


def test_models_lists_every_generator():
    result = run("models")
    assert result.exit_code == 0
    for name in ("gaussian", "vae", "gan", "diffusion"):
        assert name in result.output
