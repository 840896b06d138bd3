"""The one event tracker: offline grouping, one-step-at-a-time tracking, history scans and live
scoring give the same events; a rescan stores nothing twice; a live hand-over keeps one event;
the edge's gap scorer equals the server's Gaussian on windows with dropped readings."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from geniot.core.events import EventTracker, feed_tracker, iso_time, smooth_scores
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.ingest.messages import Reading
from geniot.models.gaussian import GaussianBaseline
from geniot.service.live import LiveMonitor
from geniot.tasks import AnomalyDetector, group_events
from geniot.workflows.history import store_events

ASSET = "P-1"


def _reference_events(flags, scores, merge_gap, min_steps):
    """Runs of flags merged over gaps <= merge_gap, kept if >= min_steps long (written from the
    rule, not from the tracker): (start, end, peak)."""
    idx = np.flatnonzero(flags)
    out, s = [], None
    for k, i in enumerate(idx):
        if s is None:
            s = i
        if k + 1 == len(idx) or idx[k + 1] - i > merge_gap + 1:
            if i - s + 1 >= min_steps:
                seg = np.where(np.isnan(scores[s : i + 1]), -np.inf, scores[s : i + 1])
                out.append((int(s), int(i), int(s + np.argmax(seg))))
            s = None
    return out


def test_offline_and_step_by_step_tracking_follow_the_rule():
    rng = np.random.default_rng(0)
    for _ in range(400):
        n = int(rng.integers(1, 120))
        flags = rng.random(n) < rng.uniform(0.05, 0.8)
        scores = np.where(flags, 1.0 + rng.random(n), rng.random(n))
        scores[rng.random(n) < 0.05] = np.nan
        scores[flags & np.isnan(scores)] = 1.5
        merge_gap, min_steps = int(rng.integers(0, 5)), int(rng.integers(1, 6))
        want = _reference_events(flags, scores, merge_gap, min_steps)
        offline = group_events(flags, scores, merge_gap=merge_gap, min_steps=min_steps)
        assert [(e.start, e.end, e.peak) for e in offline] == want
        tracker = EventTracker(merge_gap=merge_gap, min_steps=min_steps)
        opened, closed = [], []
        for f, s in zip(flags, scores, strict=True):
            for change in tracker.update(bool(f), float(s)):
                (opened if change.kind == "opened" else closed if change.kind == "closed" else []).append(change.event)
        running = tracker.current
        assert [(e.start, e.end, e.peak) for e in [*closed, *([running] if running else [])]] == want
        assert [e.start for e in opened] == [w[0] for w in want]  # each kept event opened once
        assert all(e.n_steps >= min_steps for e in opened)  # ... once it spans min_steps


def test_fast_feeding_equals_one_step_at_a_time():
    rng = np.random.default_rng(1)
    n = 3000
    flags = rng.random(n) < 0.03
    scores = rng.random(n) + flags
    z = rng.normal(size=(n, 4))
    ts = np.datetime64("2026-01-01T00:00") + np.arange(n) * np.timedelta64(60, "s")
    fast = feed_tracker(EventTracker(channels=list("abcd"), merge_gap=4, min_steps=2), flags, scores, channel_z=z, timestamps=ts)
    slow = EventTracker(channels=list("abcd"), merge_gap=4, min_steps=2)
    for i in range(n):
        slow.update(bool(flags[i]), float(scores[i]), z=z[i], time=ts[i])
    assert fast.events() == slow.events() and len(fast.events()) > 10
    assert fast.step == slow.step == n - 1


def test_smoothing_skips_gaps_and_keeps_unscorable_windows():
    raw = np.array([1.0, np.nan, 3.0, np.inf, 2.0, np.nan, np.nan, np.nan, 4.0])
    out = smooth_scores(raw, 3)
    assert out[:3].tolist() == [1.0, 1.0, 2.0]
    assert np.isinf(out[3:6]).all() and np.isnan(out[7]) and out[8] == 4.0
    rng = np.random.default_rng(2)
    raw = rng.normal(size=500)
    raw[rng.random(500) < 0.2] = np.nan
    live = [smooth_scores(raw[max(0, i - 4) : i + 1], 5)[-1] for i in range(500)]  # what a live scorer holds
    np.testing.assert_array_equal(smooth_scores(raw, 5), np.array(live))


def test_times_and_ids_are_the_same_from_every_source():
    from datetime import UTC, datetime

    want = "2026-01-02T03:04:05"
    for t in (np.datetime64(want), datetime(2026, 1, 2, 3, 4, 5), datetime(2026, 1, 2, 4, 4, 5, tzinfo=UTC) - timedelta(hours=1),
              "2026-01-02T04:04:05+01:00", "2026-01-02 03:04:05", pd.Timestamp(want),
              datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()):  # fmt: skip
        assert iso_time(t) == want, t


@pytest.fixture(scope="module")
def plant():
    """One pump: a day to train on, then history with two faults."""
    sim = simulate_plant(PlantConfig(n_assets=1, days=1.5, seed=5, fault_rate=0, drop_rate=0, outage_rate=0, degrading_fraction=0))
    wide = sim.wide(ASSET)
    signals = [c for c in wide.columns if c != "timestamp"]
    train, rest = wide.iloc[:1440], wide.iloc[1440:].reset_index(drop=True).copy()
    std = train[signals].std()
    rest.loc[100:129, "motor_temp_c"] += 8 * std["motor_temp_c"]
    rest.loc[300:339, "flow_m3h"] -= 6 * std["flow_m3h"]
    rest.loc[rest.index[::17], "pressure_bar"] = np.nan  # dropped readings
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8, merge_gap=3, min_event_steps=2)
    detector.fit(series_from_frame(train, asset=ASSET))
    return detector, rest, signals


def _store(path, frame) -> SensorStore:
    store = SensorStore(path)
    store.append(series_from_frame(frame, asset=ASSET))
    return store


def test_scanning_history_twice_stores_each_event_once(plant, tmp_path):
    detector, rest, _ = plant
    store = _store(tmp_path / "s.duckdb", rest)
    series = store.read_wide(ASSET, signals=list(detector.channel_names(detector.generator_.n_channels_)))
    n = store_events(store, ASSET, series, detector)
    first = store.events(ASSET, limit=1000)
    assert n >= 2 and len(first) == n
    assert store_events(store, ASSET, series, detector) == n
    again = store.events(ASSET, limit=1000)
    assert store.count_events() == n and sorted(again["id"]) == sorted(first["id"])
    batch = detector.detect(series)
    assert sorted(again["id"]) == sorted(f"{ASSET}@{e.start_time}" for e in batch.events)


def test_live_scoring_continues_the_event_a_history_scan_left_open(plant, tmp_path):
    """History ends inside a fault: activation stores it open, live readings extend and close it:
    one event, the id the history gave it, as one scan of the whole series has it."""
    detector, rest, signals = plant
    cut = 315  # inside the second fault
    store = _store(tmp_path / "s.duckdb", rest.iloc[:cut])
    live = LiveMonitor(store)
    live.activate(ASSET, detector, "m")
    opened = store.events(ASSET, limit=1000)
    assert opened["is_open"].iloc[0]  # the newest event runs at the hand-over
    open_id = opened["id"].iloc[0]
    tail = rest.iloc[cut : cut + 200]
    assert not tail.iloc[-1].isna().any()  # complete: scored at once
    store.append(series_from_frame(tail, asset=ASSET))
    readings = [Reading(row.timestamp.to_pydatetime(), ASSET, s, float(getattr(row, s)), None)
                for row in tail.itertuples(index=False) for s in signals if not np.isnan(getattr(row, s))]  # fmt: skip
    live.on_stored(readings)
    assert live.status()[ASSET]["scored"] == len(tail)
    stored = store.events(ASSET, limit=1000).set_index("id")
    assert open_id in stored.index and not stored.loc[open_id, "is_open"]
    whole = store.read_wide(ASSET, signals=signals)
    batch = detector.detect(whole)
    want = {f"{ASSET}@{e.start_time}": (e.end_time, ";".join(e.top_sensors)) for e in batch.events}
    got = {i: (r.end_ts.isoformat(), r.top_sensors) for i, r in stored.iterrows()}
    assert got == want
    n = store.count_events()
    store_events(store, ASSET, whole, detector)  # a rescan of what live scored: nothing new
    assert store.count_events() == n


def test_live_scoring_reads_an_outage_as_gaps_as_detect_does(plant, tmp_path):
    """Forty minutes with no readings, in the stored history and again live: the live windows
    hold gaps where the readings are missing, the same windows `detect` cuts from the store."""
    detector, rest, signals = plant
    frame = rest.drop(index=[*range(150, 190), *range(420, 460)]).reset_index(drop=True)
    cut = 340  # the first outage lies in the history, the second (frame rows 379 | 380) arrives live
    store = _store(tmp_path / "s.duckdb", frame.iloc[:cut])
    live = LiveMonitor(store)
    live.activate(ASSET, detector, "m")
    tail = frame.iloc[cut : cut + 150]
    store.append(series_from_frame(tail, asset=ASSET))
    readings = [Reading(row.timestamp.to_pydatetime(), ASSET, s, float(getattr(row, s)), None)
                for row in tail.itertuples(index=False) for s in signals if not np.isnan(getattr(row, s))]  # fmt: skip
    live.on_stored(readings)
    got = {pd.Timestamp(t): score for t, score, *_ in live.recent_scores(ASSET)}
    assert len(got) == len(tail)
    whole = store.read_wide(ASSET, signals=signals)
    batch = detector.detect(whole)
    want = dict(zip(pd.to_datetime(whole.timestamps), batch.scores, strict=True))
    np.testing.assert_allclose([got[t] for t in got], [want[t] for t in got], rtol=1e-9, atol=1e-9)
    back = pd.Timestamp(frame.loc[380, "timestamp"])  # the first reading after the live outage
    assert back in got and got[back] < detector.threshold_.value


def test_the_edge_gap_scorer_equals_the_server_gaussian(plant, tmp_path):
    pytest.importorskip("onnx")
    from geniot.edge.export import export_detector
    from geniot.edge.runtime import EdgeScorer

    detector, rest, signals = plant
    export_detector(detector, tmp_path / "edge")
    gaps = EdgeScorer(tmp_path / "edge").gaps
    values = rest[signals].to_numpy()[:400].copy()
    rng = np.random.default_rng(3)
    values[rng.random(values.shape) < 0.1] = np.nan
    values[50:70, 2] = np.nan
    windows = np.stack([values[i : i + 8] for i in range(0, 390, 7)])
    windows[0] = np.nan  # nothing seen
    for w, want, want_z in zip(windows, detector.window_scores(windows), detector.channel_z(windows), strict=True):
        got, surprise = gaps.score(w)
        if np.isnan(want):
            assert np.isnan(got)
            continue
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9)
        z = (surprise - detector.channel_center_) / detector.channel_scale_
        np.testing.assert_allclose(z, want_z, rtol=1e-7, atol=1e-7)
