"""``geniot-edge``: score readings next to the machine with numpy and onnxruntime only.

    geniot-edge MODEL_DIR                               # JSON lines on stdin, events on stdout
    geniot-edge MODEL_DIR --input readings.csv          # a wide CSV: timestamp + one column per signal
    geniot-edge MODEL_DIR --input mqtt://host:1883/plant/pumps/P-1 [--publish mqtt://host:1883]
    geniot-edge MODEL_DIR --input mqtts://edge@host:8883/plant/pumps/P-1 --mqtt-ca ca.pem

Input lines: ``{"ts": ..., "values": {"<signal>": number, ...}}`` (``asset`` optional). A
missing or non-finite value is replaced by the signal's last value (a gap cannot be
marginalised out in the exported scorer). Output: one JSON line per reading once a window is
full (``ts, score, flag, top_sensors``; ``--events-only`` keeps flagged readings), and with
``--publish`` an event per flagged run on ``geniot/alerts/<asset>``.

This module imports from geniot only the MQTT connector (``geniot.ingest.mqtt_target``: the
standard library, and paho when MQTT is used) and never imports torch or pandas. For TLS:
``mqtts://user@host:8883/...`` with ``--mqtt-ca`` (and ``--mqtt-cert``/``--mqtt-key``); the
password comes from ``GENIOT_MQTT_PASSWORD``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import threading
from collections import deque
from pathlib import Path

import numpy as np


class EdgeScorer:
    def __init__(self, model_dir) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir)
        self.meta = json.loads((model_dir / "edge.json").read_text())
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_dir / "scorer.onnx"), options, providers=["CPUExecutionProvider"])
        self.channels = list(self.meta["channels"])
        self.window = int(self.meta["window"])
        self.threshold = float(self.meta["threshold"])
        self.center = np.asarray(self.meta["channel_center"], dtype=np.float64)
        self.scale = np.asarray(self.meta["channel_scale"], dtype=np.float64)
        self.top_k = int(self.meta.get("top_k", 3))
        self._readings: deque = deque(maxlen=self.window)
        self._scores: deque = deque(maxlen=int(self.meta.get("smoothing", 1)))
        self._last = np.full(len(self.channels), np.nan)

    def update(self, values: dict | list | np.ndarray) -> dict | None:
        if isinstance(values, dict):
            unknown = sorted(set(values) - set(self.channels))
            if unknown:
                raise ValueError(f"unknown signal(s) {unknown}; the model has {self.channels}")
            row = np.array([_number(values.get(ch)) for ch in self.channels])
        else:
            row = np.asarray(values, dtype=np.float64).reshape(-1)
            if row.size != len(self.channels):
                raise ValueError(f"a reading needs {len(self.channels)} values, got {row.size}")
        row = np.where(np.isfinite(row), row, self._last)  # carry the last value over a gap
        self._last = np.where(np.isfinite(row), row, self._last)
        self._readings.append(row)
        if len(self._readings) < self.window:
            return None
        window = np.stack(self._readings)
        if not np.isfinite(window).all():
            return None  # a signal has not been seen yet
        score, surprise = self.session.run(None, {"x": window[None].astype(np.float64)})
        self._scores.append(float(score[0]))
        smoothed = float(np.mean(self._scores))
        flag = smoothed > self.threshold
        top: list[str] = []
        if flag:
            z = (surprise[0].astype(np.float64) - self.center) / self.scale
            top = [self.channels[j] for j in np.argsort(-z)[: self.top_k] if z[j] > 0]
        return {"score": smoothed, "flag": bool(flag), "top_sensors": top}


def _number(v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return math.nan
    return float(v)


def _json_lines(stream):
    for n, line in enumerate(stream, start=1):
        line = line.strip()
        if not line:
            continue
        try:
            msg = json.loads(line)
        except json.JSONDecodeError as exc:
            print(json.dumps({"error": f"line {n}: not JSON ({exc})"}), file=sys.stderr)
            continue
        if not isinstance(msg, dict) or not isinstance(msg.get("values"), dict):
            print(json.dumps({"error": f"line {n}: expected {{\"ts\": ..., \"values\": {{...}}}}"}), file=sys.stderr)
            continue
        yield msg.get("asset", "edge"), msg.get("ts"), msg["values"]


def _csv_rows(path: Path, channels: list[str]):
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in channels if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"{path}: missing column(s) {missing}")
        for row in reader:
            values = {c: (float(row[c]) if row[c] not in ("", None) else math.nan) for c in channels}
            yield row.get("asset", "edge"), row.get("timestamp") or row.get("ts"), values


def _target(url: str, args):
    """The broker of ``--input``/``--publish`` with the TLS options (the password from
    GENIOT_MQTT_PASSWORD); a bad URL or file stops here with the reason."""
    from geniot.ingest.mqtt_target import MQTTConfigError, MQTTTarget

    try:
        return MQTTTarget.from_url(url, ca_file=args.mqtt_ca, cert_file=args.mqtt_cert, key_file=args.mqtt_key, username=args.mqtt_user)
    except MQTTConfigError as exc:
        raise SystemExit(f"geniot-edge: {exc}") from None


def _connect(client, target) -> None:
    from geniot.ingest.mqtt_target import MQTTConfigError, MQTTConnectError, connect_blocking

    try:
        connect_blocking(client, target)
    except (MQTTConfigError, MQTTConnectError) as exc:
        raise SystemExit(f"geniot-edge: {exc}") from None


def _mqtt(target):
    """Subscribe now (so that nothing published while the model loads is missed) and return the
    readings from ``mqtt[s]://host:port/topic`` (per-asset objects) as they come."""
    import queue

    from geniot.ingest.mqtt_target import make_client

    topic = target.topic or "#"
    messages: queue.Queue = queue.Queue()
    client = make_client("geniot-edge", clean=True)
    client.on_message = lambda c, u, m: messages.put((m.topic, m.payload))
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, qos=1)  # again after a reconnect
    client.on_disconnect = lambda c, u, f, rc, p: print(json.dumps({"error": f"MQTT connection lost: {rc}; reconnecting"}), file=sys.stderr)
    subscribed = threading.Event()
    client.on_subscribe = lambda c, u, mid, codes, p: subscribed.set()
    _connect(client, target)
    if not subscribed.wait(10):
        raise SystemExit(f"geniot-edge: {target.safe_url}: the broker did not confirm the subscription to {topic!r}")
    print(json.dumps({"subscribed": topic, "broker": target.safe_url}), file=sys.stderr, flush=True)  # ready: readings now reach us

    def readings():
        while True:
            t, payload = messages.get()
            for item in _json_lines([payload.decode("utf-8", "replace")]):
                asset = t.rstrip("/").split("/")[-1]
                yield asset, item[1], item[2]

    return readings()


