"""``geniot-edge``: score readings next to the machine with numpy and onnxruntime only.

    geniot-edge MODEL_DIR                               # JSON lines on stdin, events on stdout
    geniot-edge MODEL_DIR --input readings.csv          # a wide CSV: timestamp + one column per signal
    geniot-edge MODEL_DIR --input mqtt://host:1883/plant/pumps/P-1 [--publish mqtt://host:1883]
    geniot-edge MODEL_DIR --input mqtts://edge@host:8883/plant/pumps/P-1 --mqtt-ca ca.pem

Input lines: ``{"ts": ..., "values": {"<signal>": number, ...}}`` (``asset`` optional). A
missing, null or NaN value is a dropped reading: the window is scored on what was observed (the
exported Gaussian's marginal), as the server does. The score is the one the detector was
calibrated with (``edge.json``'s ``score``): the whole window's, or its last step's given the
steps before it (``geniot fit``'s default); ``geniot-edge MODEL_DIR --info`` says which.
Output: one JSON line per reading once a window is full (``ts, score, flag, top_sensors``, and
``reason`` when a sensor is stuck: the detector's stuck-sensor rule, ``edge.json``'s ``stuck``,
flags a sensor that holds its value longer than it ever did on the normal data, as the server
does; ``--events-only`` keeps flagged readings); each event (the detector's ``merge_gap``/
``min_event_steps``, id ``asset@start``) as it opens and closes with ``--print-events``, and with
``--publish`` on ``geniot/alerts/<asset>``, in the service's alert format.

A reading that comes more than one interval of the stream's own recent clock after the last
(an outage) first puts the readings missed into the window as gaps, as the server does.

This module imports from geniot only the event and clock rules (``geniot.core``: numpy) and the
MQTT connector (``geniot.ingest.mqtt_target``: the standard library, and paho when MQTT is
used) and never imports torch or pandas. For TLS:
``mqtts://user@host:8883/...`` with ``--mqtt-ca`` (and ``--mqtt-cert``/``--mqtt-key``); the
password comes from ``GENIOT_MQTT_PASSWORD``.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import threading
from collections import deque
from pathlib import Path

import numpy as np

from geniot.core.clock import ClockWatch
from geniot.core.events import (
    Change,
    EventTracker,
    flag_scores,
    iso_time,
    rank_sensors,
    reading_row,
    smooth_scores,
)
from geniot.core.moving import moving_windows

FORMATS = (1, 2, 3, 4)  # edge.json versions this runtime reads (1: whole-window scores, no "score" key; 3: "stuck"; 4: "moving")


class EdgeScorer:
    """One asset's scorer: the exported ONNX graph for whole windows, the exported Gaussian's
    marginal for windows with dropped readings, and the shared smoothing, flag and event rules
    (``geniot.core.events``), so it flags and groups as the server does."""

    def __init__(self, model_dir, *, asset: str | None = None) -> None:
        import onnxruntime as ort

        model_dir = Path(model_dir)
        self.meta = json.loads((model_dir / "edge.json").read_text())
        if self.meta.get("format", 1) not in FORMATS:
            raise SystemExit(f"geniot-edge: {model_dir}: edge.json format {self.meta.get('format')!r} is newer than this runtime "
                             f"reads ({', '.join(map(str, FORMATS))}); update geniot")  # fmt: skip
        self.score_kind = str(self.meta.get("score", "window"))  # "window" or "step"
        if self.score_kind not in ("window", "step"):
            raise SystemExit(f"geniot-edge: {model_dir}: edge.json has score {self.score_kind!r}, not 'window' or 'step'")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(model_dir / "scorer.onnx"), options, providers=["CPUExecutionProvider"])
        self.channels = list(self.meta["channels"])
        self.window = int(self.meta["window"])
        self.threshold = float(self.meta["threshold"])  # steady windows'
        moving = self.meta.get("moving")  # windows where several sensors move together (a regime switch)
        self.moving = None if not moving else (np.asarray(moving["change_scale"], dtype=np.float64), float(moving["threshold"]))
        self.center = np.asarray(self.meta["channel_center"], dtype=np.float64)
        self.scale = np.asarray(self.meta["channel_scale"], dtype=np.float64)
        self.top_k = int(self.meta.get("top_k", 3))
        self.attribute = str(self.meta.get("attribute", "flagged"))
        self.gaps = _GapScorer(model_dir / self.meta["gaps"], step=self.score_kind == "step") if self.meta.get("gaps") else None
        self._readings: deque = deque(maxlen=self.window)
        self._scores: deque = deque(maxlen=int(self.meta.get("smoothing", 1)))
        self.tracker = EventTracker(channels=self.channels, merge_gap=int(self.meta.get("merge_gap", 0)),
                                    min_steps=int(self.meta.get("min_event_steps", 1)), top_k=self.top_k,
                                    asset=asset, keep_closed=False)  # fmt: skip
        self.changes: list[Change] = []  # events opened or closed by the last update
        self.stuck = _StuckRule(self.meta["stuck"], self.channels) if self.meta.get("stuck") else None
        self.clock = ClockWatch()  # readings missed before a new one (an outage) go in as gaps, as on the server

    def info(self) -> dict:
        """What this model scores: the score kind and the settings it flags with."""
        keys = ("format", "generator", "score", "window", "channels", "units", "threshold", "threshold_rule", "smoothing",
                "merge_gap", "min_event_steps", "quantization", "size_bytes", "stuck", "moving")  # fmt: skip
        return {k: self.meta.get(k) for k in keys} | {"score": self.score_kind}

    def _skip(self, n: int) -> None:
        """Readings the stream missed: gap rows into the window and the smoothing memory (the
        stuck rule and the events see none), as the server's ``StreamingScorer.skip``."""
        gap = np.full(len(self.channels), np.nan)
        for _ in range(min(int(n), self.window + int(self._scores.maxlen or 1))):
            self._readings.append(gap)
            if len(self._readings) == self.window:
                self._scores.append(self.gaps.score(np.stack(self._readings), surprise=False)[0])

    def update(self, values: dict | list | np.ndarray, ts=None) -> dict | None:
        row = reading_row(values, self.channels)  # a dropped value is a gap (NaN), as on the server
        self.changes = []
        if ts is not None and self.gaps is not None:  # an export without the gap scorer cannot score gaps
            self._skip(self.clock.missed(ts))
        stuck = self.stuck.step(row, ts) if self.stuck is not None else None
        self._readings.append(row)
        if len(self._readings) < self.window:
            return None
        window = np.stack(self._readings)
        if np.isnan(window).any():
            if self.gaps is None:
                raise ValueError("this export cannot score a window with dropped readings; export the model again")
            raw, surprise = self.gaps.score(window, surprise=False)  # the sensors' surprise only if it is used
        else:
            score, out = self.session.run(None, {"x": window[None].astype(np.float64)})
            raw, surprise = float(score[0]), out[0].astype(np.float64)
        self._scores.append(raw)
        smoothed = float(smooth_scores(np.array(self._scores), len(self._scores))[-1])
        stuck_now = stuck is not None and bool(stuck.any())
        threshold = self.threshold
        if self.moving is not None and moving_windows(window[None], self.moving[0])[0]:
            threshold = self.moving[1]  # as the server's ``AnomalyDetector.window_thresholds``
        flag = bool(flag_scores(smoothed, threshold)) or stuck_now
        z = None
        if self.attribute == "all" or (flag and self.attribute != "none"):
            if surprise is None:
                surprise = self.gaps.surprise(window)
            z = (surprise - self.center) / self.scale
            if stuck_now:
                z[stuck] = np.inf  # the stuck sensor is the one behind it, as on the server
        top = list(rank_sensors(z, self.channels, self.top_k)) if (flag and z is not None) else []
        self.changes = [c for c in self.tracker.update(flag, smoothed, z=z, time=ts) if c.kind != "extended"]
        out = {"score": smoothed if math.isfinite(smoothed) else None, "flag": flag, "top_sensors": top}
        if stuck_now:
            out["reason"] = self.stuck.reason(stuck, ts)
        return out


