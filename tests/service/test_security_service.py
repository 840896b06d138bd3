"""Security detection in the plant service without a broker: readings posted over HTTP reach
the active detector (no traffic side, so the consistency and replay checks), activation needs an
admin token and a folder inside ``<home>/security``, a broken active detector is said in health
and never stops ingest; the publisher named by a guarded topic prefix."""

from __future__ import annotations

import json
import time

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from geniot.core.settings import Settings
from geniot.data.simulate import PlantConfig, simulate_attacked
from geniot.ingest.publisher import publisher_topic, split_publisher
from geniot.security import SecurityDetector, SecurityEvent, messages_from_frame
from geniot.service.app import create_app
from geniot.service.security import event_id, store_record

TOKEN = "sec-admin"
ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def test_the_guarded_topic_prefix_names_the_publisher():
    assert split_publisher("pub/gw-P-1/plant/pumps/P-1", "pub") == ("gw-P-1", "plant/pumps/P-1")
    assert split_publisher("pub/gw-P-1/plant/pumps/P-1", "pub/") == ("gw-P-1", "plant/pumps/P-1")
    assert split_publisher("plant/pumps/P-1", "pub") == ("", "plant/pumps/P-1")  # outside the prefix: nobody vouched
    assert split_publisher("pub/gw-P-1", "pub") == ("", "pub/gw-P-1")  # no readings topic under the user
    assert split_publisher("pubx/u/plant/a", "pub") == ("", "pubx/u/plant/a")
    assert split_publisher("pub/gw/plant/a", None) == ("", "pub/gw/plant/a")
    assert publisher_topic("plant/pumps/P-1", "gw-P-1", "pub") == "pub/gw-P-1/plant/pumps/P-1"
    assert split_publisher(publisher_topic("plant/a/b", "u", "pub"), "pub") == ("u", "plant/a/b")


def test_a_security_event_is_one_stored_row_with_its_kind_attack_and_reason():
    ev = SecurityEvent("P-1", 1_800_000_000.25, 1_800_000_600.0, "traffic", "flood", "many messages", 1_800_000_010.0, source="t|p")
    rec = store_record(ev)
    assert rec["id"] == event_id(ev) == "P-1@2027-01-15T08:00:00.250000/flood"
    assert (rec["kind"], rec["attack"], rec["reason"], rec["source"], rec["is_open"]) == ("traffic", "flood", "many messages", "t|p", False)
    assert rec["start_ts"] == pd.Timestamp("2027-01-15T08:00:00.25") and rec["detected_at"] > rec["start_ts"]
    spoof = SecurityEvent("", 1.0, 1.0, "integrity", "spoof", "topic never seen", 1.0, source="x/y|u")
    assert store_record(spoof)["id"].startswith("x/y|u@")  # no asset: the stream names it


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """A detector fitted on a plain readings history (no traffic side) and an attacked stretch
    with one replay per pump."""
    folder = tmp_path_factory.mktemp("replayed")
    cfg = PlantConfig(n_assets=1, days=0.25, interval_s=60, seed=4)
    _, attacked, normal = simulate_attacked(cfg, ("replay",), history_days=1.0)
    plain = normal.messages[["ts", "asset", "signal", "value", "quality"]]
    det = SecurityDetector().fit(messages_from_frame(plain)[0])
    assert det.traffic_ is None
    det.save(folder / "det")
    return folder / "det", attacked


def _home(tmp_path, detector) -> object:
    import shutil

    home = tmp_path / "home"
    shutil.copytree(detector, home / "security" / "plain")
    return home


