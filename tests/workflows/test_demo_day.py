"""The demo's synthetic day of the fleet (geniot synthesize on the demo's model) beside the real
fleet's last day: in the report and, as JSON, on the dashboard's API."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.models.gaussian import GaussianBaseline
from geniot.service.app import create_app
from geniot.workflows.datasets import pool_windows
from geniot.workflows.demo import DAY_FILE, fleet_day
from geniot.workflows.training import train_and_save


@pytest.fixture(scope="module")
def fleet(tmp_path_factory):
    root = tmp_path_factory.mktemp("demo")
    plant = simulate_plant(PlantConfig(n_assets=2, days=1.5, seed=2, interval_s=120))
    with SensorStore(root / "plant.duckdb") as store:
        store.append(plant.readings)
        series = {a: store.read_wide(a) for a in store.assets()}
    model = GaussianBaseline()
    train_and_save(pool_windows(series, 16, 2, source="plant"), model, root / "m", window=16, stride=2, holdout=0.2)
    return series, model


def test_a_synthetic_day_follows_the_real_one(fleet):
    series, model = fleet
    day = fleet_day(model, series, seed=1)
    n = 86400 // 120
    assert list(day.result.values) == ["S-1", "S-2"] and all(v.shape == (n, 8) for v in day.result.values.values())
    last = pd.Timestamp(series["P-1"].timestamps[-1])
    assert pd.Timestamp(day.result.timestamps[0]) == last + pd.Timedelta(seconds=120)  # the calendar goes on
    assert day.real_span[1] == str(last)[:19] and pd.Timestamp(day.real_span[0]) == last - pd.Timedelta(seconds=120 * (n - 1))
    # the synthetic pumps run where the real ones do (each channel's median inside the real 5-95% band)
    channels = list(model.channel_names_)
    real = np.concatenate([s.select(channels).values for s in series.values()])
    lo, hi = np.nanpercentile(real, 5, axis=0), np.nanpercentile(real, 95, axis=0)
    med = np.median(np.concatenate(list(day.result.values.values())), axis=0)
    assert ((med > lo) & (med < hi)).all(), (channels, med, lo, hi)
    # the report section names both spans and holds the figure
    assert day.real_span[0] in day.section and day.synth_span[0] in day.section and "plotly" in day.section.lower()
    payload = day.payload
    assert payload["channels"] == channels and set(payload["synthetic"]["assets"]) == {"S-1", "S-2"}
    assert len(payload["real"]["assets"]["P-1"]["flow_m3h"]) <= 288


def test_dashboard_serves_the_day_and_says_when_there_is_none(fleet, tmp_path):
    series, model = fleet
    home = tmp_path / "home"
    with TestClient(create_app(Settings(home=home, token="t"))) as client:
        missing = client.get("/api/synthetic-day")
        assert missing.status_code == 404 and "geniot demo" in missing.json()["detail"]
        payload = fleet_day(model, series, seed=1).payload
        (home / DAY_FILE).write_text(json.dumps(payload), encoding="utf-8")
        got = client.get("/api/synthetic-day")
        assert got.status_code == 200 and got.json() == json.loads(json.dumps(payload))
        page = client.get("/").text
        assert 'id="synthetic-day"' in page