class _StuckRule:
    """The stuck-sensor rule of ``geniot.tasks.flatline.StuckRule.step`` with the tolerance and
    limit ``geniot export`` wrote: a copy, because importing ``geniot.tasks`` needs torch
    (``tests/edge/test_stuck_parity.py`` keeps the two equal). Per sensor, a run holds while
    each read value stays within ``tol`` of the one that started it; a dropped value neither
    moves nor holds it; the sensor is stuck once the run has held more than ``limit`` readings
    (a limit of 0: not judged)."""

    def __init__(self, meta: dict, channels: list[str]) -> None:
        self.tol = np.asarray(meta["tol"], dtype=np.float64)
        self.limit = np.asarray(meta["limit"], dtype=np.int64)
        if self.tol.size != len(channels) or self.limit.size != len(channels):
            raise SystemExit(f"geniot-edge: edge.json's stuck rule has {self.limit.size} sensors, the model {len(channels)}")
        self.channels = channels
        self.anchor = np.full(len(channels), np.nan)
        self.anchor_time: list = [None] * len(channels)
        self.run = np.zeros(len(channels), dtype=np.int64)

    def step(self, row: np.ndarray, ts=None) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            held = np.abs(row - self.anchor) <= self.tol  # False where either is NaN
        moved = ~np.isnan(row) & ~held
        self.run = np.where(held, self.run + 1, np.where(moved, 0, self.run))
        self.anchor = np.where(moved, row, self.anchor)
        for j in np.flatnonzero(moved):
            self.anchor_time[j] = ts
        return (self.limit > 0) & (self.run > self.limit)

    def reason(self, stuck: np.ndarray, ts) -> str:
        return "; ".join(f"stuck: {self.channels[j]} held {self.anchor[j]:.4g} for {_held_for(self.anchor_time[j], ts, int(self.run[j]))}"
                         for j in np.flatnonzero(stuck))  # fmt: skip


