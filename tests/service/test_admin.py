"""Admin endpoints against a real store: delete an asset's readings, run retention, take an
online backup; and the retention worker's thread, schedule and containment."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from waiting import wait_until

from geniot.core.settings import Settings
from geniot.data import SensorStore
from geniot.data.store import MANIFEST
from geniot.service.app import create_app
from geniot.service.retention import RetentionWorker

TOKEN = "adm1n-t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@pytest.fixture()
def client(tmp_path):
    settings = Settings(home=tmp_path / "home", token=TOKEN, retention_raw_days=7, downsample_interval="1h",
                        dead_letter_max_rows=2)  # fmt: skip
    with TestClient(create_app(settings)) as c:
        yield c


def _ingest(client, asset="P-1", n=60, start=None):
    start = start or datetime.now(UTC).replace(microsecond=0) - timedelta(hours=2)
    body = [{"asset": asset, "ts": (start + timedelta(minutes=i)).isoformat(), "values": {"a": float(i), "b": 1.0}}
            for i in range(n)]  # fmt: skip
    assert client.post("/api/ingest", json=body, headers=AUTH).json()["accepted"] == 2 * n
    client.app.state.service.writer.flush()
    return start


def _store(client) -> SensorStore:
    return client.app.state.service.store


def test_delete_readings_of_a_time_range(client):
    start = _ingest(client)
    _ingest(client, asset="P-2", n=5)
    lo, hi = (start + timedelta(minutes=10)).isoformat(), (start + timedelta(minutes=30)).isoformat()
    r = client.delete("/api/assets/P-1/readings", params={"start": lo, "end": hi}, headers=AUTH)
    assert r.status_code == 200, r.text
    assert r.json()["deleted"]["readings"] == 2 * 20
    left = client.get("/api/assets/P-1/readings").json()["signals"]["a"]
    assert left == [float(i) for i in range(60) if not 10 <= i < 30]
    row = _store(client).audit_log(5).iloc[0]
    assert row["action"] == "DELETE /api/assets/{asset}/readings" and row["target"] == "P-1" and "readings 40" in row["detail"]
    assert client.delete("/api/assets/P-1/readings", headers=AUTH).json()["deleted"]["readings"] == 2 * 40
    assert [a["asset"] for a in client.get("/api/assets").json()] == ["P-2"]


def test_delete_needs_admin_a_valid_name_and_a_known_asset(client):
    _ingest(client, n=5)
    assert client.delete("/api/assets/P-1/readings").status_code == 401
    assert client.delete("/api/assets/%2E%2E/readings", headers=AUTH).status_code in (404, 422)
    assert client.delete("/api/assets/bad%0Aname/readings", headers=AUTH).status_code == 422
    assert client.delete("/api/assets/NOPE/readings", headers=AUTH).status_code == 404
    r = client.delete("/api/assets/P-1/readings", params={"start": "2026-01-02", "end": "2026-01-01"}, headers=AUTH)
    assert r.status_code == 422 and "not before" in r.text
    assert client.delete("/api/assets/P-1/readings", params={"start": "soon"}, headers=AUTH).status_code == 422
    assert _store(client).count() == 10


def test_retention_now_downsamples_old_readings_and_prunes_dead_letters(client):
    store = _store(client)
    old = pd.date_range(datetime.now(UTC).replace(tzinfo=None) - timedelta(days=20), periods=600, freq="1min")
    store.append(pd.DataFrame({"ts": old, "asset": "P-1", "signal": "a", "value": 1.0}))
    _ingest(client, n=10)  # recent: stays raw
    now = datetime.now(UTC).replace(tzinfo=None)
    store.add_dead_letters([(now - timedelta(minutes=m), "http", "t", "bad", "{}") for m in range(5)])
    assert client.post("/api/admin/retention").status_code == 401
    r = client.post("/api/admin/retention", headers=AUTH)
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["ok"] and report["downsample"]["readings_folded"] == 600 and report["dead_letters"]["deleted"] == 3
    assert store.count() == 20 and store.count_aggregated() == 600 and store.count_dead_letters() == 2
    assert client.post("/api/admin/retention", headers=AUTH).json()["downsample"]["readings_folded"] == 0
    status = client.get("/api/admin/retention").json()
    assert status["runs"] == 2 and status["last_run"]["ok"] and status["alive"] and status["state"] == "idle"


def test_backup_while_the_service_runs_and_restore(client, tmp_path):
    _ingest(client, n=30)
    r = client.post("/api/admin/backup", headers=AUTH)
    assert r.status_code == 200, r.text
    body = r.json()
    folder = Path(body["path"])
    home = client.app.state.service.settings.home.resolve()
    assert folder.parent == home / "backups" and (folder / MANIFEST).is_file()
    assert body["tables"]["readings"]["rows"] == 60 and json.loads((folder / MANIFEST).read_text())["tables"] == body["tables"]
    with SensorStore(tmp_path / "copy.duckdb") as copy:
        copy.restore(folder)
        pd.testing.assert_frame_equal(copy.read_long(), _store(client).read_long())
    assert client.post("/api/admin/backup").status_code == 401


# ------------------------------------------------------------------------------- the worker
def test_the_worker_runs_on_its_schedule_and_stops(tmp_path):
    settings = Settings(home=tmp_path, retention_raw_days=1, retention_every_s=0.05)
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.append(pd.DataFrame({"ts": pd.date_range("2024-01-01", periods=50, freq="1min"), "asset": "A",
                                   "signal": "x", "value": 2.0}))  # fmt: skip
        worker = RetentionWorker(store, settings, first_run_after_s=0)
        worker.start()
        assert wait_until(lambda: worker.runs >= 3)
        worker.stop()
        status = worker.status()
        assert status["state"] == "stopped" and not status["alive"] and status["failed_runs"] == 0
        assert store.count() == 0 and store.count_aggregated() == 50


def test_a_failing_part_is_reported_and_stops_nothing(tmp_path):
    settings = Settings(home=tmp_path, retention_raw_days=1, downsample_interval="fortnightly",
                        dead_letter_max_rows=1, retention_every_s=0.05)  # fmt: skip
    with SensorStore(tmp_path / "s.duckdb") as store:
        store.add_dead_letters([(datetime.now(UTC).replace(tzinfo=None), "mqtt", "t", "bad", "{")] * 3)
        worker = RetentionWorker(store, settings, first_run_after_s=0)
        worker.start()
        assert wait_until(lambda: worker.runs >= 2)
        status = worker.status()
        worker.stop()
        assert status["alive"] and status["failed_runs"] >= 2 and "fortnightly" in status["last_error"]
        assert status["last_run"]["dead_letters"]["deleted"] in (0, 2) and store.count_dead_letters() == 1
        assert not status["last_run"]["ok"] and status["last_run"]["downsample"] is None
