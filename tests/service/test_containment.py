"""Containment at the service level: no reading, payload, file or stored row stops ingest or
scoring; health says what is really running (real app, real DuckDB store, real detector)."""

from __future__ import annotations

import gzip
import io
import shutil
import threading
import time
from datetime import datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.service.app import create_app

TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


class Fatal(BaseException):
    """What ``except Exception`` does not catch: the writer thread really dies."""


@pytest.fixture(scope="module")
def trained_home(tmp_path_factory):
    """A home with 6 h of one asset's readings and a live Gaussian detector (window 8)."""
    home = tmp_path_factory.mktemp("containment") / "home"
    plant = simulate_plant(PlantConfig(n_assets=1, days=0.25, seed=4, fault_rate=0, drop_rate=0, outage_rate=0))
    shift = pd.Timestamp.now() - pd.Timedelta(hours=1) - plant.readings["ts"].max()
    buf = io.BytesIO()
    plant.readings.assign(ts=plant.readings["ts"] + shift).to_csv(buf, index=False)
    asset = plant.assets()[0]
    with TestClient(create_app(Settings(home=home, token=TOKEN))) as c:
        assert c.post("/api/ingest/file", files={"file": ("p.csv", buf.getvalue(), "text/csv")}, headers=AUTH).status_code == 200
        job = c.post("/api/models/train", json={"model": "m", "asset": asset, "window": 8}, headers=AUTH).json()
        deadline = time.time() + 60
        while c.get(f"/api/jobs/{job['id']}").json()["status"] not in ("done", "failed") and time.time() < deadline:
            time.sleep(0.1)
        assert c.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
        last = c.get(f"/api/assets/{asset}/readings", params={"last": 1}).json()
    base = {k: v[-1] for k, v in last["signals"].items()}
    return home, asset, datetime.fromisoformat(last["timestamps"][-1]), base


@pytest.fixture()
def home(trained_home, tmp_path):
    src, asset, t0, base = trained_home
    dst = tmp_path / "home"
    shutil.copytree(src, dst)
    return dst, asset, t0, base


def _client(home, **settings) -> TestClient:
    return TestClient(create_app(Settings(home=home, token=TOKEN, **settings)), raise_server_exceptions=False)


def _post(c, asset, ts, values):
    return c.post("/api/ingest", json=[{"asset": asset, "ts": ts.isoformat(), "values": values}], headers=AUTH)


def test_extreme_values_are_rejected_at_the_door_by_default(home):
    path, asset, t0, base = home
    with _client(path) as c:
        r = _post(c, asset, t0 + timedelta(minutes=1), {k: 1e308 for k in base})
        assert r.status_code == 200
        body = r.json()
        assert body["accepted"] == 0 and "physical range" in body["rejected"][0]["reason"]
        assert _post(c, asset, t0 + timedelta(minutes=2), base).json()["accepted"] == len(base)
        health = c.get("/api/health").json()
        assert health["status"] == "ok" and health["ingest"]["reasons"] == {"out-of-range": 1}
        assert health["components"]["scoring"] == {"active": [asset], "paused": {}}
        assert c.get("/api/dead-letters").json()["count"] == 1


def test_extreme_values_let_through_are_scored_as_anomalous_and_survive_a_restart(home):
    """With the door opened wide (max_abs_value=1e308), the detector scores the reading as
    infinitely anomalous instead of raising; the poisoned rows stay in the store, and after a
    restart the next normal reading is scored and stored as well."""
    path, asset, t0, base = home
    with _client(path, max_abs_value=1e308) as c:
        assert _post(c, asset, t0 + timedelta(minutes=1), {k: 1e308 for k in base}).json()["accepted"] == len(base)
        for i in range(2, 4):
            assert _post(c, asset, t0 + timedelta(minutes=i), base).json()["accepted"] == len(base)
        health = c.get("/api/health").json()
        assert health["status"] == "ok", health["problems"]
        assert health["live"][asset]["scored"] == 3 and health["live"][asset]["open_event"]
        events = c.get("/api/events").json()
        assert any(e["start_ts"] == (t0 + timedelta(minutes=1)).isoformat() for e in events)
    with _client(path, max_abs_value=1e308) as c:  # restart with the poisoned rows in the store
        for i in range(4, 6):
            assert _post(c, asset, t0 + timedelta(minutes=i), base).json()["accepted"] == len(base)
        health = c.get("/api/health").json()
        assert health["status"] == "ok" and health["components"]["writer"]["alive"]
        assert health["live"][asset]["scored"] == 2
        assert c.get(f"/api/assets/{asset}/readings", params={"last": 1}).json()["timestamps"][-1] == (t0 + timedelta(minutes=5)).isoformat()