def _held_for(start, now, repeats: int) -> str:
    """As ``geniot.tasks.flatline.held_for``: minutes between two times, else readings."""
    from datetime import datetime

    try:
        a, b = datetime.fromisoformat(iso_time(start)), datetime.fromisoformat(iso_time(now))
        return f"{(b - a).total_seconds() / 60.0:.0f} min"
    except (TypeError, ValueError):
        return f"{repeats + 1} readings"


class _GapScorer:
    """Minus the log-density of a window's observed values under the exported Gaussian (its
    marginal: the precision's missing block is eliminated), and each sensor's surprise given the
    others, as ``GaussianBaseline.score_samples``/``score_channels`` compute them with a mask.
    With ``step``, the score is that of the last step given the steps before it, as
    ``AnomalyDetector(score="step").window_scores``: the window's minus that of the same window
    with its last step unread; NaN when the last step or everything before it is unread."""

    def __init__(self, path: Path, *, step: bool = False) -> None:
        with np.load(path, allow_pickle=False) as f:
            self.ch_mean, self.ch_std = f["channel_mean"], f["channel_std"]
            self.mean, self.precision, self.logdet = f["mean"], f["precision"], float(f["logdet"])
            written = str(f["score"]) if "score" in f.files else "window"
        if written != ("step" if step else "window"):
            raise SystemExit(f"geniot-edge: {path} was written for score={written!r}, edge.json says {'step' if step else 'window'!r}")
        self.step = step

    def score(self, window: np.ndarray, *, surprise: bool = True) -> tuple[float, np.ndarray | None]:
        """The window's score and, unless ``surprise=False`` (``None`` then: the c extra
        marginals cost most of the time), each sensor's surprise given the others."""
        c = window.shape[1]
        observed = ~np.isnan(window)
        z = ((np.where(observed, window, 0.0) - self.ch_mean) / self.ch_std).reshape(-1)
        full = self._minus_loglik(z, observed)
        if not observed.any():
            return math.nan, (np.full(c, np.nan) if surprise else None)  # nothing seen: no score, as on the server
        by_sensor = self._surprise(z, observed, full) if surprise else None
        if not self.step:
            return full, by_sensor
        past = observed.copy()
        past[-1] = False
        if not observed[-1].any():
            return math.nan, by_sensor  # nothing read at the judged step: no score
        if math.isinf(full):
            return full, by_sensor
        if not past.any():
            return math.nan, by_sensor  # no past to judge it by: no score, as on the server
        return full - self._minus_loglik(z, past), by_sensor  # -log p(last | past) = -log p(window) + log p(past)

    def surprise(self, window: np.ndarray) -> np.ndarray:
        """Each sensor's surprise given the others (the whole window's, under either score)."""
        observed = ~np.isnan(window)
        if not observed.any():
            return np.full(window.shape[1], np.nan)
        z = ((np.where(observed, window, 0.0) - self.ch_mean) / self.ch_std).reshape(-1)
        return self._surprise(z, observed, self._minus_loglik(z, observed))

    def _surprise(self, z: np.ndarray, observed: np.ndarray, full: float) -> np.ndarray:
        out = np.empty(observed.shape[1])
        for j in range(len(out)):
            rest = observed.copy()
            rest[:, j] = False
            out[j] = full - self._minus_loglik(z, rest)
        return out

    def _minus_loglik(self, z: np.ndarray, observed: np.ndarray) -> float:
        obs = observed.reshape(-1)
        if not obs.any():
            return 0.0
        miss = ~obs
        diff = np.where(obs, z - self.mean, 0.0)
        r = self.precision @ diff
        maha = float(diff @ r)
        logdet = self.logdet
        if miss.any():
            block = self.precision[np.ix_(miss, miss)]
            maha -= float(r[miss] @ np.linalg.solve(block, r[miss]))
            logdet += float(np.linalg.slogdet(block)[1])
        log_jac = float((np.log(self.ch_std)[None, :] * observed).sum())
        return 0.5 * (maha + logdet + int(obs.sum()) * math.log(2.0 * math.pi)) + log_jac


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
        for n, row in enumerate(reader, start=2):  # row 1 is the header
            values = {c: _number(row[c], f"{path}: row {n}, column {c!r}") for c in channels}
            yield row.get("asset", "edge"), row.get("timestamp") or row.get("ts"), values


