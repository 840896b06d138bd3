"""SecurityDetector: fitted on normal message logs; raises process, integrity and traffic events.

Per asset it holds a :class:`~geniot.security.consistency.ConsistencyModel` (the generative
model of its sensors) and a :class:`~geniot.security.replay.ReplayIndex`; per stream a learned
traffic profile (:mod:`geniot.security.traffic`). Detection is one code path: offline
``detect`` feeds the messages of a file in arrival order through the same
:class:`SecurityStream` the live service uses, one message at a time.

Only trustworthy messages (a known stream, a plausible clock, not an older or repeated time
stamp) reach the process view, so a spoofed or flooded message never moves the sensors' picture.
Saved as a folder: ``security.json`` (settings, thresholds, traffic profiles), ``arrays.npz``
(numbers and the replay memory, ``allow_pickle=False``) and one generator folder per asset.
"""

from __future__ import annotations

import dataclasses
import json
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geniot.core.exceptions import ArtifactError, DataError
from geniot.core.names import check_name, path_under
from geniot.models.loading import load_generator
from geniot.security.consistency import ConsistencyModel
from geniot.security.events import SecurityEvent
from geniot.security.messages import Message
from geniot.security.replay import ReplayIndex
from geniot.security.sequential import STATISTICS, CusumState, SequentialResidualTest
from geniot.security.traffic import StreamProfile, TrafficMonitor, fit_traffic

STATE_FILE = "security.json"
ARRAYS_FILE = "arrays.npz"
_MAX_EVENT_WINDOWS = 300  # flagged windows an open event keeps to explain itself


def _rows(messages: list[Message], channels: list[str], interval_s: float) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of one asset's messages on its time grid, NaN where nothing arrived."""
    by_ts: dict[float, dict[str, float]] = {}
    for m in messages:
        by_ts.setdefault(m.ts, {}).update(m.values)
    times = np.array(sorted(by_ts))
    grid = np.round((times - times[0]) / interval_s).astype(np.int64)
    values = np.full((int(grid[-1]) + 1, len(channels)), np.nan)
    for g, t in zip(grid, times, strict=True):
        row = by_ts[t]
        values[g] = [row.get(c, np.nan) for c in channels]
    return times[0] + np.arange(len(values)) * interval_s, values


