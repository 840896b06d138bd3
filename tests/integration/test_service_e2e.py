"""The service end to end with a real broker: `geniot simulate --mqtt` in, the API out, live
scoring with an alert published back to MQTT."""

from __future__ import annotations

import json
import queue
from datetime import datetime

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner
from waiting import wait_until

from geniot.cli.main import app as cli
from geniot.core.settings import Settings
from geniot.ingest.mqtt import make_client, parse_url
from geniot.service.app import create_app

pytestmark = pytest.mark.integration
TOKEN = "e2e"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def test_simulate_to_broker_to_store_to_api_with_live_alerts(broker, tmp_path):
    settings = Settings(home=tmp_path / "home", token=TOKEN, mqtt_url=broker.url)
    alerts: queue.Queue = queue.Queue()
    host, port = parse_url(broker.url)
    sub = make_client("alert-listener", clean=True)
    sub.on_message = lambda c, u, m: alerts.put((m.topic, json.loads(m.payload)))
    sub.connect(host, port)
    sub.subscribe("geniot/alerts/#", qos=1)
    sub.loop_start()
    with TestClient(create_app(settings)) as client:
        assert wait_until(lambda: client.get("/api/health").json()["mqtt"]["connected"], 10)
        result = CliRunner().invoke(cli, ["simulate", "--assets", "2", "--days", "0.5", "--seed", "3", "--mqtt", broker.url])
        assert result.exit_code == 0, result.output
        expected = int(result.output.split("(")[1].split()[0])  # "published N messages (M readings, ..."
        assert wait_until(lambda: client.get("/api/health").json()["readings"] == expected, 60), client.get("/api/health").json()
        assets = client.get("/api/assets").json()
        assert [a["asset"] for a in assets] == ["P-1", "P-2"]
        wide = client.get("/api/assets/P-1/readings", params={"last": 50}).json()
        assert len(wide["timestamps"]) == 50 and "flow_m3h" in wide["signals"]

        job = client.post("/api/models/train", json={"model": "p1", "asset": "P-1", "window": 8}, headers=AUTH).json()
        assert wait_until(lambda: client.get(f"/api/jobs/{job['id']}").json()["status"] == "done", 60)
        assert wait_until(lambda: "P-1" in client.get("/api/health").json()["live"], 10)

        # A live stream where the flow sensor reads ten times too high: scored, an event, an alert.
        pub = make_client("gateway", clean=True)
        pub.connect(host, port)
        pub.loop_start()
        # The last 30 real readings replayed after the stored history (held-flat values would
        # read as stuck sensors, which the detector rightly names first).
        last = client.get("/api/assets/P-1/readings", params={"last": 30}).json()
        stamps = [datetime.fromisoformat(t) for t in last["timestamps"]]
        t_last, step = stamps[-1], stamps[-1] - stamps[-2]
        for i in range(30):
            values = {k: v[i] for k, v in last["signals"].items() if v[i] is not None}
            if "flow_m3h" in values:
                values["flow_m3h"] *= 10
            ts = (t_last + (i + 1) * step).isoformat() + "Z"  # after the stored history
            pub.publish("plant/pumps/P-1", json.dumps({"ts": ts, "values": values}), qos=1).wait_for_publish(5)
        assert wait_until(lambda: len(client.get("/api/events", params={"asset": "P-1"}).json()) > 0, 30)
        event = client.get("/api/events", params={"asset": "P-1"}).json()[0]
        assert "flow_m3h" in event["top_sensors"].split(";")[0:2]
        topic, alert = alerts.get(timeout=10)
        assert topic == "geniot/alerts/P-1" and alert["kind"] == "opened" and alert["asset"] == "P-1"
        live = client.get("/api/assets/P-1/live").json()
        assert any(live["scores"]["flag"])
        scores = live["scores"]  # each reading with the threshold it was judged against
        assert len(scores["threshold"]) == len(scores["score"]) and any(
            f and s is not None and s > t for s, t, f in zip(scores["score"], scores["threshold"], scores["flag"], strict=True))
        pub.loop_stop()
    sub.loop_stop()
