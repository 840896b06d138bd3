"""AnomalyDetector on simulated pumps: injected faults found and attributed, calibration from
normal data only, streaming equal to batch, persistence, and clear errors."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import ArtifactError, CapabilityError, DataError, NotFittedError
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector, group_events
from geniot.tasks.thresholds import calibrate_threshold

HALF = 1440  # one day of minute readings


@pytest.fixture(scope="module")
def plant():
    kw = dict(
        n_assets=1, days=3, seed=1, drop_rate=0.002, outage_rate=0, degrading_fraction=0,
        faults=("cavitation", "spikes", "stuck_sensor", "sensor_drift"),
    )  # fmt: skip
    clean = simulate_plant(PlantConfig(fault_rate=0, **kw))
    faulty = simulate_plant(PlantConfig(fault_rate=10, **kw))
    asset = clean.assets()[0]
    normal = series_from_frame(clean.wide(asset).iloc[:HALF])
    test = series_from_frame(faulty.wide(asset).iloc[HALF:])
    labels = faulty.labels.iloc[HALF:].reset_index(drop=True)
    return normal, test, labels, series_from_frame(clean.wide(asset).iloc[HALF:])


@pytest.fixture(scope="module")
def detector(plant):
    normal = plant[0]
    return AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal)


def _episodes(labels):
    y = labels["anomaly"].to_numpy().astype(bool)
    run = (labels["fault"] != labels["fault"].shift()).cumsum()
    return [(g["fault"].iloc[0], g["fault_signal"].iloc[0], g.index.to_numpy()) for _, g in labels[y].groupby(run[y])]


def test_injected_faults_are_found_and_attributed(plant, detector):
    _, test, labels, _ = plant
    result = detector.detect(test)
    y = labels["anomaly"].to_numpy().astype(bool)
    assert result.flags[~y].mean() < 0.1  # few false alarms on normal rows
    found = {}
    for fault, signal, rows in _episodes(labels):
        hit = result.flags[rows].mean()
        found.setdefault(fault, []).append(hit)
        if fault == "spikes" and hit > 0:
            events = [e for e in result.events if e.start <= rows[-1] and e.end >= rows[0]]
            assert events and events[0].top_sensors[0] == signal
    assert min(found["cavitation"]) > 0.8
    assert np.mean(np.array(found["spikes"]) > 0) > 0.8
    # Attribution: the flagged rows of the speed sensor's drift name it first.
    drift = [rows for fault, signal, rows in _episodes(labels) if fault == "sensor_drift" and signal == "speed_rpm"]
    flagged = [r for r in drift[0] if result.flags[r]]
    assert flagged and np.mean([result.top_sensors[r][0] == "speed_rpm" for r in flagged]) > 0.8


def test_normal_data_stays_mostly_quiet(plant, detector):
    clean_test = plant[3]
    result = detector.detect(clean_test)
    assert result.flags.mean() < 0.05


def test_threshold_comes_from_normal_scores_only(plant, detector):
    assert "peaks over threshold" in detector.threshold_.rule or "largest" in detector.threshold_.rule
    rng = np.random.default_rng(0)
    scores = rng.gumbel(size=5000)
    t = calibrate_threshold(scores, "pot", risk=1e-3)
    fresh = rng.gumbel(size=200_000)
    assert 2e-4 < (fresh > t.value).mean() < 3e-3
    q = calibrate_threshold(scores, "quantile", quantile=0.99)
    assert q.value == pytest.approx(np.quantile(scores, 0.99))
    assert calibrate_threshold(scores, 4.2).value == 4.2
    few = calibrate_threshold(scores[:50], "pot")
    assert few.value == scores[:50].max() and "largest" in few.rule


def test_streaming_equals_batch_and_is_bounded(plant, detector):
    _, test, _, _ = plant
    batch = detector.detect(test)
    scorer = detector.stream()
    out = [scorer.update(row) for row in test.values[:300]]
    assert all(o is None for o in out[: detector.generator_.n_steps_ - 1])
    got = np.array([o.score for o in out[detector.generator_.n_steps_ - 1 :]])
    np.testing.assert_allclose(got, batch.scores[detector.generator_.n_steps_ - 1 : 300], rtol=1e-9)
    assert [o.flag for o in out[7:]] == list(batch.flags[7:300])
    assert len(scorer._readings) == detector.generator_.n_steps_
    with pytest.raises(DataError, match="must have 8 values"):
        scorer.update(np.zeros(3))


def test_smoothing_and_centre_alignment(plant):
    normal, test, _, _ = plant
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, smoothing=5, align="center").fit(normal)
    raw = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal)
    s_raw = raw.anomaly_score(test)
    s = det.anomaly_score(test)
    # centred: step i takes window i - 4; smoothed over 5 windows
    win = s_raw[7:]  # window k's raw score sits at step k + 7 under end alignment
    k = 100
    assert s[k] == pytest.approx(np.mean(win[k - 4 - 4 : k - 4 + 1]))
    scorer = det.stream()
    with pytest.raises(DataError):
        AnomalyDetector(generator=GaussianBaseline(), align="middle").fit(normal)
    assert scorer.window == 8


def test_save_and_load_give_the_same_results(plant, detector, tmp_path):
    _, test, _, _ = plant
    detector.save(tmp_path / "det")
    again = AnomalyDetector.load(tmp_path / "det")
    a, b = detector.detect(test), again.detect(test)
    np.testing.assert_array_equal(a.scores, b.scores)
    np.testing.assert_array_equal(a.flags, b.flags)
    assert again.threshold_ == detector.threshold_
    with pytest.raises(ArtifactError, match="detector.json"):
        AnomalyDetector.load(tmp_path / "nothing")


def test_gaps_in_the_data_are_scored_not_rejected(plant, detector):
    _, test, _, _ = plant
    values = test.values.copy()
    values[100:140] = np.nan  # an outage longer than the window
    result = detector.detect(test.with_values(values))
    assert np.isnan(result.scores[107:140]).all() and not result.flags[107:140].any()
    assert np.isfinite(result.scores[200:]).all()


def test_bad_inputs_and_capabilities(plant, detector):
    normal, test, _, _ = plant
    with pytest.raises(DataError, match="missing"):
        detector.detect(test.select(list(test.channels[:-1])))
    with pytest.raises(DataError, match="fewer than the model's window"):
        detector.detect(test.values[:5])
    with pytest.raises(NotFittedError):
        AnomalyDetector(generator=GaussianBaseline()).detect(test)
    pytest.importorskip("torch")
    from geniot.models.gan import WGANGenerator

    with pytest.raises(CapabilityError, match="no likelihood"):
        AnomalyDetector(generator=WGANGenerator()).validate()


def test_group_events_merges_and_filters():
    flags = np.array([0, 1, 1, 0, 1, 0, 0, 0, 1, 0], dtype=bool)
    scores = np.arange(10, dtype=float)
    z = np.zeros((10, 2))
    z[:, 1] = 1.0
    ev = group_events(flags, scores, channel_z=z, channels=["a", "b"], merge_gap=1)
    assert [(e.start, e.end, e.peak) for e in ev] == [(1, 4, 4), (8, 8, 8)]
    assert ev[0].top_sensors == ("b",)
    assert group_events(flags, scores, min_steps=2)[0].n_steps == 2
    assert group_events(np.zeros(5, bool), np.zeros(5)) == []


def test_scores_frame_has_one_row_per_input_row(plant, detector):
    _, test, _, _ = plant
    frame = detector.detect(test).to_frame()
    assert len(frame) == test.n_steps
    assert list(frame.columns) == ["timestamp", "score", "threshold", "flag", "top_sensors", "reason"]
    assert pd.api.types.is_integer_dtype(frame["flag"])


def test_debounce_fills_short_gaps_and_drops_short_runs():
    from geniot.tasks import debounce

    f = np.array([1, 0, 1, 1, 0, 0, 0, 1, 0, 1, 1, 1, 1], dtype=bool)
    assert debounce(f, 1, 1).astype(int).tolist() == [1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1]
    assert debounce(f, 0, 3).astype(int).tolist() == [0] * 9 + [1, 1, 1, 1]


def test_min_event_steps_cleans_detect_flags(plant):
    normal, test, _, _ = plant
    raw = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal).detect(test)
    clean = AnomalyDetector(generator=GaussianBaseline(), window=8, min_event_steps=20).fit(normal).detect(test)
    assert clean.flags.sum() < raw.flags.sum()
    assert all(e.n_steps >= 20 for e in clean.events)
    assert not (clean.flags & ~raw.flags).any()


def test_given_operating_conditions_are_scored_as_conditions_and_never_named():
    """``given`` channels are conditions: the score is -log p(rest | given), and attribution never
    names them; a window whose other sensors break their relation to the given one is flagged."""
    from geniot.data.simulate import PlantConfig, simulate_plant
    from geniot.models import GaussianBaseline
    from geniot.tasks import AnomalyDetector

    plant = simulate_plant(PlantConfig(n_assets=1, days=2, seed=5, fault_rate=0, drop_rate=0, outage_rate=0))
    series = series_from_frame(plant.wide(plant.assets()[0]))
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, given=["speed_rpm"]).fit(series.head(1440))
    joint = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(series.head(1440))
    w = np.stack([series.values[i : i + 8] for i in range(1500, 1600, 10)])
    # -log p(rest | speed) = -log p(all) + log p(speed): checked against the joint model's own scores
    only_speed = np.where(np.arange(w.shape[2]) == series.channels.index("speed_rpm"), w, np.nan)
    expected = det.generator_.score_samples(only_speed) - det.generator_.score_samples(w)
    np.testing.assert_allclose(det.window_scores(w), expected, rtol=1e-9)
    broken = series.values.copy()
    flow = series.channels.index("flow_m3h")
    broken[2000:2030, flow] *= 0.5  # the pump no longer delivers what its speed says
    result = det.detect(broken)
    assert result.flags[2005:2030].mean() > 0.8
    assert all("speed_rpm" not in top for top in result.top_sensors)
    assert joint.given is None and det.given == ["speed_rpm"]
