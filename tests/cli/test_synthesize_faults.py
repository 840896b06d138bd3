"""Faults on demand through the CLI: `geniot synthesize … --fault TYPE@TIME/DURATION --labels l.csv`
on a model of simulated pumps with faults writes the fault where asked, and a detector trained
on real normal data flags it there and (almost) nowhere else, for every fault type the simulator
has. Spikes are labelled on their own rows, as the simulator labels them; a stuck sensor is seen
by the detector's stuck rule."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.io import read_table
from geniot.data.sim_faults import FAULT_TYPES, SENSOR_FAULTS
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.long_synthesis import fault_episodes

runner = CliRunner()


def said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())
INTERVAL = 300


@pytest.fixture(scope="module")
def plant(tmp_path_factory):
    root = tmp_path_factory.mktemp("faults")
    sim = simulate_plant(PlantConfig(n_assets=1, days=10, seed=1, interval_s=INTERVAL, fault_rate=8,
                                     drop_rate=0, outage_rate=0, degrading_fraction=0))  # fmt: skip
    data, labels = root / "plant.csv", root / "labels.csv"
    sim.write(data, layout="long")
    sim.labels.to_csv(labels, index=False)
    values = read_table(data)["P-1"].values
    normal, prev = [], 0  # the real normal data: the stretches between labelled faults
    for _, lo, hi in fault_episodes(sim.labels["fault"].reset_index(drop=True)):
        if lo - prev > 40:
            normal.append(values[prev:lo])
        prev = hi
    m = root / "m"
    r = runner.invoke(app, ["fit", str(data), "--model", "gaussian", "--window", "12", "--out", str(m), "--labels", str(labels)])
    assert r.exit_code == 0, r.output
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal)
    return m, detector


@pytest.mark.parametrize("fault", FAULT_TYPES)
def test_fault_written_where_asked_and_flagged(plant, tmp_path, fault):
    m, detector = plant
    out, lab = tmp_path / "s.csv", tmp_path / "l.csv"
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(out), "--start", "2026-02-01T00:00",
                            "--fault", f"{fault}@2026-02-01T12:00/3h", "--labels", str(lab), "--seed", "2"])  # fmt: skip
    assert r.exit_code == 0, r.output
    assert f"fault {fault}" in said(r) and "rows 144-179" in said(r)
    labels = pd.read_csv(lab, parse_dates=["ts"])
    inside = ((labels["ts"] >= "2026-02-01 12:00") & (labels["ts"] < "2026-02-01 15:00")).to_numpy()
    assert (labels.loc[~inside, "fault"] == "normal").all()
    labelled = (labels["fault"] == fault).to_numpy()
    if fault == "spikes":  # its own rows only, a few of them (the real spikes' rate)
        assert 1 <= labelled.sum() < inside.sum() / 2 and "impulses per asset" in said(r)
    else:
        assert labelled[inside].all() and labels["anomaly"].sum() == 3 * 3600 // INTERVAL
    (series,) = read_table(out).values()
    assert pd.Timestamp(series.timestamps[144]) == pd.Timestamp("2026-02-01 12:00")
    flags = detector.detect(series.values).flags
    # flagged inside (a drift only once it has grown: a share, not every row) and rarely outside
    assert flags[labelled].mean() > max(0.15, 5 * flags[~inside].mean()), (flags[labelled].mean(), flags[~inside].mean())
    assert flags[~inside].mean() < 0.05, flags[~inside].mean()
    if fault in SENSOR_FAULTS:  # the one signal it was learned on, as the labels say
        signal = labels.loc[labelled, "fault_signal"].iloc[0]
        assert signal in series.channels and f"{fault}:{signal}" in said(r)
