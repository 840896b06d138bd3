"""MQTT ingest against a real Mosquitto: end to end, malformed messages, broker and service
restarts in the middle of a stream."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime

import pytest
from waiting import wait_until

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.ingest.mqtt import MQTTIngest, make_client, parse_url
from geniot.ingest.publish import publish_wide
from geniot.ingest.writer import BatchWriter

pytestmark = pytest.mark.integration


def _plant(days=0.1, assets=2, seed=0):
    plant = simulate_plant(PlantConfig(n_assets=assets, days=days, seed=seed))
    return plant, {a: plant.wide(a) for a in plant.assets()}


def _ingest(store, broker, client_id="geniot-test"):
    writer = BatchWriter(store, max_delay_s=0.02)
    ingest = MQTTIngest(broker.url, writer, client_id=client_id)
    ingest.start()
    assert ingest.connected.wait(10)
    return writer, ingest


def _publisher(broker):
    host, port = parse_url(broker.url)
    c = make_client(f"pub-{time.time_ns()}", clean=True)
    c.connect(host, port)
    c.loop_start()
    return c


def test_simulator_readings_are_stored_per_asset_and_per_signal(broker, tmp_path):
    plant, frames = _plant()
    with SensorStore(tmp_path / "s.duckdb") as store:
        writer, ingest = _ingest(store, broker)
        end = datetime(2026, 6, 1)
        sent = publish_wide(broker.url, frames, end=end)
        assert sent == sum(len(f) for f in frames.values())
        assert wait_until(lambda: store.count() == len(plant.readings)), (store.count(), len(plant.readings))
        one = {plant.assets()[0]: frames[plant.assets()[0]]}
        publish_wide(broker.url, one, per_signal=True, site="s2", end=end)  # same readings, other shape: stored once
        writer.flush()
        time.sleep(0.5)
        assert store.count() == len(plant.readings)
        assert set(store.assets()) == set(plant.assets())
        ingest.stop()
        writer.close()


def test_malformed_messages_are_rejected_while_valid_ones_flow(broker, tmp_path):
    now = datetime.now(UTC).isoformat()
    bad = [
        ("p/a/P-1/flow", b"{not json"),
        ("p/a/P-1/flow", json.dumps({"ts": now, "value": "12"}).encode()),
        ("p/a/P-1/flow", b'{"ts": "' + now.encode() + b'", "value": NaN}'),
        ("p/a/P-1/flow", json.dumps({"ts": "2099-01-01T00:00:00Z", "value": 1.0}).encode()),
        ("p/a/P-1/flow", json.dumps({"ts": now, "value": 1.0, "extra": 1}).encode()),
        ("p/a/P-1", json.dumps({"ts": now, "values": {"flow": [1, 2]}}).encode()),
        ("p/a/P-1/flow", b"{" + b" " * 70_000 + b"}"),
    ]
    with SensorStore(tmp_path / "s.duckdb") as store:
        writer, ingest = _ingest(store, broker)
        pub = _publisher(broker)
        for i in range(50):
            topic, payload = bad[i % len(bad)]
            pub.publish(topic, payload, qos=1).wait_for_publish(5)
            ts = datetime.fromtimestamp(1_780_000_000 + i, UTC).isoformat()
            pub.publish("p/a/P-1/flow", json.dumps({"ts": ts, "value": float(i)}), qos=1).wait_for_publish(5)
        assert wait_until(lambda: store.count() == 50 and writer.stats.rejected == 50)
        writer.flush()
        reasons = " | ".join(store.dead_letters(100)["reason"])
        for needle in ("not valid JSON", "must be a number", "not a number JSON allows", "future", "unknown field", "over the"):
            assert needle in reasons
        pub.loop_stop()
        ingest.stop()
        writer.close()


def _stream(broker, frames, stop_after=None, pause=None):
    """Publish in a thread; optionally call ``pause`` after ``stop_after`` messages."""
    done = threading.Event()
    result = {}

    def run():
        result["sent"] = publish_wide(broker.url, frames)
        done.set()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, done, result


def test_service_restart_mid_stream_loses_no_acknowledged_reading(broker, tmp_path):
    plant, frames = _plant(days=0.3)
    path = tmp_path / "s.duckdb"
    store = SensorStore(path)
    writer, ingest = _ingest(store, broker, client_id="geniot-restart")
    t, done, _ = _stream(broker, frames)
    assert wait_until(lambda: store.count() > 200)
    ingest.client.disconnect()  # the service goes away while the stream goes on
    ingest.client.loop_stop()
    writer.close()
    store.close()
    assert done.wait(60)  # the broker acknowledged every message while we were gone
    store = SensorStore(path)
    writer, ingest = _ingest(store, broker, client_id="geniot-restart")  # same persistent session
    assert wait_until(lambda: store.count() == len(plant.readings), 60), (store.count(), len(plant.readings))
    ingest.stop()
    writer.close()
    store.close()


def test_broker_restart_mid_stream_loses_no_acknowledged_reading(broker, tmp_path):
    plant, frames = _plant(days=0.3, seed=4)
    thirds = [{a: f.iloc[k * len(f) // 3 : (k + 1) * len(f) // 3] for a, f in frames.items()} for k in range(3)]
    path = tmp_path / "s.duckdb"
    store = SensorStore(path)
    writer, ingest = _ingest(store, broker, client_id="geniot-broker-restart")
    publish_wide(broker.url, thirds[0])  # flows straight through
    assert wait_until(lambda: store.count() > 0)
    ingest.stop()  # the service is away: the broker queues the next third for its session ...
    writer.close()
    store.close()
    publish_wide(broker.url, thirds[1])  # ... and acknowledges every message to the publisher
    broker.restart()  # the queue must survive the broker's restart (persistence)
    store = SensorStore(path)
    writer, ingest = _ingest(store, broker, client_id="geniot-broker-restart")
    publish_wide(broker.url, thirds[2])
    ok = wait_until(lambda: store.count() == len(plant.readings), 60)
    assert ok, (store.count(), len(plant.readings), writer.stats, broker.log.read_text()[-1500:])
    ingest.stop()
    writer.close()
    store.close()
