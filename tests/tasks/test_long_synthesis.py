"""Long synthesis by continuation (Gaussian baseline: exact conditioning, no torch) on simulated
pumps: length, clock, timestamps, the training layout, no seams where stretches join (against
concatenated independent windows), and faults placed where asked with labels beside them."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.core.exceptions import CapabilityError, DataError
from geniot.data.io import read_table, series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.metrics.long_series import concatenate_windows, seam_statistic
from geniot.models.gaussian import GaussianBaseline
from geniot.models.loading import load_generator
from geniot.tasks import AnomalyDetector
from geniot.tasks.long_synthesis import check_can_continue, continue_series, fault_episodes
from geniot.workflows.datasets import windows_from_file
from geniot.workflows.synthesis import (
    FaultRequest,
    model_profiles,
    parse_duration,
    profiles_from_files,
    synthesize,
)
from geniot.workflows.training import train_and_save

WINDOW = 12
INTERVAL = 300


@pytest.fixture(scope="module")
def plant_files(tmp_path_factory):
    root = tmp_path_factory.mktemp("plant")
    kw = dict(n_assets=1, days=6, seed=4, interval_s=INTERVAL, drop_rate=0, outage_rate=0, degrading_fraction=0)
    faulty = simulate_plant(PlantConfig(fault_rate=12, faults=("cavitation",), **kw))
    data, labels = root / "plant.csv", root / "labels.csv"
    faulty.write(data, layout="long")
    faulty.labels.to_csv(labels, index=False)
    # The real normal data: the stretches between the labelled faults.
    values = series_from_frame(faulty.wide("P-1")).values
    normal, prev = [], 0
    for _, lo, hi in fault_episodes(faulty.labels["fault"].reset_index(drop=True)):
        if lo - prev > 40:
            normal.append(values[prev:lo])
        prev = hi
    normal.append(values[prev:])
    return data, labels, normal, faulty


@pytest.fixture(scope="module")
def model(plant_files, tmp_path_factory):
    data, labels = plant_files[0], plant_files[1]
    windows = windows_from_file(data, WINDOW, labels=labels)  # fault rows out, faults learned
    out = tmp_path_factory.mktemp("model") / "m"
    train_and_save(windows, GaussianBaseline(), out, window=WINDOW)
    return load_generator(out)


def test_training_record_has_clock_and_layout(model):
    meta = model.metadata_
    assert meta["timing"]["interval_s"] == INTERVAL
    assert meta["timing"]["start"] == {"P-1": "2026-01-01T00:00:00.000000000"}
    assert meta["layout"]["layout"] == "long"
    assert meta["layout"]["columns"][:3] == ["ts", "asset", "signal"]


def test_series_has_length_clock_and_training_layout(model, tmp_path):
    out = tmp_path / "synth.csv"
    res = synthesize(model, duration_s=parse_duration("2d"), start=pd.Timestamp("2026-03-01"), assets=["S-1"], seed=3)
    assert len(res.timestamps) == 2 * 86400 // INTERVAL
    steps = np.diff(res.timestamps).astype("timedelta64[s]").astype(int)
    assert (steps == INTERVAL).all()
    assert pd.Timestamp(res.timestamps[0]) == pd.Timestamp("2026-03-01")
    frame = res.frame(model.metadata_["layout"])
    assert list(frame.columns) == ["ts", "asset", "signal", "value", "quality"]
    frame.to_csv(out, index=False)
    back = read_table(out)
    assert list(back) == ["S-1"]
    assert back["S-1"].channels == tuple(model.metadata_["channels"])
    np.testing.assert_allclose(back["S-1"].values, res.values["S-1"])


def test_no_seams_where_stretches_join(model, plant_files):
    real = read_table(plant_files[0])["P-1"].select(model.metadata_["channels"]).values
    series, seams = continue_series(model, 1000, random_state=0)
    ours = seam_statistic(real, series[0], seams)
    concat, concat_seams = concatenate_windows(model.sample(1000 // WINDOW + 1, random_state=1), 1000)
    theirs = seam_statistic(real, concat, concat_seams)
    # Joins look like ordinary steps of the same series; independent windows jump.
    assert abs(ours["seam_step_ratio"] / ours["inside_step_ratio"] - 1) < 0.15
    assert theirs["seam_step_ratio"] > 2 * ours["seam_step_ratio"]
    assert ours["n_seams"] == len(range(WINDOW, 1000, WINDOW - WINDOW // 2))


def test_held_signal_stays_at_its_value(model):
    channels = model.metadata_["channels"]
    j = channels.index("speed_rpm")
    fixed = np.full((300, len(channels)), np.nan)
    fixed[:, j] = 1100.0
    series, _ = continue_series(model, 300, fixed=fixed, random_state=0)
    assert (series[0, :, j] == 1100.0).all()
    assert not np.isnan(series).any()


def test_fault_placed_where_asked_and_flagged(model, plant_files, tmp_path):
    data, labels, normal, _ = plant_files
    channels = model.metadata_["channels"]
    profiles = model_profiles(model)  # learned at fit time from the labels
    assert "cavitation" in profiles and profiles["cavitation"].n_episodes >= 3
    again = profiles_from_files(data, labels, channels)["cavitation"]  # or at synthesis time
    np.testing.assert_allclose(again.mean, profiles["cavitation"].mean)
    start = pd.Timestamp("2026-03-02T06:00")
    req = FaultRequest.parse("cavitation@2026-03-02T06:00/3h")
    kw = dict(duration_s=2 * 86400, start=pd.Timestamp("2026-03-01"), assets=["S-1"], seed=7, profiles=profiles)
    with_fault = synthesize(model, faults=[req], **kw)
    without = synthesize(model, **kw)
    lab = with_fault.labels
    inside = (lab["ts"] >= start) & (lab["ts"] < start + pd.Timedelta(hours=3))
    assert (lab.loc[inside, "fault"] == "cavitation").all() and (lab.loc[~inside, "fault"] == "normal").all()
    assert lab["anomaly"].sum() == 3 * 3600 // INTERVAL
    x, y = with_fault.values["S-1"], without.values["S-1"]
    np.testing.assert_array_equal(x[~inside.to_numpy()], y[~inside.to_numpy()])  # same seed, fault only inside
    flow = channels.index("flow_m3h")
    assert x[inside.to_numpy(), flow].mean() < y[inside.to_numpy(), flow].mean()  # cavitation breaks the flow
    # A detector trained on real normal data flags the synthetic fault and little else.
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal)
    flags = detector.detect(x).flags
    assert flags[inside.to_numpy()].mean() > 0.5
    assert flags[~inside.to_numpy()].mean() < 0.1


def test_cli_writes_series_and_labels(plant_files, tmp_path):
    data, labels, _, _ = plant_files
    runner = CliRunner()
    m = tmp_path / "m"
    r = runner.invoke(
        app, ["fit", str(data), "--model", "gaussian", "--window", str(WINDOW), "--out", str(m), "--labels", str(labels)]
    )
    assert r.exit_code == 0, r.output
    assert "learned faults" in r.output
    out, lab = tmp_path / "synth.csv", tmp_path / "synth_labels.csv"
    r = runner.invoke(
        app,
        ["synthesize", str(m), "--duration", "1d", "--out", str(out), "--start", "2026-02-01T00:00",
         "--fault", "cavitation@2026-02-01T10:00/2h", "--labels", str(lab)],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    table = read_table(out)
    assert table["P-1"].n_steps == 86400 // INTERVAL  # the training asset's name
    written = pd.read_csv(lab)
    assert written["anomaly"].sum() == 2 * 3600 // INTERVAL
    assert written.loc[written["anomaly"] == 1, "ts"].iloc[0] == "2026-02-01 10:00:00"
    # `geniot evaluate` sees a long series (no window/step columns) and prints the long metrics.
    html = tmp_path / "long.html"
    r = runner.invoke(app, ["evaluate", str(data), str(out), "--model", str(m), "--out", str(html)])
    assert r.exit_code == 0, r.output
    assert "Seam statistic" in r.output and "block bootstrap" in r.output
    assert "Long-series metrics" in html.read_text()


def test_evaluate_counts_lags_on_the_clock_across_an_outage(plant_files, tmp_path):
    import json

    data = plant_files[0]
    frame = pd.read_csv(data)
    stamps = np.sort(frame["ts"].unique())
    real = tmp_path / "real.csv"
    frame[~frame["ts"].isin(stamps[400:424])].to_csv(real, index=False)  # two hours with no rows
    runner = CliRunner()
    m, out = tmp_path / "m", tmp_path / "synth.csv"
    assert runner.invoke(app, ["fit", str(data), "--model", "gaussian", "--window", str(WINDOW), "--out", str(m)]).exit_code == 0
    assert runner.invoke(app, ["synthesize", str(m), "--duration", "3d", "--out", str(out)]).exit_code == 0
    r = runner.invoke(app, ["evaluate", str(real), str(out), "--window", str(WINDOW), "--json"])
    assert r.exit_code == 0, r.output
    assert "24 timestamps missing from its clock read as gaps (1 stretch(es))" in " ".join(r.stderr.split())
    metrics = json.loads(r.stdout)
    assert (metrics["long_real_missing_steps"], metrics["long_synthetic_missing_steps"]) == (24, 0)


def test_cannot_continue_without_imputation_and_bad_requests_are_named(model):
    from geniot.models.gan import WGANGenerator

    with pytest.raises(CapabilityError, match="cannot impute"):
        check_can_continue(WGANGenerator())
    with pytest.raises(DataError, match="context"):
        continue_series(model, 100, context=WINDOW)
    with pytest.raises(DataError, match="not a duration"):
        parse_duration("thirty days")
    with pytest.raises(DataError, match="TYPE@TIME/DURATION"):
        FaultRequest.parse("cavitation at noon")
    with pytest.raises(DataError, match="no fault was learned"):
        synthesize(model, duration_s=86400, faults=[FaultRequest.parse("cavitation@2026-01-01T00:00/1h")])


def test_output_keeps_a_european_export_layout(tmp_path):
    """Semicolons, decimal commas, dd.mm.yyyy times and units in the headers come out as they went in."""
    rng = np.random.default_rng(0)
    times = pd.date_range("2026-01-05", periods=300, freq="10min")
    temp = 20 + np.cumsum(rng.normal(0, 0.1, 300))
    press = 3 + 0.1 * np.sin(np.arange(300) / 20) + rng.normal(0, 0.01, 300)
    rows = [f"{t:%d.%m.%Y %H:%M};{a:.4f};{b:.4f}".replace(".", ",") for t, a, b in zip(times, temp, press, strict=True)]
    rows = [_dates_back(r) for r in rows]  # 4 decimals: "20,013" could also read as 20013
    src = tmp_path / "export.csv"
    src.write_text("Zeit;Temp [°C];Druck (bar)\n" + "\n".join(rows) + "\n", encoding="utf-8")
    runner = CliRunner()
    m, out = tmp_path / "m", tmp_path / "synth.csv"
    assert runner.invoke(app, ["fit", str(src), "--model", "gaussian", "--window", "12", "--out", str(m)]).exit_code == 0
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(out)])
    assert r.exit_code == 0, r.output
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "Zeit;Temp [°C];Druck (bar)"
    assert len(lines) == 1 + 144
    first = lines[1].split(";")
    assert first[0] == (times[-1] + pd.Timedelta(minutes=10)).strftime("%d.%m.%Y %H:%M")  # continues the clock
    assert "," in first[1] and "." not in first[1]


def _dates_back(row: str) -> str:
    """Undo the comma put into the date by the blanket replace (dd,mm,yyyy -> dd.mm.yyyy)."""
    date, rest = row.split(" ", 1)
    return date.replace(",", ".") + " " + rest
