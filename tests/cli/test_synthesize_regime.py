"""`geniot synthesize --regime NAME` on simulated pumps: regimes learned from the labels' regime
column or from clusters of the readings, the series held in the one asked for, and an unknown
name refused with the known ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.io import read_table
from geniot.data.simulate import PlantConfig, simulate_plant

runner = CliRunner()


def said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("regime")
    plant = simulate_plant(PlantConfig(n_assets=1, days=4, seed=5, interval_s=300, fault_rate=0, drop_rate=0,
                                       outage_rate=0, degrading_fraction=0, regime_hours=4))  # fmt: skip
    data, labels = root / "plant.csv", root / "labels.csv"
    plant.write(data, layout="long")
    plant.labels.to_csv(labels, index=False)
    m = root / "m"
    r = runner.invoke(app, ["fit", str(data), "--model", "gaussian", "--window", "12", "--out", str(m)])
    assert r.exit_code == 0, r.output
    speed = plant.wide("P-1")["speed_rpm"].to_numpy()
    real = {g: float(np.median(speed[(plant.labels["regime"] == g).to_numpy()])) for g in ("low", "nominal", "high")}
    return root, m, labels, real


def _speed(path) -> np.ndarray:
    (series,) = read_table(path).values()
    return series.select(["speed_rpm"]).values[:, 0]


def test_regime_from_labels_holds_the_series_there(fitted, tmp_path):
    _, m, labels, real = fitted
    speeds = {}
    for name in ("low", "high"):
        out = tmp_path / f"{name}.csv"
        r = runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(out), "--regime", name,
                                "--regime-labels", str(labels), "--seed", "1"])  # fmt: skip
        assert r.exit_code == 0, r.output
        assert "regimes learned: high" in said(r) and "nominal" in said(r) and f"regime {name}:" in said(r)
        speeds[name] = np.median(_speed(out))
    # each series runs at its regime's real speed, nearer it than any other regime's
    for name, got in speeds.items():
        assert min(real, key=lambda g: abs(real[g] - got)) == name, (speeds, real)
    free = tmp_path / "free.csv"
    assert runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(free), "--seed", "1"]).exit_code == 0
    assert speeds["low"] < np.median(_speed(free)) < speeds["high"]


def test_regimes_from_clusters_and_unknown_names(fitted, tmp_path):
    _, m, labels, _ = fitted
    out = tmp_path / "s.csv"
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "6h", "--out", str(out), "--regime", "turbo"])
    assert r.exit_code == 2
    assert "'turbo'" in said(r) and "clusters of the readings" in said(r) and "'low'" in said(r) and "'high'" in said(r)
    assert not out.exists()  # refused before any work
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "6h", "--out", str(out), "--regime", "high"])
    assert r.exit_code == 0, r.output
    assert "regime high:" in said(r) and pd.read_csv(out).shape[0] > 0
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "6h", "--out", str(out), "--regime-labels", str(labels)])
    assert r.exit_code == 2 and "--regime NAME" in said(r)
