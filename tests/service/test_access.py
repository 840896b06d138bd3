"""Access to the plant service: scoped tokens, closed reads, names that never reach the file
system unchecked, and the audit table (a real DuckDB store, the app in-process)."""

from __future__ import annotations

import hashlib
import io
import shutil
import time
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.service.app import create_app
from geniot.service.auth import TokenConfigError

TOKENS = "reader:read:r3ad-secret,feeder:ingest:f33d-secret,boss:admin:b0ss-secret"
READ, INGEST, ADMIN = ({"Authorization": f"Bearer {s}"} for s in ("r3ad-secret", "f33d-secret", "b0ss-secret"))


def _records(asset="P-9", n=5):
    start = datetime.now(UTC) - timedelta(hours=1)
    return [{"asset": asset, "ts": (start + timedelta(minutes=i)).isoformat(), "values": {"a": float(i), "b": 2.0 * i}} for i in range(n)]


@pytest.fixture()
def closed(tmp_path):
    settings = Settings(home=tmp_path / "home", tokens=TOKENS, open_reads=False)
    with TestClient(create_app(settings)) as c:
        yield c


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """An admin-token service with one trained model ``m1`` and a sentinel file in its home
    (shared by the tests of this module: each leaves ``m1`` and the home as they were)."""
    tmp_path = tmp_path_factory.mktemp("trained")
    settings = Settings(home=tmp_path / "home", token="adm1n", tokens="feeder:ingest:f33d-secret")
    auth = {"Authorization": "Bearer adm1n"}
    with TestClient(create_app(settings)) as c:
        plant = simulate_plant(PlantConfig(n_assets=1, days=0.5, seed=2, fault_rate=0))
        frame = plant.readings.assign(ts=plant.readings["ts"] + (pd.Timestamp.now() - pd.Timedelta(hours=1) - plant.readings["ts"].max()))
        buf = io.BytesIO()
        frame.to_csv(buf, index=False)
        assert c.post("/api/ingest/file", files={"file": ("p.csv", buf.getvalue(), "text/csv")}, headers=auth).status_code == 200
        asset = plant.assets()[0]
        job = c.post("/api/models/train", json={"model": "m1", "asset": asset, "window": 8}, headers=auth).json()
        deadline = time.time() + 60
        while c.get(f"/api/jobs/{job['id']}").json()["status"] not in ("done", "failed") and time.time() < deadline:
            time.sleep(0.1)
        assert c.get(f"/api/jobs/{job['id']}").json()["status"] == "done"
        (settings.home / "keep.txt").write_text("mine")
        yield c, settings, auth, asset


def _home_intact(c, settings, readings: int) -> None:
    assert settings.store_path.is_file() and (settings.home / "keep.txt").read_text() == "mine"
    assert (settings.models_dir / "m1" / "spec.json").is_file()
    assert c.get("/api/health").json()["readings"] == readings


BAD_NAMES = ["..", ".", "a/../..", "../x", "/etc", "m1\n", "m\x00", "m\x1b[31m", "x" * 10_000, " lead", "trail."]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_model_and_asset_names_are_refused_and_the_home_stays(trained, name):
    c, settings, auth, asset = trained
    readings = c.get("/api/health").json()["readings"]
    r = c.post("/api/models/train", json={"model": name, "asset": asset, "window": 8}, headers=auth)
    assert r.status_code == 422, r.text
    r = c.post("/api/models/train", json={"model": "m9", "asset": name, "window": 8}, headers=auth)
    assert r.status_code == 422, r.text
    for op in ("impute", "detect"):
        assert c.post(f"/api/models/m1/{op}", json={"asset": name}, headers=auth).status_code == 422
    assert 400 <= c.get("/api/events", params={"asset": name}).status_code < 500
    assert c.post("/api/ingest", json=[{"asset": "P-1", "signal": "a", "ts": datetime.now(UTC).isoformat(), "value": 1.0}],
                  headers=auth).status_code == 200  # fmt: skip
    readings += 1
    _home_intact(c, settings, readings)


@pytest.mark.parametrize("path", ["%2E%2E", "%2E", ".%2E", "%2E%2E%2F%2E%2E", "a%2F..%2F..", "m1%0A", "m%00", "x" * 10_000])
def test_bad_model_names_in_the_path_are_refused(trained, path):
    c, settings, auth, _ = trained
    readings = c.get("/api/health").json()["readings"]
    for method, suffix in (("DELETE", ""), ("POST", "/synthesize"), ("POST", "/impute"), ("POST", "/detect")):
        body = {"asset": "P-1"} if suffix in ("/impute", "/detect") else ({} if suffix else None)
        r = c.request(method, f"/api/models/{path}{suffix}", json=body, headers=auth)
        assert 400 <= r.status_code < 500, (method, path, suffix, r.status_code, r.text[:200])
    _home_intact(c, settings, readings)


