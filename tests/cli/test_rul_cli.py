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