def test_readings_posted_over_http_are_checked_and_a_replay_is_stored(replayed, tmp_path):
    detector, attacked = replayed
    home = _home(tmp_path, detector)
    rows = attacked.messages
    records = [{"asset": a, "signal": s, "ts": pd.Timestamp(t).isoformat(), "value": float(v)}
               for t, a, s, v in zip(rows["ts"], rows["asset"], rows["signal"], rows["value"], strict=True)]  # fmt: skip
    with TestClient(create_app(Settings(home=home, token=TOKEN))) as client:
        assert client.get("/api/security").json()["active"] is None
        assert client.post("/api/security/activate", json={"name": "plain"}).status_code == 401
        assert client.post("/api/security/activate", json={"name": "../plain"}, headers=ADMIN).status_code == 422
        missing = client.post("/api/security/activate", json={"name": "nothing"}, headers=ADMIN)
        assert missing.status_code == 404 and "geniot security fit" in missing.json()["detail"]
        assert client.post("/api/security/activate", json={"name": "plain"}, headers=ADMIN).json()["active"] == "plain"
        for i in range(0, len(records), 5000):
            assert client.post("/api/ingest", json=records[i : i + 5000], headers=ADMIN).status_code == 200
        deadline = time.time() + 30
        while time.time() < deadline and not client.get("/api/events", params={"kind": "security"}).json():
            time.sleep(0.2)
        events = client.get("/api/events", params={"kind": "integrity"}).json()
        sec = client.get("/api/health").json()["components"]["security"]
        assert client.get("/api/events", params={"kind": "bogus"}).status_code == 422
    assert [e["attack"] for e in events] == ["replay"], events
    label = attacked.labels.iloc[0]
    assert abs(pd.Timestamp(events[0]["start_ts"]) - pd.Timestamp(label["start"])) <= pd.Timedelta(minutes=5)
    assert "too perfect a repeat of the past" in events[0]["reason"]
    assert sec["active"] == "plain" and sec["errors"] == 0 and sec["counts"]["messages"] > 0


def test_a_broken_active_detector_is_said_in_health_and_ingest_goes_on(replayed, tmp_path):
    detector, _ = replayed
    home = _home(tmp_path, detector)
    (home / "security" / "active.json").write_text(json.dumps({"name": "gone"}))
    with TestClient(create_app(Settings(home=home, token=TOKEN))) as client:
        health = client.get("/api/health").json()
        reading = [{"asset": "P-1", "signal": "flow_m3h", "ts": pd.Timestamp.now().isoformat(), "value": 1.0}]
        assert client.post("/api/ingest", json=reading, headers=ADMIN).status_code == 200
    sec = health["components"]["security"]
    assert sec["active"] is None and "no security detector 'gone'" in sec["restore_error"]
    assert health["status"] == "degraded" and any("could not be activated" in p for p in health["problems"])


def test_an_event_still_open_at_shutdown_is_stored_not_lost(replayed, tmp_path):
    """A forgery that has not stopped when the service shuts down: its open event is closed and
    stored at shutdown (it used to be lost with the process)."""
    detector, attacked = replayed
    home = _home(tmp_path, detector)
    rows = attacked.messages.copy()
    times = sorted(rows["ts"].unique())
    forged = (rows["signal"] == "motor_current_a") & (rows["ts"] >= times[-90])  # the last 90 minutes, to the end
    col = rows.loc[rows["signal"] == "motor_current_a", "value"]
    rows.loc[forged, "value"] += 0.25 * (col.max() - col.min())
    records = [{"asset": a, "signal": s, "ts": pd.Timestamp(t).isoformat(), "value": float(v)}
               for t, a, s, v in zip(rows["ts"], rows["asset"], rows["signal"], rows["value"], strict=True)]  # fmt: skip
    with TestClient(create_app(Settings(home=home, token=TOKEN))) as client:
        assert client.post("/api/security/activate", json={"name": "plain"}, headers=ADMIN).status_code == 200
        for i in range(0, len(records), 5000):
            assert client.post("/api/ingest", json=records[i : i + 5000], headers=ADMIN).status_code == 200
        deadline = time.time() + 30
        while time.time() < deadline and client.get("/api/security").json()["queued"]:
            time.sleep(0.2)
        time.sleep(0.5)
        running = [e["attack"] for e in client.get("/api/events", params={"kind": "integrity"}).json()]
    assert "fdi" not in running, running  # still open: the forgery goes on
    with TestClient(create_app(Settings(home=home, token=TOKEN))) as client:
        stored = client.get("/api/events", params={"kind": "integrity"}).json()
    fdi = [e for e in stored if e["attack"] == "fdi" and pd.Timestamp(e["end_ts"]) >= pd.Timestamp(times[-90])]
    assert fdi, stored  # the event that was open at shutdown, reaching into the forged stretch
