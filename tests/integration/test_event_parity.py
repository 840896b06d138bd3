"""One stream, three scorers, the same events: `geniot detect` (batch, a file), the live service
(readings posted to a real in-process service with a real DuckDB store) and `geniot-edge` (the
exported ONNX Gaussian scorer, JSON lines on stdin). The stream has dropped readings (single
values, a sensor silent for a while, a whole reading missing) and injected faults; the detector
debounces (``merge_gap``, ``min_event_steps``). Ids, start, end and sensors must agree."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from geniot.cli.main import app as cli
from geniot.core.settings import Settings
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.edge.export import export_detector
from geniot.service.app import create_app
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import save_asset_detector, train_asset_detector

pytestmark = pytest.mark.integration
ASSET = "P-1"
TOKEN = "t0ken"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
SETTINGS = {"window": 8, "merge_gap": 3, "min_event_steps": 2}  # the detector behind every path
N_TRAIN, N_LIVE = 1440, 480
FAULTS = {  # rows of the live part -> (signal, how many standard deviations it is pushed)
    (60, 76): ("motor_temp_c", 8.0),
    (150, 180): ("flow_m3h", -6.0),
    (184, 192): ("flow_m3h", -6.0),  # 3 normal rows after the previous fault: bridged into it
    (300, 303): ("vibration_rms_mms", 12.0),
    (400, 430): ("bearing_temp_c", 10.0),
}


@pytest.fixture(scope="module")
def parity(tmp_path_factory):
    root = tmp_path_factory.mktemp("parity")
    plant = simulate_plant(PlantConfig(n_assets=1, days=1.5, seed=3, fault_rate=0, drop_rate=0, outage_rate=0, degrading_fraction=0))
    wide = plant.wide(ASSET)
    signals = [c for c in wide.columns if c != "timestamp"]
    train = wide.iloc[:N_TRAIN]
    live = wide.iloc[N_TRAIN : N_TRAIN + N_LIVE].reset_index(drop=True).copy()
    std = train[signals].std()
    for (a, b), (signal, k) in FAULTS.items():
        live.loc[a : b - 1, signal] += k * std[signal]
    rng = np.random.default_rng(0)
    values = live[signals].to_numpy().copy()
    drop = rng.random(values.shape) < 0.03
    drop[:20], drop[-1] = False, False  # a clean start and a complete last reading
    values[drop] = np.nan
    values[200:216, signals.index("pressure_bar")] = np.nan  # a sensor silent for 16 readings
    values[165, signals.index("flow_m3h")] = np.nan  # a dropped value inside a fault
    live[signals] = values
    fault_times = {key: (live["timestamp"].iloc[key[0]].isoformat(), live["timestamp"].iloc[key[1] - 1].isoformat()) for key in FAULTS}
    live = live.drop(index=[250]).reset_index(drop=True)  # a whole reading never arrived

    detector = train_asset_detector(series_from_frame(train, asset=ASSET), ASSET, detector=AnomalyDetector(**SETTINGS))
    model_dir = save_asset_detector(detector, root / "models" / f"{ASSET}-gaussian")
    data = root / f"{ASSET}.csv"  # a file of one asset is named after it
    live.to_csv(data, index=False)
    return {"root": root, "model": model_dir, "data": data, "live": live, "signals": signals, "faults": fault_times}


def _by_id(rows) -> dict[str, tuple]:
    """id -> (start, end, sensors, peak score) of the last record of each event."""
    out = {}
    for r in rows:
        sensors = r["top_sensors"] if isinstance(r["top_sensors"], str) else ";".join(r["top_sensors"])
        out[r["id"]] = (str(r["start_ts"]), str(r["end_ts"]), sensors, r["peak_score"])
    return out


def _batch(parity) -> dict:
    events = parity["root"] / "events.json"
    result = CliRunner().invoke(cli, ["detect", str(parity["model"]), str(parity["data"]), "--out", str(parity["root"] / "scores.csv"),
                                      "--events", str(events)])  # fmt: skip
    assert result.exit_code == 0, result.output
    return _by_id(json.loads(events.read_text()))


def _records(parity):
    """The stream as the service's per-asset objects: a dropped value is left out."""
    for row in parity["live"].itertuples(index=False):
        values = {s: float(getattr(row, s)) for s in parity["signals"] if not math.isnan(getattr(row, s))}
        yield {"ts": row.timestamp.isoformat(), "values": values}


