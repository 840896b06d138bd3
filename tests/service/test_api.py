"""The REST API against a real DuckDB store (TestClient runs the app in-process)."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.service.app import create_app

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def client(tmp_path):
    settings = Settings(home=tmp_path / "home", token=TOKEN, max_body_bytes=2_000_000)
    with TestClient(create_app(settings)) as c:
        yield c


def _records(asset="P-9", n=5, start=None):
    start = start or datetime.now(UTC) - timedelta(hours=1)
    return [{"asset": asset, "ts": (start + timedelta(minutes=i)).isoformat(), "values": {"a": float(i), "b": 2.0 * i}} for i in range(n)]


def test_ingest_and_read_back_wide_and_long(client):
    batch = _records()
    r = client.post("/api/ingest", json=batch, headers=AUTH)
    assert r.status_code == 200 and r.json() == {"accepted": 10, "rejected": []}
    assets = client.get("/api/assets").json()
    assert assets[0]["asset"] == "P-9" and assets[0]["signals"] == ["a", "b"]
    wide = client.get("/api/assets/P-9/readings").json()
    assert wide["signals"]["b"] == [0.0, 2.0, 4.0, 6.0, 8.0] and len(wide["timestamps"]) == 5
    long = client.get("/api/assets/P-9/readings", params={"layout": "long"}).json()
    assert len(long["readings"]) == 10 and {"ts", "asset", "signal", "value"} <= set(long["readings"][0])
    # the same batch again is stored once
    client.post("/api/ingest", json=batch, headers=AUTH)
    assert client.get("/api/health").json()["readings"] == 10


def test_time_range_filters(client):
    start = datetime(2026, 5, 1, tzinfo=UTC)
    client.post("/api/ingest", json=_records(start=start, n=10), headers=AUTH)
    part = client.get("/api/assets/P-9/readings", params={"start": "2026-05-01T00:03:00Z", "end": "2026-05-01T00:06:00Z"}).json()
    assert part["signals"]["a"] == [3.0, 4.0, 5.0]
    assert client.get("/api/assets/P-9/readings", params={"start": "yesterday-ish"}).status_code == 422
    assert client.get("/api/assets/NOPE/readings").status_code == 404


def test_writes_need_the_token(client):
    assert client.post("/api/ingest", json=_records()).status_code == 401
    assert client.post("/api/ingest", json=_records(), headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/api/health").status_code == 200  # reads are open on localhost


def test_no_token_configured_means_read_only(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path / "h", token=None))) as c:
        assert c.post("/api/ingest", json=_records(), headers=AUTH).status_code == 403


def test_bad_records_are_rejected_with_reasons_and_kept(client):
    now = datetime.now(UTC)
    body = [
        {"asset": "P-1", "signal": "a", "ts": now.isoformat(), "value": 1.5},
        {"asset": "P-1", "signal": "a", "ts": now.isoformat(), "value": "high"},
        {"asset": "P-1", "signal": "a", "ts": (now + timedelta(days=3)).isoformat(), "value": 1.0},
        {"asset": "P-1", "signal": "a", "ts": now.isoformat(), "value": 1.0, "colour": "red"},
        {"signal": "a", "ts": now.isoformat(), "value": 1.0},
    ]
    r = client.post("/api/ingest", json=body, headers=AUTH).json()
    assert r["accepted"] == 1
    reasons = {x["index"]: x["reason"] for x in r["rejected"]}
    assert "must be a number" in reasons[1] and "future" in reasons[2] and "unknown field" in reasons[3] and "asset" in reasons[4]
    dead = client.get("/api/dead-letters").json()
    assert dead["count"] == 4
    assert client.get("/api/health").json()["readings"] == 1


def test_body_size_limit(client):
    big = [{"asset": "P-1", "signal": "a", "ts": "2026-01-01T00:00:00", "value": 1.0}] * 40_000
    r = client.post("/api/ingest", json=big, headers=AUTH)
    assert r.status_code == 413


def test_file_upload_wide_and_long(client, tmp_path):
    plant = simulate_plant(PlantConfig(n_assets=2, days=0.2, seed=1))
    buf = io.BytesIO()
    plant.readings.to_csv(buf, index=False)
    r = client.post("/api/ingest/file", files={"file": ("plant.csv", buf.getvalue(), "text/csv")}, headers=AUTH)
    assert r.status_code == 200 and r.json()["accepted"] == len(plant.readings)
    assert {a["asset"] for a in client.get("/api/assets").json()} == set(plant.assets())
    bad = client.post("/api/ingest/file", files={"file": ("x.csv", b"ts,a\n2026-01-01,notanumber\n", "text/csv")}, headers=AUTH)
    assert bad.status_code == 422 and "x.csv" in bad.json()["detail"]


def _wait_job(client, job_id, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(f"/api/jobs/{job_id}").json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.2)
    raise AssertionError("job did not finish")


def test_train_then_synthesize_impute_detect_and_delete(client):
    plant = simulate_plant(PlantConfig(n_assets=1, days=1, seed=2, fault_rate=0))
    frame = plant.readings.assign(ts=plant.readings["ts"] + (pd.Timestamp.now() - pd.Timestamp("2026-01-02")))
    clock = np.sort(frame["ts"].unique())
    outage = (frame["ts"] >= clock[500]) & (frame["ts"] < clock[530])  # 30 readings of every signal lost
    frame = frame[~outage]
    buf = io.BytesIO()
    frame.to_csv(buf, index=False)
    client.post("/api/ingest/file", files={"file": ("p.csv", buf.getvalue(), "text/csv")}, headers=AUTH)
    asset = plant.assets()[0]
    r = client.post("/api/models/train", json={"model": "m1", "asset": asset, "window": 12}, headers=AUTH)
    assert r.status_code == 202
    job = _wait_job(client, r.json()["id"])
    assert job["status"] == "done", job["message"]
    models = client.get("/api/models").json()
    assert models[0]["name"] == "m1" and models[0]["detector"] and models[0]["asset"] == asset
    syn = client.post("/api/models/m1/synthesize", json={"n": 3}, headers=AUTH).json()
    assert np.asarray(syn["windows"]).shape == (3, 12, 8)
    imp = client.post("/api/models/m1/impute", json={"asset": asset}, headers=AUTH).json()
    sig = next(iter(imp["signals"].values()))
    assert all(v is not None for v in sig["value"])
    # the outage's readings come back added and filled, on the stored clock
    assert (imp["added_steps"], imp["outages"], imp["outages_left"]) == (30, 1, 0)
    assert sum(imp["added"]) == 30 and len(imp["timestamps"]) == len(clock) and all(sig["filled"][500:530])
    steps = np.diff(pd.to_datetime(imp["timestamps"]).asi8)
    assert steps.min() == steps.max()
    det = client.post("/api/models/m1/detect", json={"asset": asset}, headers=AUTH).json()
    assert len(det["scores"]) == len(det["timestamps"]) == len(det["thresholds"]) and isinstance(det["threshold"], float)
    assert client.get("/api/health").json()["live"][asset]["model"] == "m1"
    assert client.post("/api/models/train", json={"model": "../evil", "asset": asset}, headers=AUTH).status_code == 422
    assert client.post("/api/models/train", json={"model": "m2", "asset": "nope"}, headers=AUTH).status_code == 422
    assert client.delete("/api/models/m1", headers=AUTH).json() == {"deleted": "m1"}
    assert client.delete("/api/models/m1", headers=AUTH).status_code == 404


def test_dashboard_page_and_local_plotly(client):
    page = client.get("/")
    assert page.status_code == 200 and "/static/plotly.min.js" in page.text and "cdn" not in page.text.lower()
    assert client.get("/static/plotly.min.js").text.startswith("/**")
    assert "Plotly.react" in client.get("/static/dashboard.js").text
    spec = client.get("/openapi.json").json()
    assert "/api/ingest" in spec["paths"] and "/api/models/train" in spec["paths"]


def test_live_scoring_fills_gaps_as_they_arrive(client):
    plant = simulate_plant(PlantConfig(n_assets=1, days=0.5, seed=4, fault_rate=0, drop_rate=0, outage_rate=0))
    shift = pd.Timestamp.now() - pd.Timedelta(hours=1) - plant.readings["ts"].max()
    frame = plant.readings.assign(ts=plant.readings["ts"] + shift)
    buf = io.BytesIO()
    frame.to_csv(buf, index=False)
    client.post("/api/ingest/file", files={"file": ("p.csv", buf.getvalue(), "text/csv")}, headers=AUTH)
    asset = plant.assets()[0]
    job = client.post("/api/models/train", json={"model": "live", "asset": asset, "window": 8}, headers=AUTH).json()
    assert _wait_job(client, job["id"])["status"] == "done"
    last = client.get(f"/api/assets/{asset}/readings", params={"last": 1}).json()
    t0 = datetime.fromisoformat(last["timestamps"][-1])
    base = {k: v[-1] for k, v in last["signals"].items()}
    records = []
    for i in range(1, 6):
        values = dict(base)
        if i == 3:
            values.pop("flow_m3h")  # a dropped reading: the row arrives without it
        records.append({"asset": asset, "ts": (t0 + timedelta(minutes=i)).isoformat(), "values": values})
    assert client.post("/api/ingest", json=records, headers=AUTH).json()["accepted"] == 39
    deadline = time.time() + 10
    fills = []
    while time.time() < deadline and not fills:
        fills = client.get(f"/api/assets/{asset}/live").json()["fills"]
        time.sleep(0.1)
    assert fills and fills[0]["signal"] == "flow_m3h"
    fill = fills[0]
    assert fill["lower"] <= fill["value"] <= fill["upper"]
    assert abs(fill["value"] - base["flow_m3h"]) < 0.2 * abs(base["flow_m3h"])
    live = client.get("/api/health").json()["live"][asset]
    assert live["scored"] >= 4
    assert live["fills"]["flow_m3h"] in ("model", "last value") and "flow_m3h" in live["fills_reason"]
