"""The stuck-sensor rule in the default detector: the simulator's stuck sensors are flagged (a
frozen value is well explained by its own past, so the step score alone passes them), named,
with the reason, in batch and streaming alike; a quantised sensor that repeats its readings on
normal data is not flagged; the rule is saved with the detector and learned from the windows
`geniot fit` keeps to calibrate."""

import json

import numpy as np
import pandas as pd
import pytest

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.windows import make_windows
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.detector import DETECTOR_FILE
from geniot.tasks.flatline import StuckRule, join_windows

DAY = 288  # readings of a day at 5 minutes


def _plant(**kw):
    base = dict(n_assets=1, days=8, interval_s=300, seed=4, drop_rate=0.01, outage_rate=0, degrading_fraction=0)
    return simulate_plant(PlantConfig(**{**base, **kw}))


@pytest.fixture(scope="module")
def stuck_plant():
    plant = _plant(faults=("stuck_sensor",), fault_rate=12)
    frame, labels = plant.wide("P-1"), plant.labels.reset_index(drop=True)
    normal = frame.iloc[: 3 * DAY].copy()
    bad = labels["anomaly"].to_numpy()[: 3 * DAY] != 0
    normal.loc[bad, normal.columns[1:]] = np.nan  # faulty rows are not normal data
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step").fit(series_from_frame(normal))
    test = series_from_frame(frame.iloc[3 * DAY :].reset_index(drop=True))
    return det, test, labels.iloc[3 * DAY :].reset_index(drop=True)


def _episodes(labels, fault):
    y = (labels["fault"] == fault).to_numpy()
    run = (labels["fault"] != labels["fault"].shift()).cumsum()
    return [(g["fault_signal"].iloc[0], g.index.to_numpy()) for _, g in labels[y].groupby(run[y])]


def test_the_simulators_stuck_sensors_are_flagged_named_and_explained(stuck_plant):
    det, test, labels = stuck_plant
    episodes = _episodes(labels, "stuck_sensor")
    assert len(episodes) >= 3
    result = det.detect(test)
    likelihood_only = det.clone().set_params(stuck=False)  # the same detector without the rule
    likelihood_only.__dict__.update({k: v for k, v in det.__dict__.items() if k.endswith("_")})
    likelihood_only.stuck_rule_ = None
    before = likelihood_only.detect(test)
    limit = det.stuck_rule_.limit_
    checked = 0
    for signal, rows in episodes:
        j = test.channels.index(signal)
        assert limit[j] > 0
        read = rows[~np.isnan(test.values[rows, j])]  # a dropped reading neither moves nor holds a run
        late = read[limit[j] + 1 :]  # from the reading at which the run passed the limit
        if not len(late):
            continue  # held no longer than a sensor may sit still normally: not a stuck sensor yet
        checked += 1
        assert result.flags[late].all(), signal
        assert all(result.top_sensors[r][0] == signal for r in late)
        held = test.values[read[0], j]
        assert result.reasons[late[-1]].startswith(f"stuck: {signal} held {held:.4g} for ")
        event = next(e for e in result.events if e.start <= late[-1] <= e.end)
        assert event.top_sensors[0] == signal
        minutes = round((test.timestamps[late[-1]] - test.timestamps[read[0]]) / np.timedelta64(1, "m"))
        assert f"stuck: {signal} held {held:.4g} for {minutes} min" in result.event_reason(event)
    assert checked >= 3
    stuck_rows = np.concatenate([rows for _, rows in episodes])
    assert result.flags[stuck_rows].mean() > before.flags[stuck_rows].mean() + 0.5  # what the rule adds
    normal = labels["anomaly"].to_numpy() == 0
    assert not det.stuck_flags(test.values)[normal].any()  # no normal reading is called stuck
    np.testing.assert_array_equal(result.raw_flags, result.flags)  # no events kept or bridged: the same
    bridged = det.clone().set_params(min_event_steps=3)
    bridged.__dict__.update({k: v for k, v in det.__dict__.items() if k.endswith("_")})
    kept = bridged.detect(test)
    assert kept.raw_flags[stuck_rows].sum() == result.flags[stuck_rows].sum()  # what a history scan groups into events
    frame = result.to_frame()
    assert frame["reason"].str.startswith("stuck: ").sum() == int((np.array(result.reasons) != "").sum()) > 0