def test_delete_removes_only_that_model_folder(trained, tmp_path):
    c, settings, auth, asset = trained
    shutil.copytree(settings.models_dir / "m1", settings.models_dir / "m2")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "spec.json").write_text("{}")
    (settings.models_dir / "link").symlink_to(outside, target_is_directory=True)
    assert c.delete("/api/models/link", headers=auth).status_code == 422
    assert (outside / "spec.json").is_file()
    (settings.models_dir / "notes").mkdir()
    (settings.models_dir / "notes" / "todo.txt").write_text("x")
    assert c.delete("/api/models/notes", headers=auth).status_code == 422  # not a saved model
    assert (settings.models_dir / "notes" / "todo.txt").is_file()
    assert c.delete("/api/models/m2", headers=auth).json() == {"deleted": "m2"}
    assert not (settings.models_dir / "m2").exists() and settings.store_path.is_file()
    assert (settings.home / "keep.txt").is_file() and (settings.models_dir / "notes").is_dir()
    assert (settings.models_dir / "m1" / "spec.json").is_file()
    (settings.models_dir / "link").unlink()
    shutil.rmtree(settings.models_dir / "notes")


def test_scopes_nest_read_ingest_admin(closed):
    c = closed
    batch = _records()
    assert c.post("/api/ingest", json=batch).status_code == 401
    assert c.post("/api/ingest", json=batch, headers={"Authorization": "Bearer nope"}).status_code == 401
    assert c.post("/api/ingest", json=batch, headers=READ).status_code == 403
    assert c.post("/api/ingest", json=batch, headers=INGEST).json()["accepted"] == 10
    assert c.post("/api/ingest", json=batch, headers=ADMIN).status_code == 200
    # closed reads: every reading endpoint needs a token, any scope will do
    for url in ("/api/assets", "/api/assets/P-9/readings", "/api/events", "/api/models", "/api/jobs", "/api/dead-letters"):
        assert c.get(url).status_code == 401, url
        assert c.get(url, headers=READ).status_code == 200, url
        assert c.get(url, headers=INGEST).status_code == 200, url
    train = {"model": "m1", "asset": "P-9", "window": 4}
    assert c.post("/api/models/train", json=train, headers=READ).status_code == 403
    assert c.post("/api/models/train", json=train, headers=INGEST).status_code == 403
    assert c.delete("/api/models/m1", headers=INGEST).status_code == 403
    assert c.get("/api/audit", headers=INGEST).status_code == 403
    assert c.get("/api/audit", headers=ADMIN).status_code == 200
    assert c.post("/api/ask", json={"question": "which assets had anomalies yesterday?"}).status_code == 401
    assert c.post("/api/ask", json={"question": "which assets had anomalies yesterday?"}, headers=READ).status_code == 200


def test_the_old_single_token_is_an_admin_token(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path / "h", token="only"))) as c:
        auth = {"Authorization": "Bearer only"}
        assert c.post("/api/ingest", json=_records(), headers=auth).status_code == 200
        assert c.get("/api/audit", headers=auth).json()[0]["actor"] == "admin"
        assert c.get("/api/assets").status_code == 200  # reads open by default


def test_tokens_file_with_hashed_secrets(tmp_path):
    digest = hashlib.sha256(b"edge-secret").hexdigest()
    path = tmp_path / "tokens.txt"
    path.write_text(f"# geniot tokens\nedge-7:ingest:sha256:{digest}\n\nviewer:read:plain-view\n")
    with TestClient(create_app(Settings(home=tmp_path / "h", tokens_file=path, open_reads=False))) as c:
        assert c.post("/api/ingest", json=_records(), headers={"Authorization": "Bearer edge-secret"}).status_code == 200
        # the digest itself is not a password
        assert c.post("/api/ingest", json=_records(), headers={"Authorization": f"Bearer sha256:{digest}"}).status_code == 401
        assert c.get("/api/assets", headers={"Authorization": "Bearer plain-view"}).status_code == 200


@pytest.mark.parametrize(("tokens", "says"), [
    ("a:read", "name:scope:secret"),
    ("a:write:s", "scope 'write'"),
    ("../x:read:s", "token name"),
    ("a:read:s,a:admin:t", "two tokens are named 'a'"),
    ("a:read:s,b:admin:s", "same secret"),
    ("a:read:sha256:abc", "64 hex digits"),
])  # fmt: skip
def test_bad_token_configuration_stops_the_start_with_a_reason(tmp_path, tokens, says):
    with pytest.raises(TokenConfigError, match=says.replace("(", r"\(")):
        create_app(Settings(home=tmp_path / "h", tokens=tokens))


