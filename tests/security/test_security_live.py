"""The live path: readings the service stores reach the security feed through LiveMonitor, and
MQTT messages with their traffic side reach it through ``on_message``; both raise live events."""

from __future__ import annotations

import pandas as pd
import pytest

from geniot.data.simulate import simulate_attacked
from geniot.data.store import SensorStore
from geniot.ingest.messages import Reading
from geniot.security import SecurityDetector, messages_from_frame
from geniot.service.live import LiveMonitor
from geniot.service.security_feed import SecurityFeed


@pytest.fixture(scope="module")
def plant():
    _, attacked, history = simulate_attacked(n_assets=1, days=1.0, seed=5, history_days=1.5, attacks=("replay", "spoof"))
    return SecurityDetector().fit(messages_from_frame(history.messages)[0]), attacked


def _messages(log: pd.DataFrame):
    for _, msg in log.sort_values("received_at", kind="stable").groupby("message", sort=False):
        readings = [Reading(pd.Timestamp(r.ts).floor("us").to_pydatetime(), r.asset, r.signal, float(r.value)) for r in msg.itertuples()]
        first = msg.iloc[0]
        yield first, readings


def test_live_monitor_feeds_security_events(plant, tmp_path):
    det, attacked = plant
    store = SensorStore(tmp_path / "plant.duckdb")
    try:
        monitor = LiveMonitor(store)
        seen = []
        monitor.security = SecurityFeed(det, on_event=seen.append)
        genuine = attacked.messages[attacked.messages["publisher"].str.startswith("gw-") & ~attacked.messages["topic"].str.contains("-x/")]
        for _, readings in _messages(genuine):  # one stored batch per message, as the writer hands them on
            monitor.on_stored(readings)
        replay = attacked.labels[attacked.labels["type"] == "replay"].iloc[0]
        live = [e for e in seen if e.attack == "replay"]
        assert live, [e.record() for e in seen]
        assert abs(pd.Timestamp(live[0].start, unit="s") - pd.Timestamp(replay.start)) <= pd.Timedelta(minutes=5)
        status = monitor.security.status()
        assert status["errors"] == 0 and status["messages"] > 1000
    finally:
        store.close()


def test_traffic_side_raises_spoof_and_silence(plant):
    det, attacked = plant
    feed = SecurityFeed(det)
    last = 0.0
    for first, readings in _messages(attacked.messages):
        last = pd.Timestamp(first.received_at).value / 1e9
        feed.on_message(first.topic, first.publisher, last, int(first.payload_bytes), readings)
    records = feed.events()
    assert any(r["attack"] == "spoof" and r["kind"] == "integrity" for r in records), records
    assert not any(r["attack"] == "silence" for r in records)
    feed.tick(last + 3 * 3600)  # the gateway goes quiet for three hours
    silences = [r for r in feed.events() if r["attack"] == "silence"]
    assert len(silences) == 1 and silences[0]["kind"] == "traffic"
    feed.tick(last + 4 * 3600)
    assert len([r for r in feed.events() if r["attack"] == "silence"]) == 1  # raised once
