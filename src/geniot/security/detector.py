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
from geniot.security.lagged import LAG_MINUTES
from geniot.security.messages import Message
from geniot.security.replay import ReplayIndex
from geniot.security.sequential import HOLD_LEVEL, STATISTICS, CusumState, SequentialResidualTest
from geniot.security.traffic import StreamProfile, TrafficMonitor, fit_traffic

STATE_FILE = "security.json"
ARRAYS_FILE = "arrays.npz"
_MAX_EVENT_WINDOWS = 300  # flagged windows an open event keeps to explain itself
_MAX_BRIDGE_GAPS = 4  # a sequential event waits for rebuilding evidence at most this many fdi_gaps after its last alarm
_RECHECK_GAPS = 4  # every this many fdi_gaps an open sequential event is judged: the machine's own ends it


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
    level) over the largest evidence normal data reached (:mod:`geniot.security.sequential`); ``fdi_gap``: steps without
    alarms or rebuilding evidence that end one sequential-test event (alarms on any of the asset's
    sensors are one event, named by :meth:`ConsistencyModel.isolate`); ``sequential``: run those
    tests (on by default; ``False`` gives the consistency model alone, as fitted before them);
    ``lag_minutes``: time constants of the lagged views those tests give each sensor
    (:mod:`geniot.security.lagged`; scale them with the clock of a sped-up replay).
    """

    def __init__(self, *, window: int = 8, generator: str = "gaussian", margin: float = 0.25, min_steps: int = 5,
                 merge_gap: int = 10, replay_rows: int = 3, window_s: float = 600.0, min_silence_s: float = 5400.0,
                 min_integrity_steps: int = 10, sequential_margin: float = 1.0, level_margin: float = 6.0, fdi_gap: int = 30,
                 sequential: bool = True, lag_minutes: tuple[float, ...] = LAG_MINUTES) -> None:  # fmt: skip
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
        self.lag_minutes = tuple(float(m) for m in lag_minutes)

    _PARAMS = ("window", "generator", "margin", "min_steps", "merge_gap", "replay_rows", "window_s", "min_silence_s", "min_integrity_steps",
               "sequential_margin", "level_margin", "fdi_gap", "sequential", "lag_minutes")  # fmt: skip

    def _normal_values(self, messages: list[Message]) -> tuple[float, dict[str, tuple[list[str], np.ndarray]]]:
        """(time step, {asset: (channels, values on the time grid)}) of normal messages."""
        if not messages:
            raise DataError("no normal messages to fit on")
        by_asset: dict[str, list[Message]] = {}
        for m in messages:
            by_asset.setdefault(m.asset, []).append(m)
        steps = [np.diff(np.unique([m.ts for m in msgs])) for msgs in by_asset.values()]
        interval_s = float(np.median(np.concatenate(steps)))
        if not interval_s > 0:
            raise DataError("normal messages need at least two distinct time stamps per asset")
        out = {}
        for asset, msgs in sorted(by_asset.items()):
            check_name(asset, "asset")
            channels = list(dict.fromkeys(s for m in msgs for s in m.values))
            out[asset] = (channels, _rows(msgs, channels, interval_s)[1])
        return interval_s, out

    def sequential_windows(self, messages: list[Message]) -> dict[str, tuple[list[str], np.ndarray]]:
        """Per asset (a site of a fleet): its channels and complete normal windows standardised by
        its own centre and spread, the data a fleet model of the sequential tests pools
        (``geniot.federated.security_fleet`` sends only their sums)."""
        interval_s, per_asset = self._normal_values(messages)
        test = SequentialResidualTest(window=self.window, interval_s=interval_s, lag_minutes=self.lag_minutes)
        return {a: (channels, test.site_windows(values)) for a, (channels, values) in per_asset.items()}

    def fit(self, messages: list[Message], others: dict | None = None) -> SecurityDetector:
        """``others``: {asset: the rest of the fleet} for a fleet model of the sequential tests
        (see :meth:`SequentialResidualTest.fit`); every other part stays fitted per asset."""
        self.interval_s_, per_asset = self._normal_values(messages)
        self.assets_: dict[str, ConsistencyModel] = {}
        self.replay_history_: dict[str, np.ndarray] = {}
        self.noise_: dict[str, np.ndarray] = {}
        self.channels_: dict[str, list[str]] = {}
        self.sequential_: dict[str, SequentialResidualTest] = {}
        if others and not self.sequential:
            raise DataError("a fleet model (others=...) is for the sequential tests, which are off (sequential=False)")
        for asset, (channels, values) in per_asset.items():
            model = ConsistencyModel(window=self.window, generator=self.generator, margin=self.margin)
            try:
                model.fit(values, channels)
                if self.sequential:
                    self.sequential_[asset] = SequentialResidualTest(window=self.window, margin=self.sequential_margin, level_margin=self.level_margin,
                                                                 interval_s=self.interval_s_, lag_minutes=self.lag_minutes).fit(values, (others or {}).get(asset))  # fmt: skip
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
            if "seq_cov" not in arr or det.assets_[asset].rest_center_ is None:
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
    process_spans: list = field(default_factory=list)  # (start, end) of the consistency model's process events
    dropped: int = 0
    moved_at: float = -np.inf  # time stamp of the last moving window (a regime switch) of the consistency model
    sequential: SequentialResidualTest | None = None
    cusum: CusumState | None = None
    fdi_event: _FdiEvent | None = None  # the open sequential-test event of the asset

    def end_fdi_event(self) -> _FdiEvent | None:
        """Close the open sequential-test event (returned) and lift the suspicion on its sensors."""
        ev, self.fdi_event = self.fdi_event, None
        if ev is not None:
            self.cusum.suspect[:] = False
        return ev


class _FdiEvent:
    """An open sequential-test event of one asset: its span, the statistics that alarmed per
    sensor, a thinned sample of its windows (evenly spread over the whole event), and per sensor
    the extremes and exact repeats of every newest reading seen while it was open."""

    def __init__(self, ts: float, now: float, c: int) -> None:
        self.start, self.end, self.detected, self.quiet = ts, ts, now, 0
        self.first_alarm = ts
        self.checked = ts  # when it was last judged (an event that several sensors explain is ended)
        self.since_alarm = 0  # steps since the last alarm
        self.stats: list[set] = [set() for _ in range(c)]
        self.began = np.full(c, np.inf)  # per sensor, where the evidence of its first alarm began
        self.alarms: list[list[tuple[float, float]]] = [[] for _ in range(c)]  # per sensor, (reading time, arrival) of its alarms
        self.windows: list[np.ndarray] = []
        self._stride, self._offered = 1, 0
        self.low, self.high = np.full(c, np.inf), np.full(c, -np.inf)
        self.seen, self.repeats = np.zeros(c, dtype=np.int64), np.zeros(c, dtype=np.int64)

    def keep(self, window: np.ndarray) -> None:
        self._offered += 1
        if (self._offered - 1) % self._stride:
            return
        self.windows.append(window)
        if len(self.windows) >= _MAX_EVENT_WINDOWS:  # every second one, at half the rate: still even
            self.windows = self.windows[::2]
            self._stride *= 2

    def alarm(self, j: int, ts: float, now: float) -> None:
        times = self.alarms[j]
        times.append((ts, now))
        if len(times) >= _MAX_EVENT_WINDOWS:  # thinned as the windows are; the first and the last are kept
            self.alarms[j] = times[:-1:2] + times[-1:]

    def last(self, j: int) -> float:
        """Reading time of sensor ``j``'s last alarm (-inf: none)."""
        return self.alarms[j][-1][0] if self.alarms[j] else -np.inf

    def track(self, window: np.ndarray) -> None:
        new, prev = window[-1], window[-2]
        ok = np.isfinite(new)
        self.low = np.where(ok, np.fmin(self.low, new), self.low)
        self.high = np.where(ok, np.fmax(self.high, new), self.high)
        self.seen += ok
        self.repeats += ok & (new == prev)


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
                       "sequential_not_isolated": 0, "sequential_in_process_event": 0}  # fmt: skip

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
            if st.sequential is not None:
                st.sequential.skip(st.cusum, missing)
            ev = st.fdi_event
            if ev is not None and missing > 0:  # a gap brings no alarms: it counts as quiet time
                ev.quiet, ev.since_alarm = ev.quiet + missing, ev.since_alarm + missing
                if ev.quiet > det.fdi_gap:
                    out.extend(self._close_sequential(asset, st))
        st.last_ts = ts
        st.buffer.append(values)
        out.extend(self._replay_step(asset, st, ts, values, now))
        if len(st.buffer) == det.window:
            window = np.stack(st.buffer)[None]
            if st.sequential is not None:
                out.extend(self._sequential_step(asset, st, ts, window[0], now))
            if not np.isnan(window).all():
                joint, z = st.model.score(window)
                if st.model.moving(window)[0]:
                    st.moved_at = ts
                settling = ts - st.moved_at <= st.model.settle_steps * det.interval_s_ + 1e-6
                if st.model.flags(joint, z, np.array([settling]))[0]:
                    self._flag(st, ts, window[0], z[0], now)
                    return out
                if st.event is not None and settling and st.model.flags(joint, z, np.array([False]))[0]:
                    # A regime switch inside an open event neither extends nor ends it: its own
                    # thresholds would cut a lasting process event into pieces, some of which one
                    # sensor alone then explains (false "forgeries").
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
        if kind == "process":
            st.process_spans = [*st.process_spans[-20:], (ev["start"], ev["end"])]
            self._end_explained_sequential(st, signal, ev["end"])
        return [SecurityEvent(asset, ev["start"], ev["end"], kind, attack, reason, ev["detected"], signal=signal)]

    def _end_explained_sequential(self, st: _AssetStream, signal: str, end: float) -> None:
        """A process event that names ``signal`` (a stuck or out-of-range instrument, or the
        machine) has just closed: an open sequential-test event whose alarms were all on that sensor,
        the last of them no later than a window after the process event, was the same thing seen
        sooner. It ends here, not raised (counted, ``sequential_in_process_event``): held open by
        the sensor's fading evidence, it would swallow a forgery of another sensor that begins later
        and lend it this sensor's name."""
        ev = st.fdi_event
        if ev is None or signal not in st.channels:
            return
        j = st.channels.index(signal)
        alarmed = [k for k, stats in enumerate(ev.stats) if stats]
        if alarmed == [j] and ev.last(j) <= end + self.det.window * self.det.interval_s_:
            self.counts["sequential_in_process_event"] += 1
            st.end_fdi_event()

    # ------------------------------------------------------------ sequential per-sensor tests
    def _sequential_step(self, asset: str, st: _AssetStream, ts: float, window: np.ndarray, now: float) -> list[SecurityEvent]:
        levels = st.sequential.step(st.cusum, window)
        ev = st.fdi_event
        if ev is not None:
            ev.track(window)
        alarming = np.flatnonzero(levels.max(axis=1) > 1.0)
        if alarming.size == 0:
            if ev is None:
                return []
            # After an alarm a sensor's CUSUM starts again from zero; while a suspect's evidence is
            # piling up again the event goes on (it is quiet only when that evidence fades), but not
            # for ever: a suspect's baseline is held, so its evidence can hover without end after
            # the forgery stopped, and the event would swallow every later anomaly of the asset.
            # (The whiteness ratio is a level, not piled-up evidence: it does not hold an event open.)
            ev.since_alarm += 1
            building = (levels[:, :3].max(axis=1)[st.cusum.suspect] > HOLD_LEVEL).any()
            building = building and ev.since_alarm <= _MAX_BRIDGE_GAPS * self.det.fdi_gap
            ev.quiet = 0 if building else ev.quiet + 1
            return self._close_sequential(asset, st) if ev.quiet > self.det.fdi_gap else []
        # Alarms on any of the asset's sensors, at once or in turn, are one integrity event: one
        # forged sensor drags the residuals of the sensors coupled to it along. But an event of the
        # machine (a wearing bearing moves every sensor) must not run on for hours and swallow a
        # forgery that starts later: judged every few fdi_gaps, it ends when no single sensor explains it.
        if ev is not None and ts - ev.checked >= _RECHECK_GAPS * self.det.fdi_gap * self.det.interval_s_:
            ev.checked = ts
            if self._isolate(st, ev)[1] is not None:
                self.counts["sequential_not_isolated"] += 1
                st.end_fdi_event()
                ev = None
        if ev is None:
            ev = st.fdi_event = _FdiEvent(ts, now, len(st.channels))
            ev.track(window)
        ev.end, ev.quiet, ev.since_alarm = ts, 0, 0
        for j in alarming:
            stat = int(np.argmax(levels[j]))
            back = st.sequential.evidence_steps(st.cusum, int(j), stat)
            began = ts - back * self.det.interval_s_
            ev.start = min(ev.start, began)  # where evidence began
            ev.began[j] = min(ev.began[j], began)
            ev.alarm(int(j), ts, now)
            ev.stats[int(j)].add(STATISTICS[stat])
            st.sequential.reset(st.cusum, int(j))
        st.cusum.suspect[alarming] = True  # a sensor in an open event is under suspicion: its baseline must not learn it
        ev.keep(window)
        return []

    def _close_sequential(self, asset: str, st: _AssetStream) -> list[SecurityEvent]:
        ev = st.end_fdi_event()
        if ev is None:
            return []
        pad = self.det.window * self.det.interval_s_
        for s, e in st.replay_spans + ([(st.replay_event["start"], st.replay_event["end"])] if st.replay_event else []):
            if s - pad <= ev.first_alarm and ev.end <= e + pad:  # first alarm to end (first_alarm <= end) inside it
                return []  # every alarm at a replay's seams: the replay event says what it is
        j, verdict = self._isolate(st, ev)
        name = st.channels[j]
        own_after = self._process_cutoff(st, ev, j)
        if own_after is not None and ev.last(j) <= own_after:
            # Its evidence began during a lasting process event (a wearing bearing, cavitation):
            # the process event says what happened.
            self.counts["sequential_in_process_event"] += 1
            return []
        # It kept alarming after the process event's effects were gone: a forgery seen from its
        # first alarm after that (the alarms before were the machine's).
        detected = ev.detected if own_after is None else next(now for t, now in ev.alarms[j] if t > own_after)
        minutes = (ev.end - ev.start) / 60
        if verdict is not None:
            # Several sensors off together (the machine), or an instrument fault (out of range,
            # stuck): the consistency model's job, which raises them as process events.
            self.counts["sequential_not_isolated"] += 1
            return []
        stats = ev.stats[j] or set().union(*ev.stats)
        how = {"level": "drifted away from what the other sensors say it should read",
               "rougher": "became rougher than the physics allows (made-up noise)",
               "smoother": "became smoother than its learned innovations (a held value)",
               "white": "lost the slow wander the real sensor always has (its readings became white noise, as a held "
                        "value with made-up noise is)"}  # fmt: skip
        said = " and ".join(how[k] for k in STATISTICS if k in stats)
        reason = (f"{name} {said}, accumulated over {minutes:.0f} min by a sequential test on its residual "
                  "under the generative model; setting it aside leaves the other sensors typical (it is the most likely "
                  "forged sensor of all) while it stays inside its normal range: forged readings (false data injection)")  # fmt: skip
        return [SecurityEvent(asset, ev.start, ev.end, "integrity", "fdi", reason, detected, signal=name)]

    def _process_cutoff(self, st: _AssetStream, ev: _FdiEvent, j: int) -> float | None:
        """None unless sensor ``j``'s evidence began in a process event the consistency model raised
        that lasted at least ``fdi_gap`` steps (a setpoint step lasts minutes); else the time after
        which its alarms are its own: never (inf), unless its level leans on the lagged views, which
        forget that event :attr:`SequentialResidualTest.lag_memory_s` after it ended (a forgery that
        began as the machine recovered)."""
        lasting = self.det.fdi_gap * self.det.interval_s_
        memory = st.sequential.lag_memory_s if st.sequential.lagged_cross_[j] else np.inf
        ends = [e for s, e in st.process_spans if e - s >= lasting and s <= ev.began[j] <= e]
        return max(ends) + memory if ends else None

    @staticmethod
    def _isolate(st: _AssetStream, ev: _FdiEvent) -> tuple[int, tuple[str, str] | None]:
        """(most likely forged sensor, None if it alone explains the event and stays a plausible
        reading, else the consistency model's (kind, reason))."""
        windows = np.stack(ev.windows)
        j, _ = st.model.isolate(windows, np.flatnonzero([bool(x) for x in ev.stats]))
        seen = ev.seen[j]
        extremes = (float(ev.low[j]), float(ev.high[j])) if seen else None
        return j, st.model.single_sensor(windows, j, extremes=extremes, frozen_share=ev.repeats[j] / seen if seen else None)

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
            out.extend(self._close_sequential(asset, st))
        if self.traffic is not None:
            out.extend(self.traffic.flush())
        return out

    def tick(self, now: float) -> list[SecurityEvent]:
        return [] if self.traffic is None else self.traffic.tick(now)
