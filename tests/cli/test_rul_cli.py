"""`geniot rul fit|predict` on C-MAPSS-format text files and on CSV."""

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app

runner = CliRunner()


def _cmapss_text(path, n_units=6, seed=0):
    rng = np.random.default_rng(seed)
    lines, truth = [], []
    for u in range(1, n_units + 1):
        life = int(rng.integers(60, 90))
        for c in range(1, life + 1):
            wear = c / life
            sensors = 10 + 5 * wear + 0.1 * rng.standard_normal(21)
            sensors[0] = 518.67  # a constant sensor, as in FD001
            lines.append(" ".join(map(str, [u, c, 0.0, 0.0, 100.0, *np.round(sensors, 4)])))
        truth.append(0)
    path.write_text("\n".join(lines) + "\n")


def test_rul_fit_predict_writes_one_row_per_unit(tmp_path):
    train, test = tmp_path / "train_FD009.txt", tmp_path / "test_FD009.txt"
    _cmapss_text(train)
    _cmapss_text(test, n_units=3, seed=1)
    (tmp_path / "RUL_FD009.txt").write_text("0\n0\n0\n")
    r = runner.invoke(app, ["rul", "fit", str(train), "--out", str(tmp_path / "m"), "--window", "10", "--max-minutes", "0.1"])
    assert r.exit_code == 0, r.output
    out = tmp_path / "pred.csv"
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(test), "--out", str(out), "--truth", str(tmp_path / "RUL_FD009.txt")])
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["unit", "rul", "lower", "upper"] and pred["unit"].tolist() == [1, 2, 3]
    assert "RMSE" in r.output
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"unit": [1], "s1": [1.0]}).to_csv(bad, index=False)
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(bad), "--out", str(out)])
    assert r.exit_code == 2 and "cycle" in r.output


def test_rul_on_a_timestamped_csv_scored_with_a_unit_rul_file(tmp_path):
    rng = np.random.default_rng(0)
    rows, truth = [], []
    for u in range(1, 7):
        n = int(rng.integers(80, 120))
        cut = n if u <= 5 else n - 20  # unit 6 is a test unit cut 20 steps before failure
        for i in range(cut):
            rows.append({"unit": u, "timestamp": f"2026-01-0{1 + u % 5} {i // 60:02d}:{i % 60:02d}:00",
                         "condition": 1 + u % 2, "s1": i / n + 0.01 * rng.standard_normal(), "s2": rng.standard_normal()})  # fmt: skip
        truth.append({"unit": u, "rul": float(n - cut)})
    data = tmp_path / "rtf.csv"
    pd.DataFrame(rows).to_csv(data, sep=";", index=False)
    train = tmp_path / "train.csv"
    pd.DataFrame([r for r in rows if r["unit"] <= 5]).to_csv(train, index=False)
    r = runner.invoke(app, ["rul", "fit", str(train), "--out", str(tmp_path / "m"), "--fixed-epochs", "--epochs", "3",
                            "--condition-columns", "condition"])  # fmt: skip
    assert r.exit_code == 0, r.output
    for said in ("sampling interval: 1 min", "cap (horizon", "window:", "exactly 3 epochs", "RUL in min"):
        assert said in r.output, said
    pd.DataFrame(truth).to_csv(tmp_path / "unit_rul.csv", index=False)
    out = tmp_path / "pred.csv"
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(data), "--out", str(out), "--truth",
                            str(tmp_path / "unit_rul.csv")])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "uncapped: RMSE" in r.output and "capped at" in r.output and "PHM2012" in r.output and "coverage" in r.output
    assert len(pd.read_csv(out)) == 6
    pd.DataFrame(truth[:3]).to_csv(tmp_path / "short.csv", index=False)
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(data), "--out", str(out), "--truth",
                            str(tmp_path / "short.csv")])  # fmt: skip
    assert r.exit_code == 2 and "no true RUL for unit(s)" in r.output