def test_streaming_flags_and_explains_stuck_sensors_as_detect_does(stuck_plant):
    det, test, _ = stuck_plant
    batch = det.detect(test)
    live = det.stream(asset="P-1")
    t = det.generator_.n_steps_
    got = [live.update(dict(zip(test.channels, row, strict=True)), ts) for row, ts in zip(test.values, test.timestamps, strict=True)]
    assert all(g is None for g in got[: t - 1])
    flags = np.array([g.flag for g in got[t - 1 :]])
    np.testing.assert_array_equal(flags, batch.flags[t - 1 :])
    assert [g.reason for g in got[t - 1 :]] == batch.reasons[t - 1 :]
    assert [g.top_sensors for g in got[t - 1 :]] == batch.top_sensors[t - 1 :]


def test_a_quantised_sensor_that_repeats_on_normal_data_is_not_flagged_but_a_held_one_is():
    plant = _plant(faults=(), fault_rate=0, seed=5, days=6)
    frame = plant.wide("P-1")
    frame["bearing_temp_c"] = frame["bearing_temp_c"].round(0)  # a 1-degree sensor: it repeats for hours
    normal, test = frame.iloc[: 3 * DAY], frame.iloc[3 * DAY :].reset_index(drop=True).copy()
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step").fit(series_from_frame(normal))
    rule, j = det.stuck_rule_, list(frame.columns[1:]).index("bearing_temp_c")
    assert rule.longest_normal_[j] > 6 * np.median(rule.longest_normal_)  # it does repeat, normally
    clean = det.stuck_flags(series_from_frame(test).values)
    assert not clean[:, j].any()  # its normal repeats are not "stuck"
    if rule.limit_[j] > 0:  # judged: held for longer than it ever repeats normally, it is stuck
        start, stop = 100, 100 + rule.limit_[j] + 20
        test.loc[start:stop, "bearing_temp_c"] = test.loc[start, "bearing_temp_c"]
        held = det.stuck_flags(series_from_frame(test).values)[:, j]
        assert held[start + rule.limit_[j] + 1 : stop + 1].all() and not held[:start].any()


def test_the_rule_is_saved_and_a_detector_saved_before_it_loads_without_it(stuck_plant, tmp_path):
    det, test, _ = stuck_plant
    det.save(tmp_path / "m")
    again = AnomalyDetector.load(tmp_path / "m")
    np.testing.assert_array_equal(again.stuck_rule_.limit_, det.stuck_rule_.limit_)
    np.testing.assert_array_equal(again.detect(test).flags, det.detect(test).flags)
    state = json.loads((tmp_path / "m" / DETECTOR_FILE).read_text())
    del state["stuck_rule_"]
    (tmp_path / "m" / DETECTOR_FILE).write_text(json.dumps(state))
    old = AnomalyDetector.load(tmp_path / "m")
    assert old.stuck_rule_ is None and old.stuck_flags(test.values) is None


def test_calibrating_on_windows_learns_the_rule_from_the_series_they_were_cut_from(stuck_plant):
    det, test, _ = stuck_plant
    x = test.values[:400]
    for stride in (1, 3):
        windows = make_windows(x, 8)[::stride]
        joined = join_windows(windows)
        assert len(joined) == 1
        np.testing.assert_array_equal(joined[0], x[: len(joined[0])], strict=True)
        assert len(joined[0]) > len(x) - stride - 1
    two = join_windows(np.concatenate([make_windows(x[:100], 8), make_windows(x[200:300], 8)]))
    assert [len(s) for s in two] == [100, 100]
    from_series = StuckRule().fit([x[:100], x[200:300]])
    cal = AnomalyDetector(generator=det.generator_, prefit=True, score="step")
    cal.calibrate_windows(make_windows(x[:100], 8), stuck_windows=make_windows(x[200:300], 8))
    np.testing.assert_array_equal(cal.stuck_rule_.limit_, from_series.limit_)


def test_operating_conditions_and_signals_that_sit_still_are_not_judged():
    rng = np.random.default_rng(0)
    n = 600
    setpoint = np.repeat([1000.0, 1200.0, 900.0], n // 3)  # held for 200 readings at a time
    x = np.c_[setpoint, setpoint / 10 + rng.normal(size=n), rng.normal(size=n)]
    rule = StuckRule().fit([x])
    assert rule.limit_[0] == 0 and rule.limit_[1] > 0 and rule.limit_[2] > 0  # still most of the time: not judged
    assert StuckRule().fit([x], skip=[2]).limit_[2] == 0
    frame = pd.DataFrame(x, columns=["speed_set", "flow", "noise"])
    frame.insert(0, "timestamp", pd.date_range("2026-01-01", periods=n, freq="min"))
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, given=["flow"]).fit(series_from_frame(frame))
    assert det.stuck_rule_.limit_[1] == 0  # a given operating condition is never "the sensor"
