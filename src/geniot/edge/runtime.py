"""``geniot-edge``: score readings next to the machine with numpy and onnxruntime only.

    geniot-edge MODEL_DIR                               # JSON lines on stdin, events on stdout
    geniot-edge MODEL_DIR --input readings.csv          # a wide CSV: timestamp + one column per signal
    geniot-edge MODEL_DIR --input mqtt://host:1883/plant/pumps/P-1 [--publish mqtt://host:1883]

Input lines: ``{"ts": ..., "values": {"<signal>": number, ...}}`` (``asset`` optional). A
missing or non-finite value is replaced by the signal's last value (a gap cannot be
marginalised out in the exported scorer). Output: one JSON line per reading once a window is
full (``ts, score, flag, top_sensors``; ``--events-only`` keeps flagged readings), and with
``--publish`` an event per flagged run on ``geniot/alerts/<asset>``.

This module imports nothing from geniot and never imports torch.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
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


def _mqtt(url: str):
    """Yield readings from ``mqtt://host:port/topic`` (per-asset objects)."""
    import queue
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parsed = urlparse(url)
    topic = parsed.path.lstrip("/") or "#"
    messages: queue.Queue = queue.Queue()
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="geniot-edge")
    client.on_message = lambda c, u, m: messages.put((m.topic, m.payload))
    client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
    client.subscribe(topic, qos=1)
    client.loop_start()
    while True:
        t, payload = messages.get()
        for item in _json_lines([payload.decode("utf-8", "replace")]):
            asset = t.rstrip("/").split("/")[-1]
            yield asset, item[1], item[2]


def _publisher(url: str | None):
    if not url:
        return None
    from urllib.parse import urlparse

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    parsed = urlparse(url)
    client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2, client_id="geniot-edge-alerts")
    client.connect(parsed.hostname or "127.0.0.1", parsed.port or 1883)
    client.loop_start()
    return client


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="geniot-edge", description="Score readings with an exported geniot model (no torch).")
    ap.add_argument("model", type=Path, help="folder written by `geniot export`")
    ap.add_argument("--input", default="-", help="'-' (JSON lines on stdin), a wide CSV file, or mqtt://host:port/topic")
    ap.add_argument("--publish", default=None, help="mqtt://host:port: publish events to geniot/alerts/<asset>")
    ap.add_argument("--events-only", action="store_true", help="print flagged readings only")
    args = ap.parse_args(argv)
    scorers: dict[str, EdgeScorer] = {}
    template = EdgeScorer(args.model)
    if args.input == "-":
        source = _json_lines(sys.stdin)
    elif args.input.startswith("mqtt://"):
        source = _mqtt(args.input)
    else:
        source = _csv_rows(Path(args.input), template.channels)
    publisher = _publisher(args.publish)
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