class SecurityDetector:
    """Fit on normal message logs (``fit(messages)``), then ``detect`` or ``stream``.

    ``window``: steps per window of the generative model; ``min_steps``/``merge_gap``: a
    physical-consistency event needs that many flagged steps, and bridges that many unflagged
    ones; ``replay_rows``: consecutive repeated rows that make a replay; ``window_s``: the traffic
    model's sliding window; ``min_silence_s``: the shortest quiet time called a silence;
    ``sequential_margin``/``level_margin``: headroom of the per-sensor sequential tests (dynamics /
    level) over the largest evidence normal data reached (:mod:`geniot.security.sequential`); ``fdi_gap``: alarm-free steps that
    end one sequential-test event; ``sequential``: run those tests (off by default: on the
    simulated plant they find stealthy FDI but raise too many events, see BENCHMARKS).
    """

    def __init__(self, *, window: int = 8, generator: str = "gaussian", margin: float = 0.25, min_steps: int = 5,
                 merge_gap: int = 10, replay_rows: int = 3, window_s: float = 600.0, min_silence_s: float = 5400.0,
                 min_integrity_steps: int = 10, sequential_margin: float = 1.0, level_margin: float = 6.0, fdi_gap: int = 30,
                 sequential: bool = False) -> None:  # fmt: skip
        self.window = int(window)
        self.generator = generator
        self.margin = float(margin)
        self.min_steps = int(min_steps)
        self.merge_gap = int(merge_gap)
        self.replay_rows = int(replay_rows)
        self.window_s = float(window_s)
        self.min_silence_s = float(min_silence_s)
        self.min_integrity_steps = int(min_integrity_steps)
        self.sequential_margin = float(sequential_margin)
        self.level_margin = float(level_margin)
        self.fdi_gap = int(fdi_gap)
        self.sequential = bool(sequential)

    _PARAMS = ("window", "generator", "margin", "min_steps", "merge_gap", "replay_rows", "window_s", "min_silence_s", "min_integrity_steps",
               "sequential_margin", "level_margin", "fdi_gap", "sequential")  # fmt: skip

    def fit(self, messages: list[Message]) -> SecurityDetector:
        if not messages:
            raise DataError("no normal messages to fit on")
        by_asset: dict[str, list[Message]] = {}
        for m in messages:
            by_asset.setdefault(m.asset, []).append(m)
        self.assets_: dict[str, ConsistencyModel] = {}
        self.replay_history_: dict[str, np.ndarray] = {}
        self.noise_: dict[str, np.ndarray] = {}
        self.channels_: dict[str, list[str]] = {}
        self.sequential_: dict[str, SequentialResidualTest] = {}
        steps = [np.diff(np.unique([m.ts for m in msgs])) for msgs in by_asset.values()]
        self.interval_s_ = float(np.median(np.concatenate(steps)))
        if not self.interval_s_ > 0:
            raise DataError("normal messages need at least two distinct time stamps per asset")
        for asset, msgs in sorted(by_asset.items()):
            check_name(asset, "asset")
            channels = list(dict.fromkeys(s for m in msgs for s in m.values))
            _, values = _rows(msgs, channels, self.interval_s_)
            model = ConsistencyModel(window=self.window, generator=self.generator, margin=self.margin)
            try:
                model.fit(values, channels)
                if self.sequential:
                    self.sequential_[asset] = SequentialResidualTest(window=self.window, margin=self.sequential_margin, level_margin=self.level_margin,
                                                                 interval_s=self.interval_s_).fit(values)  # fmt: skip
            except DataError as exc:
                raise DataError(f"asset {asset!r}: {exc}") from None
            self.assets_[asset] = model
            self.channels_[asset] = channels
            with np.errstate(invalid="ignore"):
                noise = np.nanstd(np.diff(values, axis=0), axis=0) / np.sqrt(2.0)
            self.noise_[asset] = np.where(np.isfinite(noise) & (noise > 0), noise, 1.0)
            index = ReplayIndex(self.noise_[asset])
            index.add_history(values)
            self.replay_history_[asset] = index.history()
        with_traffic = [m for m in messages if m.received_at is not None]
        self.traffic_: dict[str, StreamProfile] | None = None
        if with_traffic:
            self.traffic_ = fit_traffic(with_traffic, window_s=self.window_s, interval_s=self.interval_s_, min_silence_s=self.min_silence_s)
        return self

    def stream(self) -> SecurityStream:
        return SecurityStream(self)

    def detect(self, messages: list[Message]) -> list[SecurityEvent]:
        """Every event of a message log (in arrival order), through the streaming path."""
        stream = self.stream()
        events = []
        for m in sorted(messages, key=lambda m: m.arrival):
            events.extend(stream.update(m))
        events.extend(stream.flush())
        return sorted(events, key=lambda e: (e.asset, e.start))

    # ------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        arrays, assets = {}, {}
        for i, (asset, model) in enumerate(self.assets_.items()):
            meta, arr = model.state()
            assets[asset] = {"meta": meta, "key": f"a{i}", "channels": self.channels_[asset]}
            arrays.update({f"a{i}.{k}": v for k, v in arr.items()})
            arrays[f"a{i}.noise"] = self.noise_[asset]
            arrays[f"a{i}.replay"] = self.replay_history_[asset]
            if asset in self.sequential_:
                arrays.update({f"a{i}.{k}": v for k, v in self.sequential_[asset].state_arrays().items()})
            model.generator_.save(path_under(path, "models", asset, what="asset"))
        state = {
            "format": "geniot-security/1",
            "params": {k: getattr(self, k) for k in self._PARAMS},
            "interval_s": self.interval_s_,
            "assets": assets,
            "traffic": None if self.traffic_ is None else {k: dataclasses.asdict(p) for k, p in self.traffic_.items()},
        }
        (path / STATE_FILE).write_text(json.dumps(state, indent=2))
        np.savez_compressed(path / ARRAYS_FILE, **arrays)
        return path

    @classmethod
    def load(cls, path) -> SecurityDetector:
        path = Path(path)
        file = path / STATE_FILE
        if not file.is_file():
            raise ArtifactError(f"{path} holds no security detector ({STATE_FILE} is missing)")
        try:
            state = json.loads(file.read_text())
            with np.load(path / ARRAYS_FILE, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except (OSError, ValueError) as exc:
            raise ArtifactError(f"{path}: unreadable security detector ({exc})") from exc
        if state.get("format") != "geniot-security/1":
            raise ArtifactError(f"{file}: not a geniot security detector (format {state.get('format')!r})")
        det = cls(**{"sequential": False, **state["params"]})
        det.interval_s_ = float(state["interval_s"])
        det.assets_, det.channels_, det.noise_, det.replay_history_, det.sequential_ = {}, {}, {}, {}, {}
        for asset, info in state["assets"].items():
            k = info["key"]
            arr = {n.split(".", 1)[1]: v for n, v in arrays.items() if n.startswith(k + ".")}
            gen = load_generator(path_under(path, "models", check_name(asset, "asset"), what="asset"))
            det.assets_[asset] = ConsistencyModel.from_state(info["meta"], arr, gen)
            det.channels_[asset] = list(info["channels"])
            det.noise_[asset] = arr["noise"]
            det.replay_history_[asset] = arr["replay"]
            if not det.sequential:
                continue
            if "seq_cov" not in arr:
                raise ArtifactError(f"{path}: asset {asset!r} has no sequential sensor tests (saved by an older geniot); fit it again")
            det.sequential_[asset] = SequentialResidualTest.from_arrays(arr, window=det.window, interval_s=det.interval_s_)  # fmt: skip
        det.traffic_ = None if state["traffic"] is None else {k: StreamProfile(**p) for k, p in state["traffic"].items()}
        return det


@dataclass
class _AssetStream:
    model: ConsistencyModel
    replay: ReplayIndex
    channels: list[str]
    buffer: deque
    pending_ts: float | None = None
    pending: dict = field(default_factory=dict)
    last_ts: float | None = None
    flagged_run: list = field(default_factory=list)  # open consistency event: [start, end, windows, z, quiet, detected]
    event: dict | None = None
    replay_run: int = 0
    replay_event: dict | None = None
    replay_spans: list = field(default_factory=list)  # (start, end) of replays, to absorb their seams
    dropped: int = 0
    sequential: SequentialResidualTest | None = None
    cusum: CusumState | None = None
    fdi_events: dict = field(default_factory=dict)  # sensor index -> its open sequential-test event


class SecurityStream:
    """One message at a time (``update``); returns the events that closed. ``flush`` ends."""

    def __init__(self, detector: SecurityDetector) -> None:
        self.det = detector
        self.traffic = None if detector.traffic_ is None else TrafficMonitor(detector.traffic_, window_s=detector.window_s)
        self.assets: dict[str, _AssetStream] = {}
        for asset, model in detector.assets_.items():
            index = ReplayIndex(detector.noise_[asset])
            index.load_history(detector.replay_history_[asset])
            seq = detector.sequential_.get(asset)
            self.assets[asset] = _AssetStream(model, index, detector.channels_[asset], deque(maxlen=detector.window),
                                              sequential=seq, cusum=None if seq is None else seq.state())  # fmt: skip
        self.counts = {"messages": 0, "kept_out": 0, "unknown_asset": 0, "late_or_repeated": 0, "brief_excursions": 0,
                       "sequential_not_isolated": 0}  # fmt: skip

    def update(self, m: Message) -> list[SecurityEvent]:
        self.counts["messages"] += 1
        out: list[SecurityEvent] = []
        trusted = True
        if self.traffic is not None and m.received_at is not None:
            closed, trusted = self.traffic.update(m)
            out.extend(closed)
        if not trusted:
            self.counts["kept_out"] += 1
            return out
        st = self.assets.get(m.asset)
        if st is None:
            self.counts["unknown_asset"] += 1
            return out
        if st.pending_ts is not None and m.ts == st.pending_ts:
            st.pending.update(m.values)
        elif (st.pending_ts is not None and m.ts < st.pending_ts) or (st.last_ts is not None and m.ts <= st.last_ts):
            self.counts["late_or_repeated"] += 1
            return out
        else:
            if st.pending_ts is not None:
                out.extend(self._step(m.asset, st, st.pending_ts, st.pending, m.arrival))
            st.pending_ts, st.pending = m.ts, dict(m.values)
        if all(c in st.pending for c in st.channels):  # complete: no need to wait for the next one
            out.extend(self._step(m.asset, st, st.pending_ts, st.pending, m.arrival))
            st.pending_ts, st.pending = None, {}
        return out

    def _step(self, asset: str, st: _AssetStream, ts: float, row: dict, now: float) -> list[SecurityEvent]:
        det = self.det
        out = []
        values = np.array([row.get(c, np.nan) for c in st.channels])
        if st.last_ts is not None:
            missing = int(round((ts - st.last_ts) / det.interval_s_)) - 1
            if missing >= det.window:
                st.buffer.clear()
            else:
                st.buffer.extend(np.full(len(st.channels), np.nan) for _ in range(max(0, missing)))
        st.last_ts = ts
        st.buffer.append(values)
        out.extend(self._replay_step(asset, st, ts, values, now))
        if len(st.buffer) == det.window:
            window = np.stack(st.buffer)[None]
            if st.sequential is not None:
                out.extend(self._sequential_step(asset, st, ts, window[0], now))
            if not np.isnan(window).all():
                joint, z = st.model.score(window)
                if st.model.flags(joint, z)[0]:
                    self._flag(st, ts, window[0], z[0], now)
                    return out
        out.extend(self._quiet(asset, st, ts))
        return out

    # ------------------------------------------------------------ physical consistency
    def _flag(self, st: _AssetStream, ts: float, window: np.ndarray, z: np.ndarray, now: float) -> None:
        ev = st.event
        if ev is None:
            ev = st.event = {"start": ts, "end": ts, "windows": [], "z": [], "quiet": 0, "n": 0, "detected": None}
        ev["end"], ev["quiet"] = ts, 0
        ev["n"] += 1
        if len(ev["windows"]) < _MAX_EVENT_WINDOWS:
            ev["windows"].append(window)
            ev["z"].append(z)
        if ev["detected"] is None and ev["n"] >= self.det.min_steps:
            ev["detected"] = now

    def _quiet(self, asset: str, st: _AssetStream, ts: float) -> list[SecurityEvent]:
        ev = st.event
        if ev is None:
            return []
        ev["quiet"] += 1
        if ev["quiet"] <= self.det.merge_gap:
            return []
        return self._close(asset, st)

    def _close(self, asset: str, st: _AssetStream) -> list[SecurityEvent]:
        ev, st.event = st.event, None
        if ev is None or ev["n"] < self.det.min_steps:
            return []
        pad = self.det.window * self.det.interval_s_
        for s, e in st.replay_spans + ([(st.replay_event["start"], st.replay_event["end"])] if st.replay_event else []):
            if ev["start"] <= e + pad and ev["end"] >= s - pad:
                return []  # the seams of a replay: the replay event says what it is
        kind, signal, reason = st.model.explain(np.stack(ev["windows"]), np.stack(ev["z"]))
        if kind == "integrity" and ev["n"] < self.det.min_integrity_steps:
            self.counts["brief_excursions"] += 1  # one sensor, briefly, inside its range: a transient, counted
            return []
        attack = "fdi" if kind == "integrity" else "fault"
        return [SecurityEvent(asset, ev["start"], ev["end"], kind, attack, reason, ev["detected"], signal=signal)]

    # ------------------------------------------------------------ sequential per-sensor tests
    def _sequential_step(self, asset: str, st: _AssetStream, ts: float, window: np.ndarray, now: float) -> list[SecurityEvent]:
        levels = st.sequential.step(st.cusum, window)
        out = []
        for j in range(len(st.channels)):
            ev = st.fdi_events.get(j)
            if levels[j].max() <= 1.0:
                if ev is not None:
                    ev["quiet"] += 1
                    if ev["quiet"] > self.det.fdi_gap:
                        out.extend(self._close_sequential(asset, st, j))
                continue
            stat = int(np.argmax(levels[j]))
            col = int(np.argmax(st.cusum.s[j, :2])) if stat == 0 else stat + 1  # CUSUM columns: level+, level-, rougher, smoother
            began = ts - max(int(st.cusum.since[j, col]), 0) * self.det.interval_s_  # where the evidence started to pile up
            if ev is None:
                ev = st.fdi_events[j] = {"start": began, "end": ts, "alarms": 0, "stats": set(), "windows": [], "quiet": 0, "detected": now}
            ev["start"], ev["end"], ev["quiet"] = min(ev["start"], began), ts, 0
            ev["alarms"] += 1
            ev["stats"].add(STATISTICS[stat])
            if len(ev["windows"]) < _MAX_EVENT_WINDOWS:
                ev["windows"].append(window)
            st.sequential.reset(st.cusum, j)
        return out

    def _close_sequential(self, asset: str, st: _AssetStream, j: int) -> list[SecurityEvent]:
        ev = st.fdi_events.pop(j, None)
        if ev is None:
            return []
        pad = self.det.window * self.det.interval_s_
        for s, e in st.replay_spans + ([(st.replay_event["start"], st.replay_event["end"])] if st.replay_event else []):
            if ev["start"] <= e + pad and ev["end"] >= s - pad:
                return []  # a replay's seams: the replay event says what it is
        name = st.channels[j]
        if st.model.single_sensor(np.stack(ev["windows"]), j) is not None:
            self.counts["sequential_not_isolated"] += 1  # several sensors or an instrument fault: the consistency model's job
            return []
        stats = ev["stats"]
        how = {"level": "drifted away from what the other sensors say it should read",
               "rougher": "became rougher than the physics allows (made-up noise)",
               "smoother": "became smoother than its learned innovations (a held value)"}  # fmt: skip
        said = " and ".join(how[k] for k in STATISTICS if k in stats)
        reason = (f"{name} {said}, accumulated over {(ev['end'] - ev['start']) / 60:.0f} min by a sequential test on its residual "
                  "under the generative model, while staying inside its normal range and the other sensors agree: "
                  "forged readings (false data injection)")  # fmt: skip
        return [SecurityEvent(asset, ev["start"], ev["end"], "integrity", "fdi", reason, ev["detected"], signal=name)]

    # ------------------------------------------------------------ replay
    def _replay_step(self, asset: str, st: _AssetStream, ts: float, values: np.ndarray, now: float) -> list[SecurityEvent]:
        repeated, lag = st.replay.check_add(values)
        if np.isnan(values).sum() * 2 >= values.size:
            return []  # neither extends nor breaks a run
        if repeated:
            st.replay_run += 1
            ev = st.replay_event
            if ev is None and st.replay_run >= self.det.replay_rows:
                start = ts - (st.replay_run - 1) * self.det.interval_s_
                ev = st.replay_event = {"start": start, "end": ts, "lag": lag, "detected": now}
            if ev is not None:
                ev["end"] = ts
            return []
        st.replay_run = 0
        return self._close_replay(asset, st)

    def _close_replay(self, asset: str, st: _AssetStream) -> list[SecurityEvent]:
        ev, st.replay_event = st.replay_event, None
        if ev is None:
            return []
        st.replay_spans = [*st.replay_spans[-20:], (ev["start"], ev["end"])]
        lag_h = ev["lag"] * self.det.interval_s_ / 3600.0
        reason = (f"every sensor repeats, to a hundredth of its noise, readings from {lag_h:.1f} h earlier: "
                  "too perfect a repeat of the past (replayed data)")  # fmt: skip
        return [SecurityEvent(asset, ev["start"], ev["end"], "integrity", "replay", reason, ev["detected"])]

    # ------------------------------------------------------------ end
    def flush(self) -> list[SecurityEvent]:
        out = []
        for asset, st in self.assets.items():
            if st.pending_ts is not None:
                out.extend(self._step(asset, st, st.pending_ts, st.pending, st.pending_ts))
                st.pending_ts, st.pending = None, {}
            out.extend(self._close_replay(asset, st))
            out.extend(self._close(asset, st))
            for j in list(st.fdi_events):
                out.extend(self._close_sequential(asset, st, j))
        if self.traffic is not None:
            out.extend(self.traffic.flush())
        return out

    def tick(self, now: float) -> list[SecurityEvent]:
        return [] if self.traffic is None else self.traffic.tick(now)
