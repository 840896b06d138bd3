"""SecurityDetector on the simulated plant: attacks found with the right kind, faults not called
attacks, clean data quiet, save/load exact, bad logs refused in words."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.simulate import simulate_attacked
from geniot.security import SecurityDetector, events_frame, messages_from_frame

ATTACKS = ("fdi", "replay", "flood", "silence", "spoof", "stale")
TOL = pd.Timedelta(minutes=10)


def overlapping(events: pd.DataFrame, label) -> pd.DataFrame:
    lo, hi = pd.Timestamp(label.start) - TOL, pd.Timestamp(label.end) + TOL
    return events[(events["asset"] == label.asset) & (events["start"] <= hi) & (events["end"] >= lo)]


@pytest.fixture(scope="module")
def fitted():
    _, attacked, history = simulate_attacked(n_assets=2, days=1.5, seed=3, history_days=1.5, attacks=ATTACKS)
    normal, _ = messages_from_frame(history.messages)
    return SecurityDetector().fit(normal), attacked


@pytest.fixture(scope="module")
def detected(fitted):
    det, attacked = fitted
    msgs, _ = messages_from_frame(attacked.messages)
    return events_frame(det.detect(msgs)), attacked.labels


def test_every_attack_is_found_as_an_attack_of_its_type(detected):
    events, labels = detected
    attacks = labels[labels["kind"] == "attack"]
    assert set(attacks["type"]) == set(ATTACKS)  # every type was placed
    for label in attacks.itertuples():
        hits = overlapping(events, label)
        assert len(hits), f"{label.type} on {label.asset} at {label.start} not detected"
        assert (hits["kind"] != "process").any(), f"{label.type} on {label.asset} called a process fault: {hits.to_dict('records')}"
        assert label.type in set(hits["attack"]), f"{label.type} reported as {set(hits['attack'])}"


def test_events_carry_reasons_and_detection_times(detected):
    events, _ = detected
    assert set(events["kind"]) <= {"process", "integrity", "traffic"}
    assert (events["reason"].str.len() > 20).all()
    assert (events["detected_at"] >= events["start"]).all()


def test_clean_data_raise_fewer_alarms_than_the_process_detector_and_no_attack_without_sequential_tests(fitted):
    # The default's sequential tests trade rare false FDI alarms for finding stealthy forgeries;
    # the target (issue 17) is no more false alarms than the process detector on the same data.
    from geniot.data.simulate import SIGNALS
    from geniot.models.gaussian import GaussianBaseline
    from geniot.tasks import AnomalyDetector

    det, _ = fitted
    plant, clean, history = simulate_attacked(n_assets=2, days=1.5, seed=3, history_days=1.5, attacks=(), fault_rate=0.0)
    msgs, _ = messages_from_frame(clean.messages)
    events = events_frame(det.detect(msgs))
    first = int(round(1.5 * 86400 / 60))
    process = 0
    for asset in plant.assets():
        wide = plant.wide(asset)[list(SIGNALS)].to_numpy()
        process += len(AnomalyDetector(generator=GaussianBaseline(), window=8).fit(wide[:first]).detect(wide[first:]).events)
    assert len(events) <= process, (len(events), process, events.to_dict("records"))
    alone = SecurityDetector(sequential=False).fit(messages_from_frame(history.messages)[0])
    attacks = events_frame(alone.detect(msgs))
    attacks = attacks[attacks["kind"] != "process"]
    assert attacks.empty, attacks.to_dict("records")


def test_process_faults_are_called_process_faults(fitted):
    det, _ = fitted
    _, faulty, _ = simulate_attacked(n_assets=2, days=1.5, seed=3, history_days=1.5, attacks=(), fault_rate=20.0,
                                     faults=("cavitation", "bearing_wear"))  # fmt: skip
    labels = faulty.labels
    assert len(labels) >= 2 and set(labels["kind"]) == {"fault"}
    msgs, _ = messages_from_frame(faulty.messages)
    events = events_frame(det.detect(msgs))
    found = 0
    for label in labels.itertuples():
        hits = overlapping(events, label)
        found += bool(len(hits))
        assert (hits["kind"] == "process").all(), f"{label.type} called {hits[['kind', 'attack', 'reason']].to_dict('records')}"
    assert found >= len(labels) // 2


def test_save_load_gives_the_same_events(fitted, detected, tmp_path):
    det, attacked = fitted
    det.save(tmp_path / "g")
    assert not list((tmp_path / "g").rglob("*.pkl"))
    again = SecurityDetector.load(tmp_path / "g")
    msgs, _ = messages_from_frame(attacked.messages)
    pd.testing.assert_frame_equal(events_frame(again.detect(msgs)), detected[0])


def test_streaming_one_message_at_a_time_matches_offline(fitted, detected):
    det, attacked = fitted
    msgs, _ = messages_from_frame(attacked.messages)
    stream = det.stream()
    events = []
    for m in msgs:
        events.extend(stream.update(m))
    events.extend(stream.flush())
    pd.testing.assert_frame_equal(events_frame(events), detected[0])
    assert stream.counts["kept_out"] > 0  # spoofed and stale messages never reach the process view


def test_a_log_missing_a_traffic_column_is_refused_by_name(fitted):
    _, attacked = fitted
    broken = attacked.messages.drop(columns="received_at")
    with pytest.raises(DataError, match="received_at"):
        messages_from_frame(broken, source="p.csv")
    bad = attacked.messages.copy()
    bad["received_at"] = bad["received_at"].astype(str)
    bad.loc[5, "received_at"] = "yesterday-ish"
    with pytest.raises(DataError, match="yesterday-ish"):
        messages_from_frame(bad, source="p.csv")


def test_fdi_stays_within_the_sensor_limits():
    plant, attacked, _ = simulate_attacked(n_assets=2, days=1.5, seed=3, history_days=0.0, attacks=("fdi",), per_type=2)
    for ep in attacked.episodes:
        clean = plant.wide(ep.asset)[ep.signal].to_numpy()
        log = attacked.messages
        forged = log[(log["asset"] == ep.asset) & (log["signal"] == ep.signal)]["value"].to_numpy()
        assert np.nanmin(clean) - 1e-9 <= forged.min() and forged.max() <= np.nanmax(clean) + 1e-9