def test_a_scoring_failure_pauses_that_asset_only_and_ingest_goes_on(home):
    path, asset, t0, base = home
    with _client(path) as c:
        service = c.app.state.service
        detector = service.live.detector(asset)

        def explode(windows):  # an injected fault: a detector whose scoring raises
            raise RuntimeError("scoring exploded")

        detector.window_scores = explode
        service.live.activate(asset, detector, "m")
        assert _post(c, asset, t0 + timedelta(minutes=1), base).json()["accepted"] == len(base)
        assert _post(c, "P-other", t0 + timedelta(minutes=1), {"x": 1.0}).json()["accepted"] == 1
        health = c.get("/api/health").json()
        assert health["status"] == "degraded"
        assert "scoring exploded" in health["components"]["scoring"]["paused"][asset]
        assert any("paused" in p for p in health["problems"])
        assert health["components"]["writer"]["state"] == "running" and service.ready()[0]
        assert health["readings"] == service.store.count() and service.writer.stats.on_stored_errors == 0
        del detector.window_scores  # the model is fine again: a fresh full window ends the pause
        for i in range(2, 11):
            _post(c, asset, t0 + timedelta(minutes=i), base)
        health = c.get("/api/health").json()
        assert health["status"] == "ok" and health["components"]["scoring"] == {"active": [asset], "paused": {}}


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_a_dead_writer_means_503_failing_and_not_ready_until_restarted(home):
    path, asset, t0, base = home
    with _client(path) as c:
        service = c.app.state.service
        service._supervisor_stop.set()  # look at the dead thread before the supervisor restarts it
        service._supervisor.join(5)
        armed = threading.Event()
        armed.set()
        scoring = service.writer.on_stored

        def hook(readings):
            if armed.is_set():
                armed.clear()
                raise Fatal("writer killed")
            scoring(readings)

        service.writer.on_stored = hook
        assert _post(c, "P-other", t0, {"x": 1.0}).status_code == 200  # stored, then the thread dies
        service.writer._thread.join(5)
        r = _post(c, "P-other", t0 + timedelta(minutes=1), {"x": 2.0})
        assert r.status_code == 503 and "dead" in r.json()["detail"]
        up = c.post("/api/ingest/file", files={"file": ("f.csv", b"ts,x\n2026-01-01,1\n", "text/csv")}, headers=AUTH)
        assert up.status_code == 503
        health = c.get("/api/health").json()
        assert health["status"] == "failing" and health["components"]["writer"]["state"] == "dead"
        ready, problems = service.ready()
        assert not ready and "dead" in problems[0]
        assert service.writer.ensure_running()
        assert _post(c, "P-other", t0 + timedelta(minutes=1), {"x": 2.0}).json()["accepted"] == 1
        health = c.get("/api/health").json()
        assert health["status"] == "degraded" and health["components"]["writer"]["restarts"] == 1
        assert service.ready()[0]


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_the_supervisor_restarts_a_dead_writer(home):
    path, asset, t0, base = home
    with _client(path) as c:
        service = c.app.state.service

        def hook(readings):
            service.writer.on_stored = None
            raise Fatal("writer killed")

        service.writer.on_stored = hook
        assert _post(c, "P-other", t0, {"x": 1.0}).status_code == 200
        deadline = time.time() + 10
        while service.writer.restarts == 0 and time.time() < deadline:
            time.sleep(0.05)
        assert service.writer.restarts == 1 and service.writer.alive
        assert _post(c, "P-other", t0 + timedelta(minutes=1), {"x": 2.0}).json()["accepted"] == 1


def test_nested_and_oversize_json_bodies_are_422_and_ingest_goes_on(home):
    path, asset, t0, base = home
    with _client(path) as c:
        for body in (b"[" * 50_000 + b"]" * 50_000, b'[{"asset": "P-1", "ts": 1, "values": ' + b"[" * 5000 + b"]" * 5000 + b"}]"):
            r = c.post("/api/ingest", content=body, headers={**AUTH, "content-type": "application/json"})
            assert r.status_code == 422 and "nested" in r.json()["detail"]
        for body in (b"", b"{", b"{}", b"NaN", b"\xff\xfe"):
            r = c.post("/api/ingest", content=body, headers={**AUTH, "content-type": "application/json"})
            assert r.status_code == 422, (body, r.status_code)
        r = c.post("/api/ingest", content=b"[1, 2]", headers={**AUTH, "content-type": "application/json"}).json()
        assert r["accepted"] == 0 and [x["index"] for x in r["rejected"]] == [0, 1]
        assert _post(c, asset, t0 + timedelta(minutes=1), base).json()["accepted"] == len(base)
        assert c.get("/api/health").json()["status"] == "ok"


def test_reasons_stay_bounded_through_http(home):
    path, asset, t0, base = home
    with _client(path) as c:
        body = [{"asset": f"bad name {i}.", "ts": t0.isoformat(), "values": {"x": 1.0}} for i in range(500)]
        body += [{"asset": "P-1", "ts": t0.isoformat(), "values": {f"s{i}/x": 1.0}} for i in range(500)]
        r = c.post("/api/ingest", json=body, headers=AUTH).json()
        assert r["accepted"] == 0 and len(r["rejected"]) == 1000 and r["rejected"][999]["index"] == 999
        health = c.get("/api/health")
        assert health.json()["ingest"]["reasons"] == {"bad-name": 1000} and len(health.content) < 20_000


