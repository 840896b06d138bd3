"""The consistency model judges regime switches against thresholds of their own.

A pump makes a handful of setpoint steps a day; the quarter of its history held out to calibrate
may hold none of them, so a routine switch used to sit above the steady thresholds and come out
as a process event. Moving windows (several sensors stepping together) are now calibrated out of
fold on every switch of the history; a forged reading moves one sensor and stays on the steady
thresholds.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest

from geniot.data.simulate import simulate_attacked
from geniot.data.windows import make_windows
from geniot.security import SecurityDetector, messages_from_frame

HISTORY_DAYS = 1.5


@pytest.fixture(scope="module")
def clean_plant():
    plant, _, history = simulate_attacked(n_assets=2, days=1.5, seed=3, history_days=HISTORY_DAYS, attacks=(), fault_rate=0.0)
    det = SecurityDetector(sequential=False).fit(messages_from_frame(history.messages)[0])
    return plant, det


def _test_windows(plant, model, asset):
    first = int(round(HISTORY_DAYS * 1440))
    values = plant.wide(asset)[model.channels_].to_numpy()
    setpoint = plant.labels.loc[plant.labels["asset"] == asset, "speed_setpoint_rpm"].to_numpy()
    windows = make_windows(values[first:], model.window)
    ends = first + model.window - 1 + np.arange(len(windows))
    steps = first + np.flatnonzero(np.abs(np.diff(setpoint[first:])) > 20) + 1
    at_step = np.zeros(len(windows), dtype=bool)
    for s in steps:
        at_step |= (ends >= s) & (ends < s + model.window)
    return windows, at_step


def test_moving_windows_are_the_regime_switches_and_never_one_sensor(clean_plant):
    plant, det = clean_plant
    for asset, model in det.assets_.items():
        windows, at_step = _test_windows(plant, model, asset)
        moving = model.moving(windows)
        assert at_step.any()
        assert moving[at_step].mean() >= 0.9, asset
        assert moving[~at_step].mean() <= 0.03, asset
        steady = windows[~moving & ~np.isnan(windows).any(axis=(1, 2))][:50].copy()
        steady[:, model.window // 2 :, 0] += 1000 * model.change_scale_[0]  # one forged sensor, however far
        assert not model.moving(steady).any()


def test_settling_covers_the_half_hour_after_a_switch():
    from geniot.security.consistency import ConsistencyModel

    model = ConsistencyModel(window=8)
    moving = np.zeros(100, dtype=bool)
    moving[[10, 11, 60]] = True
    settling = model.settling(moving)
    assert model.settle_steps == 32
    assert not settling[:10].any() and settling[10:44].all() and not settling[44:60].any()
    assert settling[60:93].all() and not settling[93:].any()


def test_routine_switches_are_not_flagged_while_the_steady_thresholds_would_flag_them(clean_plant):
    plant, det = clean_plant
    before = after = 0
    for asset, model in det.assets_.items():
        windows, _ = _test_windows(plant, model, asset)
        moving = model.moving(windows)
        joint, z = model.score(windows)
        steady_only = copy.copy(model)
        steady_only.moving_joint_threshold_, steady_only.moving_z_threshold_ = model.joint_threshold_, model.z_threshold_
        settling = model.settling(moving)
        assert model.moving_joint_threshold_ >= model.joint_threshold_ and model.moving_z_threshold_ >= model.z_threshold_
        before += int(steady_only.flags(joint, z, settling)[settling].sum())
        after += int(model.flags(joint, z, settling)[settling].sum())
        # steady windows keep the steady thresholds exactly
        assert np.array_equal(model.flags(joint, z, settling)[~settling], steady_only.flags(joint, z, settling)[~settling])
    assert before >= 20  # the steady thresholds flag the switches of this plant ...
    assert after <= before // 5  # ... their own thresholds hardly any


def test_saved_detector_keeps_the_moving_thresholds(clean_plant, tmp_path):
    _, det = clean_plant
    back = SecurityDetector.load(det.save(tmp_path / "sec"))
    for asset, model in det.assets_.items():
        loaded = back.assets_[asset]
        assert loaded.moving_z_threshold_ == model.moving_z_threshold_
        assert loaded.moving_joint_threshold_ == model.moving_joint_threshold_
        np.testing.assert_array_equal(loaded.change_scale_, model.change_scale_)
