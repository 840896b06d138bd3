"""`POST /api/ask` over the service's own store."""

from __future__ import annotations

from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.service.app import create_app
from geniot.workflows.history import scan_history

TOKEN = "t0ken"


def test_ask_endpoint(tmp_path):
    settings = Settings(home=tmp_path / "home", token=TOKEN)
    settings.home.mkdir()
    plant = simulate_plant(PlantConfig(n_assets=2, days=1.5, seed=1, start="2026-01-05T00:00:00", fault_rate=3.0))
    with SensorStore(settings.store_path) as store:
        store.append(plant.readings)
        scan_history(store, settings.models_dir)
    with TestClient(create_app(settings)) as client:
        r = client.post("/api/ask", json={"question": "What was the average flow of P-1 yesterday?"})
        assert r.status_code == 200, r.text
        body = r.json()
        rows = plant.readings[(plant.readings.asset == "P-1") & (plant.readings.signal == "flow_m3h")]
        want = rows[(rows.ts >= "2026-01-05") & (rows.ts < "2026-01-06")]["value"].mean()
        assert body["tool"] == "signal_statistic" and abs(body["values"]["values"]["P-1"] - want) < 1e-9
        assert body["figure"]["data"]
        assert client.post("/api/ask", json={"question": "which assets had anomalies yesterday?"}).json()["tool"] == "list_anomalies"
        refused = client.post("/api/ask", json={"question": "Wie wird das Wetter morgen?"}).json()
        assert refused["refused"] and refused["language"] == "de" and refused["suggestions"]
        # questions whose tool writes files need the token, like every other write
        assert client.post("/api/ask", json={"question": "Generate 5 synthetic windows for P-1"}).status_code in (401, 403)
        ok = client.post("/api/ask", json={"question": "Generate 5 synthetic windows for P-1"}, headers={"Authorization": f"Bearer {TOKEN}"})
        assert ok.status_code == 200 and ok.json()["values"]["assets"]["P-1"]["windows"] == 5
        assert client.post("/api/ask", json={"question": ""}).status_code == 422
        assert client.post("/api/ask", json={"question": "x" * 501}).status_code == 422
