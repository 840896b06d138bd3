"""`geniot impute` and `geniot detect`, run for real on simulator files (wide and long)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.simulate import PlantConfig, simulate_plant

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("tasks")
    plant = simulate_plant(PlantConfig(n_assets=2, days=1, seed=5, fault_rate=3, drop_rate=0.01, outage_rate=1.0))
    long_csv = plant.write(root / "plant.csv", layout="long")
    asset = plant.assets()[0]
    wide = plant.wide(asset)
    wide_csv = root / "pump.csv"
    wide.assign(anomaly=plant.labels[plant.labels.asset == asset]["anomaly"].to_numpy()).to_csv(wide_csv, index=False)
    art = root / "m"
    result = run("fit", wide_csv, "--model", "gaussian", "--window", "12", "--stride", "2", "--out", art)
    assert result.exit_code == 0, result.output
    return root, long_csv, wide_csv, art, wide


def test_impute_wide_keeps_layout_labels_and_observed_values(files, tmp_path):
    _, _, wide_csv, art, wide = files
    out = tmp_path / "filled.csv"
    report = tmp_path / "fill.html"
    result = run("impute", art, wide_csv, "--out", out, "--draws", "8", "--report", report)
    assert result.exit_code == 0, result.output
    filled = pd.read_csv(out)
    signals = [c for c in wide.columns if c != "timestamp"]
    assert list(filled.columns[: 1 + len(signals)]) == ["timestamp", *signals]
    assert {f"{signals[0]}_lower", f"{signals[0]}_upper", "anomaly"} <= set(filled.columns)
    assert len(filled) == len(wide)
    original = wide[signals].to_numpy()
    now = filled[signals].to_numpy()
    seen = ~np.isnan(original)
    assert (~seen).sum() > 50  # the fixture has gaps to fill
    assert np.array_equal(now[seen], original[seen])  # CSV round trip keeps full precision
    assert not np.isnan(now).any()
    lo, hi = filled[f"{signals[0]}_lower"].to_numpy(), filled[f"{signals[0]}_upper"].to_numpy()
    assert (lo <= now[:, 0] + 1e-9).all() and (now[:, 0] <= hi + 1e-9).all()
    assert report.is_file() and "Filled gaps" in report.read_text()


def test_impute_long_file_fills_every_asset(files, tmp_path):
    _, long_csv, _, art, _ = files
    out = tmp_path / "filled.parquet"
    result = run("impute", art, long_csv, "--out", out)
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    assert {"ts", "asset", "signal", "value", "imputed"} <= set(frame.columns)
    assert frame["asset"].nunique() == 2 and frame["imputed"].sum() > 0
    assert not frame["value"].isna().any()


def test_impute_adds_and_fills_the_rows_of_an_outage_and_says_so(files, tmp_path):
    _, _, wide_csv, art, wide = files
    cut = wide.drop(index=range(300, 330))  # half an hour with no row at all, as historians export an outage
    data, out = tmp_path / "outage.csv", tmp_path / "filled.csv"
    cut.assign(anomaly=0).to_csv(data, index=False)
    result = run("impute", art, data, "--out", out)
    assert result.exit_code == 0, result.output
    assert "30 timestamps missing from the clock in 1 stretch(es)" in " ".join(result.output.split())
    filled = pd.read_csv(out, parse_dates=["timestamp"])
    signals = [c for c in wide.columns if c != "timestamp"]
    assert len(filled) == len(wide)
    assert filled["timestamp"].tolist() == pd.to_datetime(wide["timestamp"]).tolist()  # back on the clock
    assert not filled[signals].isna().any().any()
    assert filled["anomaly"].iloc[300:330].isna().all() and (filled["anomaly"].drop(index=range(300, 330)) == 0).all()
    kept = np.r_[0:300, 330:len(wide)]
    seen = ~np.isnan(wide[signals].to_numpy()[kept])
    assert np.array_equal(filled[signals].to_numpy()[kept][seen], wide[signals].to_numpy()[kept][seen])


def test_detect_writes_one_row_per_input_row(files, tmp_path):
    _, _, wide_csv, art, wide = files
    out = tmp_path / "scores.csv"
    report = tmp_path / "det.html"
    saved = tmp_path / "detector"
    result = run("detect", art, wide_csv, "--train-rows", "600", "--out", out, "--report", report, "--save-detector", saved)
    assert result.exit_code == 0, result.output
    scores = pd.read_csv(out)
    assert list(scores.columns) == ["timestamp", "score", "threshold", "flag", "top_sensors", "reason"]
    assert len(scores) == len(wide)
    assert set(scores["flag"].unique()) <= {0, 1}
    assert "threshold" in result.output and report.is_file()
    # A saved detector scores without being told what is normal again.
    again = tmp_path / "again.csv"
    assert run("detect", saved, wide_csv, "--out", again).exit_code == 0
    np.testing.assert_allclose(pd.read_csv(again)["score"], scores["score"])


def test_fit_calibrates_a_detector_on_held_out_windows(files, tmp_path):
    _, _, wide_csv, art, _ = files
    record = json.loads((art / "state.json").read_text())["training_"]
    detector = json.loads((art / "detector.json").read_text())
    assert record["calibration"] == 0.2 and record["calibration_skipped"] is None
    assert 0 < detector["n_calibration_windows_"] < record["n_training_windows"]
    result = run("detect", art, wide_csv, "--out", tmp_path / "s.csv")  # no --train-rows needed
    assert result.exit_code == 0, result.output
    assert "calibrating on" not in result.output  # the warning about calibrating on training rows
    assert len(pd.read_csv(tmp_path / "s.csv")) == len(pd.read_csv(wide_csv))


def test_detect_needs_calibration_and_says_so(files, tmp_path):
    _, long_csv, wide_csv, _, _ = files
    art = tmp_path / "uncalibrated"
    assert run("fit", wide_csv, "--model", "gaussian", "--window", "12", "--stride", "2", "--calibration", "0", "--out", art).exit_code == 0
    assert not (art / "detector.json").exists()
    result = run("detect", art, wide_csv, "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "--train-rows" in result.output
    result = run("detect", art, long_csv, "--train-rows", "100", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "--asset" in result.output
    result = run("detect", art, wide_csv, "--train-rows", "5", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "window" in result.output


def test_detect_on_a_missing_or_foreign_folder_says_no_model(files, tmp_path):
    _, _, wide_csv, _, _ = files
    result = run("detect", tmp_path / "nope", wide_csv, "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "no model at" in result.output and "calibration" not in result.output
    (tmp_path / "empty").mkdir()
    result = run("detect", tmp_path / "empty", wide_csv, "--train-rows", "100", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "not a geniot model folder" in result.output


def test_wrong_channels_for_the_artifact(files, tmp_path):
    _, _, wide_csv, art, wide = files
    other = tmp_path / "other.csv"
    wide.drop(columns=[wide.columns[2]]).to_csv(other, index=False)
    result = run("impute", art, other, "--out", tmp_path / "f.csv")
    assert result.exit_code == 2 and "missing" in result.output and wide.columns[2] in result.output
    result = run("detect", art, other, "--train-rows", "300", "--out", tmp_path / "s.csv")
    assert result.exit_code == 2 and "missing" in result.output


def test_a_signal_the_model_does_not_know_is_left_out_and_said(files, tmp_path):
    _, long_csv, _, art, wide = files
    extra = tmp_path / "extra.csv"
    spare = wide.assign(spare_temp_c=np.where(np.arange(len(wide)) % 7 == 0, np.nan, 20.0))
    spare.to_csv(extra, index=False)
    scores = tmp_path / "s.csv"
    result = run("detect", art, extra, "--train-rows", "300", "--out", scores)
    assert result.exit_code == 0, result.output
    assert "spare_temp_c" in result.output and "not in the model" in result.output
    assert len(pd.read_csv(scores)) == len(wide)
    filled_csv = tmp_path / "f.csv"
    result = run("impute", art, extra, "--out", filled_csv)
    assert result.exit_code == 0, result.output
    assert "spare_temp_c" in result.output and "not in the model" in result.output
    filled = pd.read_csv(filled_csv)
    assert filled["spare_temp_c"].isna().sum() == spare["spare_temp_c"].isna().sum()  # written back as read
    assert not filled[[c for c in wide.columns if c != "timestamp"]].isna().any().any()
    # long layout: the unknown signal's rows come back as read, not filled
    plant = pd.read_csv(long_csv)
    first = plant[plant.signal == plant.signal.iloc[0]].assign(signal="spare_temp_c")
    long_extra = tmp_path / "long_extra.csv"
    pd.concat([plant, first.iloc[::2]]).to_csv(long_extra, index=False)
    result = run("impute", art, long_extra, "--out", tmp_path / "fl.csv")
    assert result.exit_code == 0, result.output
    out = pd.read_csv(tmp_path / "fl.csv")
    spare_rows = out[out.signal == "spare_temp_c"]
    assert len(spare_rows) == len(first.iloc[::2].dropna(subset=["value"]))
    assert (spare_rows.imputed == 0).all()


def test_all_nan_column_is_named(files, tmp_path):
    _, _, wide_csv, art, wide = files
    dead = tmp_path / "dead.csv"
    col = wide.columns[3]
    wide.assign(**{col: np.nan}).to_csv(dead, index=False)
    result = run("impute", art, dead, "--out", tmp_path / "f.csv")
    assert result.exit_code == 2 and col in result.output


def test_detect_warns_when_calibrating_on_the_training_rows(files, tmp_path):
    _, _, wide_csv, _, _ = files
    art = tmp_path / "m"
    assert run("fit", wide_csv, "--model", "gaussian", "--window", "12", "--train-rows", "600", "--out", art).exit_code == 0
    result = run("detect", art, wide_csv, "--train-rows", "600", "--out", tmp_path / "s.csv")
    assert result.exit_code == 0 and "trained on" in result.output and "--normal" in result.output


def test_both_scores_export_to_the_edge(files, tmp_path):
    """fit's step-score detector exports as it is (edge.json says so), and `detect --score
    window` recalibrates a whole-window one that exports too."""
    pytest.importorskip("onnxruntime")
    _, _, wide_csv, art, _ = files
    step_det, window_det = tmp_path / "step", tmp_path / "window"
    assert run("detect", art, wide_csv, "--out", tmp_path / "a.csv", "--save-detector", step_det).exit_code == 0
    exported = run("export", step_det, "--format", "onnx", "--out", tmp_path / "edge_step")
    assert exported.exit_code == 0, exported.output
    assert json.loads((tmp_path / "edge_step" / "edge.json").read_text())["score"] == "step"
    result = run("detect", art, wide_csv, "--train-rows", "600", "--score", "window", "--out", tmp_path / "b.csv",
                 "--save-detector", window_det)  # fmt: skip
    assert result.exit_code == 0, result.output
    exported = run("export", window_det, "--format", "onnx", "--out", tmp_path / "edge")
    assert exported.exit_code == 0, exported.output
    assert json.loads((tmp_path / "edge" / "edge.json").read_text())["score"] == "window"
    assert run("detect", art, wide_csv, "--score", "window", "--out", tmp_path / "c.csv").exit_code != 0