def _live(parity, name: str, feed, **settings) -> dict:
    """Events the live service stores for the stream; ``feed(client)`` delivers the readings."""
    home = parity["root"] / name
    shutil.copytree(parity["model"], home / "models" / parity["model"].name)
    with TestClient(create_app(Settings(home=home, token=TOKEN, **settings))) as c:
        assert c.get("/api/health").json()["live"][ASSET]["scored"] == 0  # the saved detector is active
        feed(c)
        want = len(parity["live"]) - SETTINGS["window"] + 1
        deadline = time.time() + 120
        while c.get("/api/health").json()["live"][ASSET]["scored"] < want and time.time() < deadline:
            time.sleep(0.2)
        health = c.get("/api/health").json()
        assert health["live"][ASSET]["scored"] == want and not health["live"][ASSET]["paused"], health["live"]
        rows = c.get("/api/events", params={"asset": ASSET, "limit": 1000}).json()
    assert len({r["id"] for r in rows}) == len(rows)  # each event stored once
    return _by_id(rows)


def _over_http(parity):
    def feed(c):
        records = list(_records(parity))
        for start in range(0, len(records), 40):
            r = c.post("/api/ingest", json=[{"asset": ASSET, **rec} for rec in records[start : start + 40]], headers=AUTH)
            assert r.status_code == 200 and not r.json().get("rejected"), r.text

    return feed


def _over_mqtt(parity, broker):
    from geniot.ingest.mqtt import make_client, parse_url

    def feed(c):
        deadline = time.time() + 30
        while "connected" not in json.dumps(c.get("/api/health").json()["components"].get("mqtt")) and time.time() < deadline:
            time.sleep(0.2)
        host, port = parse_url(broker.url)
        pub = make_client("parity-gateway", clean=True)
        pub.connect(host, port)
        pub.loop_start()
        try:
            for rec in _records(parity):
                pub.publish(f"plant/pumps/{ASSET}", json.dumps(rec), qos=1).wait_for_publish(10)
        finally:
            pub.loop_stop()
            pub.disconnect()

    return feed


def _edge(parity) -> dict:
    out = parity["root"] / "edge"
    export_detector(AnomalyDetector.load(parity["model"]), out)
    lines = []
    for row in parity["live"].itertuples(index=False):
        values = {s: (None if math.isnan(getattr(row, s)) else float(getattr(row, s))) for s in parity["signals"]}
        lines.append(json.dumps({"ts": row.timestamp.isoformat(), "asset": ASSET, "values": values}))
    proc = subprocess.run([sys.executable, "-m", "geniot.edge.runtime", str(out), "--events-only", "--print-events"],
                          input="\n".join(lines), capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and not proc.stderr.strip(), proc.stderr[-2000:]
    return _by_id(json.loads(line) for line in proc.stdout.splitlines() if '"kind"' in line)


def test_batch_live_and_edge_build_the_same_events(parity):
    batch, live, edge = _batch(parity), _live(parity, "http", _over_http(parity)), _edge(parity)
    assert len(batch) >= 4, batch
    # every injected fault lies inside an event that names its sensor
    for key, (signal, _k) in FAULTS.items():
        first, last = parity["faults"][key]
        hits = [e for e in batch.values() if e[0] <= last and e[1] >= first]
        assert hits and any(signal in e[2].split(";") for e in hits), (signal, first, batch)
    assert sorted(live) == sorted(batch), (live, batch)
    assert sorted(edge) == sorted(batch), (edge, batch)
    for key, (start, end, sensors, peak) in batch.items():
        assert key == f"{ASSET}@{start}"
        assert live[key][:3] == (start, end, sensors), (key, live[key], batch[key])
        assert edge[key][:3] == (start, end, sensors), (key, edge[key], batch[key])
        assert live[key][3] == pytest.approx(peak, rel=1e-9)
        assert edge[key][3] == pytest.approx(peak, rel=1e-4)  # the edge graph computes in float32
    # the two faults 3 rows apart are one event (merge_gap=3)
    first, last = parity["faults"][(150, 180)][0], parity["faults"][(184, 192)][1]
    assert any(e[0] <= first and e[1] >= last for e in batch.values()), batch


def test_the_live_service_fed_through_mqtt_builds_the_same_events(parity, broker):
    """The same stream published reading by reading to a real Mosquitto broker."""
    live = _live(parity, "mqtt", _over_mqtt(parity, broker), mqtt_url=broker.url, mqtt_topics="plant/#")
    batch = _batch(parity)
    assert {k: v[:3] for k, v in live.items()} == {k: v[:3] for k, v in batch.items()}