def _publisher(target):
    if target is None:
        return None
    from geniot.ingest.mqtt_target import make_client

    client = make_client("geniot-edge-alerts", clean=True)
    _connect(client, target)
    return client


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="geniot-edge", description="Score readings with an exported geniot model (no torch).")
    ap.add_argument("model", type=Path, help="folder written by `geniot export`")
    ap.add_argument("--input", default="-", help="'-' (JSON lines on stdin), a wide CSV file, or mqtt[s]://[user@]host:port/topic")
    ap.add_argument("--publish", default=None, help="mqtt[s]://[user@]host:port: publish events to geniot/alerts/<asset>")
    ap.add_argument("--events-only", action="store_true", help="print flagged readings only")
    ap.add_argument("--mqtt-ca", default=None, help="CA certificate (PEM) for mqtts:// (default: the system's CAs)")
    ap.add_argument("--mqtt-cert", default=None, help="client certificate (PEM), if the broker requires one")
    ap.add_argument("--mqtt-key", default=None, help="key of the client certificate (PEM)")
    ap.add_argument("--mqtt-user", default=None, help="broker user name (or in the URL); the password comes from GENIOT_MQTT_PASSWORD")
    args = ap.parse_args(argv)
    mqtt_input = args.input.split("://", 1)[0].lower() in ("mqtt", "mqtts", "tcp", "ssl") if "://" in args.input else False
    publish_to = _target(args.publish, args).without_topic("--publish") if args.publish else None
    scorers: dict[str, EdgeScorer] = {}
    publisher = _publisher(publish_to)
    source = _mqtt(_target(args.input, args)) if mqtt_input else None  # subscribed before the model loads
    template = EdgeScorer(args.model)
    if args.input == "-":
        source = _json_lines(sys.stdin)
    elif source is None:
        source = _csv_rows(Path(args.input), template.channels)
    open_events: dict[str, bool] = {}
    for asset, ts, values in source:
        scorer = scorers.get(asset)
        if scorer is None:
            scorer = scorers[asset] = template if not scorers else EdgeScorer(args.model)
        try:
            result = scorer.update(values)
        except ValueError as exc:
            print(json.dumps({"error": str(exc), "ts": ts}), file=sys.stderr)
            continue
        if result is None:
            continue
        out = {"asset": asset, "ts": ts, **result}
        if result["flag"] or not args.events_only:
            print(json.dumps(out), flush=True)
        if publisher is not None and result["flag"] and not open_events.get(asset):
            publisher.publish(f"geniot/alerts/{asset}", json.dumps({**out, "kind": "opened"}), qos=1)
        open_events[asset] = result["flag"]
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