def test_missing_tokens_file_is_named(tmp_path):
    with pytest.raises(TokenConfigError, match="nope.txt"):
        create_app(Settings(home=tmp_path / "h", tokens_file=tmp_path / "nope.txt"))


def test_closed_reads_hide_health_details(closed):
    c = closed
    assert c.post("/api/ingest", json=_records(), headers=INGEST).status_code == 200
    anonymous = c.get("/api/health")
    assert anonymous.status_code == 200 and set(anonymous.json()) == {"status"}
    assert c.get("/api/health", headers={"Authorization": "Bearer wrong"}).json().keys() == {"status"}
    full = c.get("/api/health", headers=READ).json()
    assert full["status"] == anonymous.json()["status"] and full["readings"] == 10
    ready = c.get("/api/ready")
    assert ready.status_code == 200 and ready.json() == {"ready": True}
    assert c.get("/api/ready", headers=READ).json() == {"ready": True, "problems": []}


def test_open_reads_show_health_details_to_anyone(tmp_path):
    with TestClient(create_app(Settings(home=tmp_path / "h"))) as c:
        assert {"status", "readings", "ingest"} <= set(c.get("/api/health").json())
        assert c.get("/api/ready").json()["ready"] is True


def test_every_write_is_audited_with_the_token_name(closed):
    c = closed
    assert c.post("/api/ingest", json=_records(), headers=INGEST).status_code == 200
    csv = b"ts,asset,signal,value\n2026-01-01T00:00:00,P-2,a,1.0\n"
    assert c.post("/api/ingest/file", files={"file": ("p2.csv", csv, "text/csv")}, headers=ADMIN).status_code == 200
    assert c.post("/api/models/train", json={"model": "m1", "asset": "nope", "window": 4}, headers=ADMIN).status_code == 422
    assert c.delete("/api/models/gone", headers=ADMIN).status_code == 404
    assert c.post("/api/ingest", json=_records(), headers=READ).status_code == 403  # refused: not a write
    rows = c.get("/api/audit", headers=ADMIN).json()
    assert [(r["actor"], r["action"]) for r in rows] == [
        ("boss", "DELETE /api/models/{name}"),
        ("boss", "POST /api/models/train"),
        ("boss", "POST /api/ingest/file"),
        ("feeder", "POST /api/ingest"),
    ]
    assert rows[0]["target"] == "gone" and "status 404" in rows[0]["detail"]
    assert rows[1]["target"] == "m1" and "status 422" in rows[1]["detail"] and "asset nope" in rows[1]["detail"]
    assert rows[3]["detail"].startswith("status 200")
    assert all(datetime.fromisoformat(r["ts"]) > datetime.now() - timedelta(minutes=5) for r in rows)
    assert c.get("/api/audit", params={"limit": 1}, headers=ADMIN).json() == rows[:1]


def test_ask_tools_that_write_files_need_ingest_and_valid_asset_names(tmp_path):
    from geniot.data.store import SensorStore
    from geniot.workflows.history import scan_history

    settings = Settings(home=tmp_path / "home", tokens=TOKENS)
    settings.home.mkdir()
    plant = simulate_plant(PlantConfig(n_assets=1, days=1.0, seed=1, start="2026-01-05T00:00:00"))
    with SensorStore(settings.store_path) as store:  # an older store, written before names were checked
        store.append(plant.readings)
        scan_history(store, settings.models_dir)
        # the store refuses such a name now, so write the old store's row as an older geniot did
        store._con.execute("INSERT INTO readings VALUES ('2026-01-05 00:00:00', '../../evil', 'flow_m3h', 1.0, 1.0)")
    question = {"question": "Generate 5 synthetic windows"}
    with TestClient(create_app(settings)) as c:
        assert c.post("/api/ask", json=question, headers=READ).status_code == 403
        r = c.post("/api/ask", json=question, headers=INGEST)
        assert r.status_code == 422 and "../../evil" in r.json()["detail"]
        ok = c.post("/api/ask", json={"question": "Generate 5 synthetic windows for P-1"}, headers=INGEST)
        assert ok.status_code == 200 and ok.json()["files"], ok.text
        row = c.get("/api/audit", headers=ADMIN).json()[0]
        assert row["actor"] == "feeder" and row["action"] == "POST /api/ask" and row["target"] == ok.json()["files"][0]
    written = {p.resolve() for p in tmp_path.rglob("*") if p.is_file()}
    assert all(settings.home.resolve() in p.parents for p in written)
