"""`geniot fit --model auto`: the held-out choice, its rules, and what it says."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.workflows.model_selection import SELECTION_FILE, CandidateResult, _pick

runner = CliRunner()


def _result(name, score, copies=False, sd=0.0):
    return CandidateResult(name, score, sd, 1.0, copies, 1.0, 1)


def test_the_lowest_score_that_does_not_copy_wins():
    name, why = _pick([_result("gaussian", 0.20), _result("vae", 0.05, copies=True), _result("diffusion", 0.10)])
    assert name == "diffusion"
    assert "set aside as copying: vae" in why


def test_a_tie_within_one_standard_error_goes_to_the_simpler_model():
    name, why = _pick([_result("gaussian", 0.11, sd=0.03), _result("diffusion", 0.10, sd=0.03)])
    assert name == "gaussian" and "simpler" in why
    name, _ = _pick([_result("gaussian", 0.20, sd=0.01), _result("diffusion", 0.10, sd=0.01)])
    assert name == "diffusion"


def test_a_candidate_that_failed_is_said_and_skipped():
    failed = CandidateResult("flow", None, None, None, False, 0.0, None, "failed: boom")
    name, _ = _pick([failed, _result("gaussian", 0.3)])
    assert name == "gaussian"
    assert "not scored (failed: boom)" in failed.line()


def _plant_csv(tmp_path):
    rng = np.random.default_rng(0)
    t = np.arange(600)
    frame = pd.DataFrame({
        "timestamp": pd.date_range("2026-01-01", periods=600, freq="1min"),
        "flow": 10 + np.sin(t / 9) + rng.normal(0, 0.1, 600),
        "pressure": 3 + 0.2 * np.sin(t / 9 + 0.5) + rng.normal(0, 0.02, 600),
    })  # fmt: skip
    path = tmp_path / "plant.csv"
    frame.to_csv(path, index=False)
    return path


def test_fit_auto_prints_every_candidate_and_saves_the_choice(tmp_path):
    data = _plant_csv(tmp_path)
    res = runner.invoke(app, ["fit", str(data), "--model", "auto", "--candidates", "gaussian,vae", "--window", "8",
                              "--out", str(tmp_path / "m"), "--max-minutes", "0.3"])  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "gaussian: discriminative" in res.output and "vae: discriminative" in res.output
    body = json.loads((tmp_path / "m" / SELECTION_FILE).read_text())
    assert body["chosen"] in ("gaussian", "vae") and f"chose {body['chosen']}" in res.output
    assert [c["name"] for c in body["candidates"]] == ["gaussian", "vae"]
    assert json.loads((tmp_path / "m" / "spec.json").read_text())["name"] == body["chosen"]


def test_fit_auto_refuses_what_belongs_to_one_model(tmp_path):
    data = _plant_csv(tmp_path)
    for extra, said in ((["--params", '{"epochs": 2}'], "belong to one model"), (["--candidates", "gaussian,nope"], "unknown candidate")):
        res = runner.invoke(app, ["fit", str(data), "--model", "auto", "--out", str(tmp_path / "m"), *extra])
        assert res.exit_code != 0 and said in res.output, res.output
    res = runner.invoke(app, ["fit", str(data), "--model", "gaussian", "--candidates", "vae", "--out", str(tmp_path / "m")])
    assert res.exit_code != 0 and "--candidates goes with --model auto" in res.output