def _number(cell: str | None, where: str) -> float:
    """A CSV cell as a float; empty is missing, and so is text, said on stderr (not a crash)."""
    if cell in ("", None):
        return math.nan
    try:
        return float(cell)
    except ValueError:
        print(json.dumps({"error": f"{where}: not a number ({cell!r}); read as missing"}), file=sys.stderr)
        return math.nan


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
    try:
        return _run(argv)
    except BrokenPipeError:  # `geniot-edge ... | head`: the reader left; exit quietly, as Python's docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def _run(argv: list[str] | None) -> int:
    ap = argparse.ArgumentParser(prog="geniot-edge", description="Score readings with an exported geniot model (no torch).")
    ap.add_argument("model", type=Path, help="folder written by `geniot export`")
    ap.add_argument("--input", default="-", help="'-' (JSON lines on stdin), a wide CSV file, or mqtt[s]://[user@]host:port/topic")
    ap.add_argument("--publish", default=None, help="mqtt[s]://[user@]host:port: publish events to geniot/alerts/<asset>")
    ap.add_argument("--events-only", action="store_true", help="print flagged readings only")
    ap.add_argument("--print-events", action="store_true",
                    help="also print each event when it opens and closes (and, at the end of a file or stdin, the running one) "
                         "as the service's alert: id, start_ts, end_ts, peak_ts, peak_score, top_sensors, kind")  # fmt: skip
    ap.add_argument("--info", action="store_true", help="print what the model scores (score kind, window, signals, threshold) and exit")
    ap.add_argument("--mqtt-ca", default=None, help="CA certificate (PEM) for mqtts:// (default: the system's CAs)")
    ap.add_argument("--mqtt-cert", default=None, help="client certificate (PEM), if the broker requires one")
    ap.add_argument("--mqtt-key", default=None, help="key of the client certificate (PEM)")
    ap.add_argument("--mqtt-user", default=None, help="broker user name (or in the URL); the password comes from GENIOT_MQTT_PASSWORD")
    args = ap.parse_args(argv)
    if args.info:
        print(json.dumps(EdgeScorer(args.model).info()))
        return 0
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
    for asset, ts, values in source:
        scorer = scorers.get(asset)
        if scorer is None:
            scorer = scorers[asset] = EdgeScorer(args.model, asset=asset)
        try:
            result = scorer.update(values, ts)
        except ValueError as exc:
            print(json.dumps({"error": str(exc), "ts": ts}), file=sys.stderr)
            continue
        if result is None:
            continue
        out = {"asset": asset, "ts": ts, **result}
        if result["flag"] or not args.events_only:
            print(json.dumps(out), flush=True)
        for change in scorer.changes:  # the service's alert, the same id for the same event
            message = change.event.message(scorer.threshold, change.kind)
            if args.print_events:
                print(json.dumps(message), flush=True)
            if publisher is not None:
                publisher.publish(f"geniot/alerts/{asset}", json.dumps(message), qos=1)
    if args.print_events:  # end of the file or stdin: the events still running
        for scorer in scorers.values():
            if scorer.tracker.current is not None:
                print(json.dumps(scorer.tracker.current.message(scorer.threshold, "open")), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
