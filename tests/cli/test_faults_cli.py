"""`geniot faults fit|predict` on a small folder in the CWRU layout (manifest + npz)."""

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app

runner = CliRunner()


def _folder(root):
    rng = np.random.default_rng(0)
    rows = []
    for load, rpm in enumerate((1797, 1772)):
        for label, freq in ((1, 3000.0), (4, 2200.0), (7, 3700.0)):
            t = np.arange(24_000) / 12_000
            signal = np.sin(2 * np.pi * freq * t) * (np.sin(2 * np.pi * 100 * t) > 0.9) + 0.3 * rng.standard_normal(len(t))
            name = f"12k_DE/{rpm}_{label}.npz"
            (root / "12k_DE").mkdir(parents=True, exist_ok=True)
            np.savez(root / name, DE=signal)
            rows.append({"file": name, "rpm": rpm, "load_hp": load, "condition": str(label), "fs_hz": 12000, "label10": label})
    pd.DataFrame(rows).to_csv(root / "manifest.csv", index=False)


def test_faults_fit_then_predict_by_load(tmp_path):
    _folder(tmp_path / "cwru")
    r = runner.invoke(app, ["faults", "fit", str(tmp_path / "cwru"), "--load", "0", "--out", str(tmp_path / "m")])
    assert r.exit_code == 0, r.output
    out = tmp_path / "p.csv"
    r = runner.invoke(app, ["faults", "predict", str(tmp_path / "m"), str(tmp_path / "cwru"), "--load", "1", "--out", str(out)])
    assert r.exit_code == 0, r.output
    pred = pd.read_csv(out)
    assert list(pred.columns) == ["file", "window", "label", "predicted", "probability"]
    assert (pred["label"] == pred["predicted"]).mean() > 0.9
    r = runner.invoke(app, ["faults", "fit", str(tmp_path), "--out", str(tmp_path / "m2")])
    assert r.exit_code == 2 and "manifest" in r.output
