"""Hostile MQTT messages against a real Mosquitto and the real service: a deeply nested payload
and extreme values become dead letters with their reasons, valid readings keep flowing, paho's
network thread survives, and nothing is redelivered after a restart (the bad messages were
acknowledged)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from waiting import wait_until

from geniot.core.settings import Settings
from geniot.service.app import create_app

pytestmark = pytest.mark.integration


def _publisher(port: int):
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    c = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id=f"pub-{time.time_ns()}", clean_session=True)
    c.connect("127.0.0.1", port)
    c.loop_start()
    return c


def _valid(c, i: int, t0: datetime):
    payload = json.dumps({"ts": (t0 + timedelta(seconds=i)).isoformat(), "values": {"flow": float(i), "temp": 20.0 + i}})
    return c.publish("plant/area/P-1", payload, qos=1)


def test_nested_and_extreme_messages_are_contained(broker, tmp_path):
    settings = Settings(home=tmp_path / "home", token="t", mqtt_url=broker.url)
    t0 = datetime.now(UTC) - timedelta(hours=1)
    hostile = [
        ("plant/area/P-1", b"[" * 50_000),
        ("plant/area/P-1", b'{"ts": 1, "values": ' + b"[" * 20_000 + b"]" * 20_000 + b"}"),
        ("plant/area/P-1", json.dumps({"ts": t0.isoformat(), "values": {"flow": 1e308, "temp": 1e308}}).encode()),
        ("plant/area/P-1/flow", json.dumps({"ts": t0.isoformat(), "value": -1e300}).encode()),
        ("plant/area/P-1", json.dumps({"ts": "1900-01-01T00:00:00Z", "values": {"flow": 1.0}}).encode()),
        ("plant/area/bad name./flow", json.dumps({"ts": t0.isoformat(), "value": 1.0}).encode()),
    ]
    # one dead letter per message, except at the writer's gate: one per reading out of range
    letters_expected = len(hostile) + 1
    pub = _publisher(broker.port)
    try:
        with TestClient(create_app(settings)) as client:
            service = client.app.state.service
            assert service.mqtt.connected.wait(10)
            infos = []
            for i in range(20):  # valid readings mixed with every hostile message
                infos.append(_valid(pub, i, t0))
                topic, payload = hostile[i % len(hostile)]
                if i < len(hostile):
                    infos.append(pub.publish(topic, payload, qos=1))
            for info in infos:
                info.wait_for_publish(10)
            assert wait_until(lambda: service.store.count() == 40, 20), service.store.count()
            assert wait_until(lambda: service.store.count_dead_letters() == letters_expected, 20), service.store.count_dead_letters()
            # the network thread lives: a message sent after the hostile ones is stored
            _valid(pub, 100, t0).wait_for_publish(10)
            assert wait_until(lambda: service.store.count() == 42, 20)
            health = client.get("/api/health").json()
            assert health["status"] != "failing" and health["components"]["mqtt"]["state"] == "connected"
            assert health["components"]["writer"]["alive"]
            reasons = health["ingest"]["reasons"]
            assert reasons == {"too-deeply-nested": 2, "out-of-range": 3, "timestamp-too-old": 1, "bad-name": 1}, reasons
            letters = client.get("/api/dead-letters").json()["items"]
            assert any("nested deeper" in x["reason"] for x in letters)
        with TestClient(create_app(settings)) as client:  # restart: nothing hostile is redelivered
            service = client.app.state.service
            assert service.mqtt.connected.wait(10)
            _valid(pub, 200, t0).wait_for_publish(10)
            assert wait_until(lambda: service.store.count() == 44, 20)
            time.sleep(0.5)
            assert service.store.count_dead_letters() == letters_expected
    finally:
        pub.loop_stop()
        pub.disconnect()
