"""Ingest benchmark: MQTT into the DuckDB store, and publish-to-stored / publish-to-alert latency.

Everything runs on this machine in one script: a Mosquitto broker (Debian package) on a free
loopback port; a publisher sending per-asset objects (8 readings per message, QoS 1); and

1. the broker alone: a plain paho subscriber (QoS 1) counting what arrives — the limit;
2. geniot: ``MQTTIngest`` -> ``BatchWriter`` -> ``SensorStore`` (a DuckDB file), each message
   acknowledged only after its readings are stored; sustained readings/s until all are stored;
3. latency at fixed rates: publish -> stored, publish -> scored (live detector, one asset per
   message stream) and publish -> alert received back over MQTT (every 200th row is made
   anomalous, so events open and close all the time).

    .venv/bin/python benchmarks/ingest.py --messages 20000 --rates 2000 10000
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.series import SensorSeries
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.ingest.mqtt import MQTTIngest, make_client, parse_url
from geniot.ingest.writer import BatchWriter
from geniot.models.gaussian import GaussianBaseline
from geniot.service.live import LiveMonitor
from geniot.tasks import AnomalyDetector

ASSETS = ("P-1", "P-2", "P-3", "P-4")


def start_broker(tmp: Path, *, stock: bool = False) -> tuple[subprocess.Popen, str]:
    """The tuned broker of deploy/mosquitto (queue limits), or with ``stock`` Mosquitto's defaults."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    conf = tmp / ("stock.conf" if stock else "mosquitto.conf")
    limits = "" if stock else "max_queued_messages 10000000\nmax_inflight_messages 1000\n"
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous true\nsys_interval 1\n{limits}")
    exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    proc = subprocess.Popen([exe, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    return proc, f"mqtt://127.0.0.1:{port}"


def rows() -> np.ndarray:
    plant = simulate_plant(PlantConfig(n_assets=1, days=2, seed=11, fault_rate=0, drop_rate=0, outage_rate=0))
    frame = plant.wide(plant.assets()[0])
    return frame.drop(columns="timestamp").to_numpy(), list(frame.columns[1:])


def payload(values: np.ndarray, names: list[str], ts: datetime) -> bytes:
    return json.dumps({"ts": ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "values": dict(zip(names, map(float, values), strict=True))}).encode()


def publisher(url: str):
    host, port = parse_url(url)
    c = make_client(f"bench-pub-{time.time_ns()}", clean=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(host, port)
    c.loop_start()
    return c


def blast(url: str, n: int, data: np.ndarray, names: list[str]) -> float:
    """Publish n messages as fast as QoS 1 allows; returns the time of the first publish."""
    pub = publisher(url)
    base = datetime.now(UTC).timestamp() - n  # distinct past timestamps, one per message
    infos = []
    t0 = time.perf_counter()
    for i in range(n):
        ts = datetime.fromtimestamp(base + i, UTC)
        infos.append(pub.publish(f"bench/area/{ASSETS[i % len(ASSETS)]}", payload(data[i % len(data)], names, ts), qos=1))
        if len(infos) >= 5000:
            infos[-1].wait_for_publish(60)
            infos.clear()
    for info in infos:
        info.wait_for_publish(60)
    pub.disconnect()
    pub.loop_stop()
    return t0


def broker_alone(url: str, n: int, data, names) -> dict:
    host, port = parse_url(url)
    got = [0]
    last = [0.0]
    done = threading.Event()
    sub = make_client(f"bench-sub-{time.time_ns()}", clean=True)

    def on_message(c, u, m):
        got[0] += 1
        if got[0] == n:
            last[0] = time.perf_counter()
            done.set()

    sub.on_message = on_message
    sub.connect(host, port)
    sub.subscribe("bench/#", qos=1)
    sub.loop_start()
    time.sleep(0.3)
    t0 = blast(url, n, data, names)
    done.wait(300)
    sub.loop_stop()
    seconds = last[0] - t0
    return {"what": "broker alone (paho subscriber, QoS 1)", "messages": n, "readings": n * len(names), "seconds": seconds,
            "readings_per_s": n * len(names) / seconds}  # fmt: skip


def geniot_sustained(url: str, n: int, data, names, tmp: Path) -> dict:
    store = SensorStore(tmp / f"sustained-{time.time_ns()}.duckdb")
    writer = BatchWriter(store)
    ingest = MQTTIngest(url, writer, client_id=f"bench-geniot-{time.time_ns()}", topics=("bench/#",))
    ingest.start()
    ingest.connected.wait(10)
    t0 = blast(url, n, data, names)
    target = n * len(names)
    last, since = -1, time.perf_counter()
    while (count := store.count()) < target and time.perf_counter() - since < 15:  # 15 s without progress: lost
        if count != last:
            last, since = count, time.perf_counter()
        time.sleep(0.01)
    seconds = time.perf_counter() - t0 if count >= target else float("nan")
    stats = writer.stats
    time.sleep(1.5)  # one more $SYS update
    dropped = ingest.status()["broker_dropped"]
    ingest.stop()
    writer.close()
    store.close()
    return {"what": "geniot: MQTT -> batched writer -> DuckDB file", "messages": n, "readings": target, "seconds": seconds,
            "readings_per_s": target / seconds, "stored": count, "batches": stats.batches, "broker_dropped": dropped}  # fmt: skip


def latency(url: str, rate: float, seconds: float, data, names, detectors, tmp: Path) -> dict:
    store = SensorStore(tmp / f"latency-{time.time_ns()}.duckdb")
    sent: dict[tuple[str, datetime], float] = {}
    stored: dict[tuple[str, datetime], float] = {}
    scored: dict[tuple[str, datetime], float] = {}
    live = LiveMonitor(store, publish=None)
    for asset in ASSETS:
        live.activate(asset, detectors, "bench")
    original_score = live._score

    def timed_score(asset, state, ts, values):
        original_score(asset, state, ts, values)
        scored[(asset, ts)] = time.perf_counter()

    live._score = timed_score

    def on_stored(readings):
        now = time.perf_counter()
        for r in readings:
            stored.setdefault((r.asset, r.ts), now)
        live.on_stored(readings)

    host, port = parse_url(url)
    alert_pub = make_client(f"bench-alerts-{time.time_ns()}", clean=True)
    alert_pub.connect(host, port)
    alert_pub.loop_start()
    live.publish = lambda asset, msg: alert_pub.publish(f"geniot/alerts/{asset}", json.dumps(msg, default=str), qos=1)
    listener = make_client(f"bench-listen-{time.time_ns()}", clean=True)
    opened: dict[tuple[str, str], float] = {}

    def on_alert(c, u, m):
        msg = json.loads(m.payload)
        if msg.get("kind") == "opened":
            opened[(msg["asset"], msg["start_ts"])] = time.perf_counter()

    listener.on_message = on_alert
    listener.connect(host, port)
    listener.subscribe("geniot/alerts/#", qos=1)
    listener.loop_start()
    writer = BatchWriter(store, max_delay_s=0.005, on_stored=on_stored)
    ingest = MQTTIngest(url, writer, client_id=f"bench-lat-{time.time_ns()}", topics=("bench/#",))
    ingest.start()
    ingest.connected.wait(10)
    time.sleep(0.3)
    pub = publisher(url)
    msg_rate = rate / len(names)
    n = int(msg_rate * seconds)
    t_start = time.perf_counter()
    for i in range(n):
        wait = t_start + i / msg_rate - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        asset = ASSETS[i % len(ASSETS)]
        row = data[(i // len(ASSETS)) % len(data)].copy()
        k = i // len(ASSETS)
        if k % 200 == 199:
            row = row * 3.0  # an anomalous row: opens an event (and the next normal one closes it)
        ts = datetime.now(UTC).replace(tzinfo=None)
        ts = ts.replace(microsecond=ts.microsecond - ts.microsecond % 1000)
        sent[(asset, ts)] = time.perf_counter()
        pub.publish(f"bench/area/{asset}", payload(row, names, ts), qos=1)
    time.sleep(2.0)
    achieved = n / (time.perf_counter() - 2.0 - t_start) * len(names)
    ingest.stop()
    writer.close()
    pub.loop_stop()
    listener.loop_stop()
    alert_pub.loop_stop()
    store.close()

    def pct(d: dict) -> dict:
        lat = np.array([(d[k] - sent[k]) * 1000 for k in sent if k in d])
        if lat.size == 0:
            return {"n": 0}
        return {"n": int(lat.size), "p50_ms": float(np.percentile(lat, 50)), "p99_ms": float(np.percentile(lat, 99)), "max_ms": float(lat.max())}

    alert_lat = {}
    for (asset, start), t in opened.items():
        key = (asset, datetime.fromisoformat(start))
        if key in sent:
            alert_lat[key] = t
    return {"rate_readings_per_s": rate, "achieved_readings_per_s": achieved, "messages": n,
            "stored": pct(stored), "scored": pct(scored), "alert": pct(alert_lat)}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=20_000, help="messages for the sustained runs (8 readings each)")
    ap.add_argument("--rates", type=float, nargs="+", default=[2000, 10000], help="readings/s for the latency runs")
    ap.add_argument("--seconds", type=float, default=20.0, help="length of each latency run")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--stock-broker", action="store_true", help="also run geniot against Mosquitto with its default limits")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    data, names = rows()
    normal = SensorSeries(timestamps=None, values=data[:1440], channels=tuple(names))
    detector = AnomalyDetector(generator=GaussianBaseline(), window=16, attribute="flagged").fit(normal)
    detector.generator_.metadata_ = {"channels": names}
    tmp = Path(tempfile.mkdtemp(prefix="geniot-ingest-"))
    proc, url = start_broker(tmp)
    results = []
    try:
        results.append(broker_alone(url, args.messages, data, names))
        results.append(geniot_sustained(url, args.messages, data, names, tmp))
        if args.stock_broker:
            stock_proc, stock_url = start_broker(tmp, stock=True)
            try:
                res = geniot_sustained(stock_url, args.messages, data, names, tmp)
                results.append({**res, "what": "geniot against a stock Mosquitto (default limits)"})
            finally:
                stock_proc.terminate()
                stock_proc.wait(10)
        for r in results:
            dropped = f", broker dropped {r['broker_dropped']}" if "broker_dropped" in r else ""
            print(f"{r['what']}: {r['readings']} readings in {r['seconds']:.2f} s = {r['readings_per_s']:,.0f} readings/s{dropped}, stored {r.get('stored', '-')}", flush=True)
        for rate in args.rates:
            res = latency(url, rate, args.seconds, data, names, detector, tmp)
            results.append(res)
            print(json.dumps(res), flush=True)
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)
    if args.out:
        with args.out.open("a") as fh:
            for r in results:
                fh.write(json.dumps({**r, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
