"""`geniot fleet train` from the simulator and the store (serial engine), and its clear errors."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.store import SensorStore
from geniot.models.loading import load_generator

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_fleet_train_simulated_writes_one_model_per_asset(tmp_path):
    out = tmp_path / "fleet"
    result = run("fleet", "train", "--simulate", 2, "--days", 0.5, "--model", "vae", "--params", '{"epochs": 2, "hidden": [16]}', "--window", 12, "--out", out)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "fleet.json").read_text())
    assert index["model"] == "vae" and set(index["assets"]) == {"P-1", "P-2"}
    seeds = {v["seed"] for v in index["assets"].values()}
    assert len(seeds) == 2
    gen = load_generator(out / "P-1")
    assert gen.metadata_["assets"] == ["P-1"] and gen.random_state == index["assets"]["P-1"]["seed"]


def test_fleet_train_from_the_store(fleet, tmp_path):
    store_file = tmp_path / "plant.duckdb"
    with SensorStore(store_file) as store:
        for asset, series in fleet.items():
            store.append(series, asset=asset)
    out = tmp_path / "fleet"
    result = run("fleet", "train", "--store", store_file, "--model", "gaussian", "--window", 12, "--train-rows", 400, "--out", out)
    assert result.exit_code == 0, result.output
    index = json.loads((out / "fleet.json").read_text())
    assert {v["n_steps"] for v in index["assets"].values()} == {400}


def test_fleet_errors_are_one_clear_line(tmp_path):
    result = run("fleet", "train", "--simulate", 2, "--store", tmp_path / "x.duckdb", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "exactly one of DATA, --store FILE or --simulate N" in result.output
    result = run("fleet", "train", "--simulate", 2, "--days", 0.2, "--engine", "spark", "--out", tmp_path / "o")
    assert result.exit_code == 2 and "unknown engine 'spark'" in result.output
    result = run("fleet", "train", "--simulate", 2, "--days", 0.2, "--model", "gan", "--out", tmp_path / "o")
    assert result.exit_code != 0 and "no likelihood" in str(result.output) + str(result.exception)
    result = run("fleet", "score", tmp_path, "--simulate", 1, "--out", tmp_path / "s.csv")
    assert result.exit_code != 0
    (tmp_path / "fleet.json").write_text(json.dumps({"assets": {"P-1": {"folder": "../elsewhere"}}}))
    data = tmp_path / "d.csv"
    data.write_text("timestamp,a\n2026-01-01,1\n")
    result = run("fleet", "score", tmp_path, data, "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "not a folder name inside" in result.output
