"""The training record: what `geniot fit` saw is what `report`, `evaluate` and `audit` replay."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.simulate import simulate_plant
from geniot.models.loading import load_generator
from geniot.workflows.datasets import holdout_split, windows_from_file

runner = CliRunner()
WINDOW, TRAIN_ROWS, HOLDOUT = 8, 400, 0.2


def run(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    path = tmp_path_factory.mktemp("plant") / "pump.csv"
    simulate_plant(n_assets=1, days=1.4, interval_s=120, seed=3, fault_rate=0.0, outage_rate=0.0,
                   drop_rate=0.0).write(path, layout="wide")
    return path


@pytest.fixture(scope="module")
def model(plant, tmp_path_factory):
    art = tmp_path_factory.mktemp("m") / "gauss"
    run("fit", plant, "--model", "gaussian", "--window", WINDOW, "--train-rows", TRAIN_ROWS,
        "--holdout", HOLDOUT, "--out", art)
    return art


def test_memorization_check_replays_the_training_rows_and_split(plant, model, tmp_path):
    # The windows the model never saw: cut from the first 400 rows and split as `fit` split them.
    seen = windows_from_file(plant, WINDOW, train_rows=TRAIN_ROWS).windows
    _, unseen = holdout_split(seen, HOLDOUT, "blocks")
    synth = tmp_path / "unseen.npy"
    np.save(synth, unseen)
    metrics = json.loads(run("evaluate", plant, synth, "--model", model, "--json").stdout)
    # Real windows the model never saw are no copies. Re-reading the whole file (and splitting its
    # 1000 rows) called most of them "train" windows and the model a copier.
    assert metrics["memorized"] is False, metrics
    assert metrics["dcr_synth_median"] > 0
    copies = tmp_path / "copies.npy"
    np.save(copies, holdout_split(seen, HOLDOUT, "blocks")[0])
    assert json.loads(run("evaluate", plant, copies, "--model", model, "--json").stdout)["memorized"] is True


def test_the_record_is_typed_json_and_replays_the_fit_windows(plant, model):
    from geniot.workflows.training import replay_training_windows

    gen = load_generator(model)
    record = gen.training_
    assert (record.window, record.stride, record.train_rows, record.holdout) == (WINDOW, 1, TRAIN_ROWS, HOLDOUT)
    (asset,) = windows_from_file(plant, WINDOW).assets
    assert record.assets == (asset,) and record.asset == asset and record.source == str(plant)
    assert gen.channel_names_ == tuple(windows_from_file(plant, WINDOW).channels)
    state = json.loads((model / "state.json").read_text())
    assert "metadata_" not in state and state["training_"]["train_rows"] == TRAIN_ROWS
    split = replay_training_windows(gen, plant)
    assert len(split.fit) == record.n_training_windows
    assert len(split.fit) + len(split.calibration) + len(split.holdout) < TRAIN_ROWS  # only the first rows


def test_report_uses_the_training_windows(plant, model, tmp_path):
    out = tmp_path / "r.html"
    run("report", model, plant, "--out", out, "--n", "200")
    assert out.stat().st_size > 10_000