@pytest.mark.parametrize("param", ["..", "a\nb", "x" * 200])
def test_names_in_paths_and_queries_pass_the_name_rule(home, param):
    path, asset, t0, base = home
    with _client(path) as c:
        assert c.get(f"/api/assets/{asset}/readings", params={"signals": param}).status_code == 422
        quoted = param.replace(".", "%2E").replace("\n", "%0A")
        r = c.get(f"/api/assets/{quoted}/readings")
        assert r.status_code == 422 and "not a valid name" in r.json()["detail"]
        assert c.get(f"/api/assets/{quoted}/signals").status_code == 422


_PARQUET = io.BytesIO()
pd.DataFrame({"ts": pd.to_datetime(["2026-01-01"]), "a": [1.0]}).to_parquet(_PARQUET)
MALFORMED = {
    "empty.csv": (b"", "empty"),
    "header.csv": (b"ts,a\n", "no data rows"),
    "garbage.csv": (bytes(range(256)) * 20, ""),
    "garbage.parquet": (b"PAR1" + b"\x00" * 100, "parquet"),
    "cut.parquet": (_PARQUET.getvalue()[:-40], "parquet"),
    "utf16.csv": ("ts,a\n2026-01-01,1\n".encode("utf-16"), ""),
    "ragged.csv": (b"ts,a,b\n2026-01-01,1,2\n2026-01-03,1,2,3,4\n", "CSV"),
    "badgz.csv.gz": (b"\x1f\x8b\x08garbage", "gzip"),
    "plain.csv.gz": (b"ts,a\n2026-01-01,1\n", "gzip"),
    "year9999.csv": (b"ts,a\n2026-01-01,1\n9999-01-01,1\n", "row"),
    "year1900.csv": (b"ts,a\n1900-05-01,1\n", "before 1970"),
    "future.csv": (f"ts,a\n{(datetime.now() + timedelta(days=2)).isoformat()},1\n".encode(), "future"),
    "huge.csv": (b"ts,a\n2026-01-01,1\n2026-01-02,1e308\n", "row 2"),
    "badasset.csv": (b"ts,asset,signal,value\n2026-01-01,../../x,a,1\n", "not a valid name"),
    "typo.csv": (b"ts,a\n2026-01-01,1\n2026-01-02,high\n2026-01-03,2\n", "row 2"),
    "x.txt": (b"ts,a\n", "unsupported"),
    "bad name..csv": (b"ts,a\n2026-01-01,1\n", "asset"),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_every_malformed_upload_is_4xx_naming_the_file(home, name):
    data, expected = MALFORMED[name]
    path, asset, t0, base = home
    with _client(path) as c:
        before = c.get("/api/health").json()["readings"]
        r = c.post("/api/ingest/file", files={"file": (name, data, "application/octet-stream")}, headers=AUTH)
        assert 400 <= r.status_code < 500, (r.status_code, r.text)
        detail = r.json()["detail"]
        assert name in detail and expected in detail, detail
        assert c.get("/api/health").json()["readings"] == before  # nothing of a refused file is stored


def test_a_gzip_bomb_is_refused_while_inflating(home):
    path, asset, t0, base = home
    bomb = gzip.compress(b"ts,a\n" + b"2026-01-01,1" + b"0" * 30_000_000 + b"\n", compresslevel=9)
    assert len(bomb) < 100_000
    with _client(path, max_body_bytes=1_000_000) as c:
        r = c.post("/api/ingest/file", files={"file": ("bomb.csv.gz", bomb, "application/gzip")}, headers=AUTH)
        assert r.status_code == 413 and "bomb.csv.gz" in r.json()["detail"] and "decompresses" in r.json()["detail"]
        good = gzip.compress(b"ts,a\n2026-01-01,1\n2026-01-02,2\n")
        assert c.post("/api/ingest/file", files={"file": ("ok.csv.gz", good, "application/gzip")}, headers=AUTH).json()["accepted"] == 2


def test_uploads_pass_the_configured_ranges(home):
    path, asset, t0, base = home
    with _client(path, signal_ranges='{"temp*": [-50, 400]}') as c:
        r = c.post("/api/ingest/file", files={"file": ("t.csv", b"ts,temp_oil\n2026-01-01,20\n2026-01-02,500\n", "text/csv")}, headers=AUTH)
        assert r.status_code == 422 and "column 'temp_oil', row 2" in r.json()["detail"]
        r = c.post("/api/ingest", json=[{"asset": "P-1", "signal": "temp_oil", "ts": t0.isoformat(), "value": 500}], headers=AUTH)
        assert r.json()["accepted"] == 0 and "[-50, 400]" in r.json()["rejected"][0]["reason"]