def test_rul_on_bearing_snapshot_folders(tmp_path):
    from geniot.data.sim_bearings import cut_before_failure, simulate_bearings, write_bearing_folder

    train = simulate_bearings(3, seed=0, snapshot_s=0.05, interval_s=900)
    test = [cut_before_failure(b, s)[0] for b, s in zip(simulate_bearings(2, seed=5, snapshot_s=0.05, interval_s=450,
                                                                        prefix="t"), (0.3, 1.0), strict=True)]  # fmt: skip
    write_bearing_folder(tmp_path / "train", train)
    write_bearing_folder(tmp_path / "test", test, sep=";")
    r = runner.invoke(app, ["rul", "fit", str(tmp_path / "train"), "--out", str(tmp_path / "m"), "--fixed-epochs",
                            "--epochs", "3", "--defect-orders", "bpfo=3.5848,bpfi=5.4152,bsf=4.7135"])  # fmt: skip
    assert r.exit_code == 0, r.output
    for said in ("read 3 bearing(s)", "env_bpfo", "onset of degradation", "healthy baseline", "population prior"):
        assert said in r.output, said
    out = tmp_path / "pred.csv"
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(tmp_path / "test"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out)
    assert pred["basis"].tolist() == ["no onset yet: population prior", "after onset: model"]
    assert "the observation process estimated from the 2 unit(s) of this batch: in service" in " ".join(r.output.split())
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(tmp_path / "test"), "--out", str(out),
                            "--observed-share", "in-service"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "prior before onset: training units still before onset at the same age" in r.output
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(tmp_path / "test"), "--out", str(out),
                            "--observed-share", "0.2-0.5"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "prior before onset: training units at 20%-50% of their life" in r.output
    told = pd.read_csv(out)
    assert told["prior_from"].iloc[0] != pred["prior_from"].iloc[0]
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(tmp_path / "test"), "--out", str(out),
                            "--observed-share", "0.5-0.2"])  # fmt: skip
    assert r.exit_code == 2 and "observed_share" in r.output
    r = runner.invoke(app, ["rul", "predict", str(tmp_path / "m"), str(tmp_path / "test" / "manifest.csv"), "--out", str(out)])
    assert r.exit_code == 2 and "give a folder" in r.output


def test_rul_fit_says_the_ensemble_the_cmapss_smoothing_and_the_calibrated_band(tmp_path):
    train = tmp_path / "train_FD009.txt"
    _cmapss_text(train, n_units=6)
    r = runner.invoke(app, ["rul", "fit", str(train), "--out", str(tmp_path / "m"), "--window", "10", "--n-models", "2",
                            "--epochs", "3", "--patience", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    text = " ".join(r.output.split())
    assert "ensemble: 2 nets" in text and "smoothing 0.3" in text and "weight 0.3 on the newest row" in text
    assert "split conformal on" in text and "2 net(s)" in text
    r = runner.invoke(app, ["rul", "fit", str(train), "--out", str(tmp_path / "m1"), "--window", "10", "--n-models", "1",
                            "--smoothing", "1", "--epochs", "2", "--fixed-epochs"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert "one net (--n-models 1)" in r.output and "not calibrated" in r.output


def test_rul_futures_writes_paths_to_failure_and_the_failure_times(tmp_path):
    train, test = tmp_path / "train_FD009.txt", tmp_path / "test_FD009.txt"
    _cmapss_text(train)
    _cmapss_text(test, n_units=2, seed=1)
    r = runner.invoke(app, ["rul", "fit", str(train), "--out", str(tmp_path / "m"), "--window", "10", "--fixed-epochs",
                            "--epochs", "1", "--n-models", "1"])  # fmt: skip
    assert r.exit_code == 0, r.output
    out, times = tmp_path / "paths.csv", tmp_path / "times.csv"
    r = runner.invoke(app, ["rul", "futures", str(tmp_path / "m"), str(train), str(test), "--out", str(out), "--n", "4",
                            "--times-out", str(times), "--past", "5", "--ahead", "3"])  # fmt: skip
    assert r.exit_code == 0, r.output
    paths = pd.read_csv(out)
    assert paths.groupby("unit")["future"].nunique().tolist() == [4, 4]
    assert {"step", "time_ahead", "rul"} <= set(paths.columns)
    said = pd.read_csv(times)
    assert said["unit"].tolist() == [1, 2] and (said["lower"] <= said["upper"]).all()
    assert "split conformal" in r.output and "unit 1: failure in" in r.output
    r = runner.invoke(app, ["rul", "futures", str(tmp_path / "m"), str(train), str(test), "--out", str(out), "--n", "0"])
    assert r.exit_code == 2 and "--n must be at least 1" in r.output
