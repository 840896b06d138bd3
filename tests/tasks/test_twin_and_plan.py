"""Forecast, what-if and the maintenance plan on simulator data."""

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.core.exceptions import CapabilityError, DataError
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.windows import make_windows
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.plan import plan_maintenance
from geniot.tasks.twin import Forecaster, WhatIf


@pytest.fixture(scope="module")
def pump():
    plant = simulate_plant(PlantConfig(n_assets=1, days=3, seed=2, fault_rate=0, degrading_fraction=0, drop_rate=0, outage_rate=0))
    return series_from_frame(plant.wide(plant.assets()[0]))


def test_whatif_follows_the_pump_physics(pump):
    twin = WhatIf(generator=GaussianBaseline(), window=24).fit(pump, control="speed_rpm")
    slow, fast = twin.simulate(1150), twin.simulate(1350)
    names = list(pump.channels)
    for signal in ("flow_m3h", "pressure_bar", "motor_current_a"):  # affinity laws: all rise with speed
        j = names.index(signal)
        assert fast["median"][:, j].mean() > slow["median"][:, j].mean() * 1.05, signal
    j = names.index("speed_rpm")
    assert abs(fast["median"][:, j].mean() - 1350) < 30
    assert (fast["lower"] <= fast["upper"]).all()
    with pytest.raises(DataError, match="outside what the model saw"):
        twin.simulate(5000)
    with pytest.raises(DataError, match="not a channel"):
        WhatIf(generator=GaussianBaseline()).fit(pump, control="rpm")


def test_forecast_has_bands_and_beats_holding_the_last_value(pump):
    values = pump.values
    gen = GaussianBaseline().fit(make_windows(values[:3000], 48, 2))
    errors, naive = [], []
    for end in range(3200, 4200, 100):
        res = Forecaster(generator=gen, horizon=12, n_draws=30).forecast(values[:end])
        truth = values[end : end + 12]
        assert res["median"].shape == (12, values.shape[1])
        assert (res["lower"] <= res["median"] + 1e-9).all() and (res["median"] <= res["upper"] + 1e-9).all()
        scale = values[:3000].std(axis=0)
        errors.append(np.abs((res["median"] - truth) / scale).mean())
        naive.append(np.abs((values[end - 1] - truth) / scale).mean())
    assert np.mean(errors) < np.mean(naive) * 1.2  # at least as good as persistence, within noise
    with pytest.raises(DataError, match="horizon"):
        Forecaster(generator=gen, horizon=48).forecast(values)
    with pytest.raises(DataError, match="needs the last"):
        Forecaster(generator=gen, horizon=12).forecast(values[:10])


def test_forecast_needs_imputation():
    pytest.importorskip("torch")
    from geniot.models.gan import WGANGenerator

    gan = WGANGenerator(epochs=1).fit(np.random.default_rng(0).normal(size=(32, 8, 2)))
    with pytest.raises(CapabilityError):
        Forecaster(generator=gan, horizon=2).fit()


def test_plan_respects_crew_capacity_and_beats_run_to_failure():
    rng = np.random.default_rng(0)
    med = rng.uniform(3, 30, 40)
    fleet = pd.DataFrame({"unit": np.arange(40), "rul": med, "lower": med * 0.6, "upper": med * 1.5})
    plan, summary = plan_maintenance(fleet, planned=1.0, unplanned=8.0, crew_per_day=2, horizon_days=45)
    assert plan["day"].value_counts().max() <= 2 and summary["max_jobs_per_day"] <= 2
    assert summary["expected_cost_plan"] < summary["expected_cost_run_to_failure"]
    urgent = plan.set_index("unit").loc[fleet["unit"][fleet["rul"] < 6], "day"]
    assert (urgent <= 6).all()
    with pytest.raises(DataError, match="appears twice"):
        plan_maintenance(pd.concat([fleet, fleet.head(1)]), planned=1, unplanned=5, crew_per_day=1)
    with pytest.raises(DataError, match="planned"):
        plan_maintenance(fleet, planned=5, unplanned=1, crew_per_day=1)
    with pytest.raises(DataError, match="crew"):
        plan_maintenance(fleet, planned=1, unplanned=5, crew_per_day=0)


def test_cli_forecast_whatif_plan_with_reports(tmp_path, pump):
    runner = CliRunner()
    data = tmp_path / "pump.csv"
    pump.to_dataframe().to_csv(data, index=False)
    run = lambda *a: runner.invoke(app, [str(x) for x in a])  # noqa: E731
    assert run("fit", data, "--model", "gaussian", "--window", "24", "--stride", "4", "--out", tmp_path / "g").exit_code == 0
    r = run("forecast", tmp_path / "g", data, "--horizon", "6", "--out", tmp_path / "f.csv", "--report", tmp_path / "f.html")
    assert r.exit_code == 0, r.output
    f = pd.read_csv(tmp_path / "f.csv")
    assert len(f) == 6 and {"timestamp", "flow_m3h", "flow_m3h_lower", "flow_m3h_upper"} <= set(f.columns)
    r = run("whatif", data, "--control", "speed_rpm", "--set", "1200", "--set", "1300", "--out", tmp_path / "w.csv", "--report", tmp_path / "w.html")
    assert r.exit_code == 0, r.output
    assert set(pd.read_csv(tmp_path / "w.csv")["scenario"]) == {"speed_rpm=1200", "speed_rpm=1300"}
    pd.DataFrame({"unit": [1, 2, 3], "rul": [5.0, 20.0, 40.0], "lower": [3.0, 12, 30], "upper": [8.0, 30, 55]}).to_csv(tmp_path / "fleet.csv", index=False)
    r = run("plan", tmp_path / "fleet.csv", "--planned", "1", "--unplanned", "10", "--crew", "1", "--out", tmp_path / "p.csv", "--report", tmp_path / "p.html")
    assert r.exit_code == 0, r.output
    for html in ("f.html", "w.html", "p.html"):
        assert "plotly" in (tmp_path / html).read_text().lower()
