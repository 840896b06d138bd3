"""Regime switches are judged against their own threshold, steady windows against theirs: a
one-sensor fault in steady operation that the one threshold over all windows (set by the
switches) passes is flagged, live, in chunks and at the edge exactly as in ``detect``."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.detector import DETECTOR_FILE

DAY = 288  # 5-minute readings


@pytest.fixture(scope="module")
def plant():
    config = PlantConfig(n_assets=1, days=8, interval_s=300, seed=1, drop_rate=0, outage_rate=0, degrading_fraction=0,
                         fault_rate=0, regime_hours=3)  # fmt: skip
    frame = simulate_plant(config).wide("P-1")
    train = series_from_frame(frame.iloc[: 6 * DAY])
    test = series_from_frame(frame.iloc[6 * DAY :].reset_index(drop=True))
    kw = dict(generator=GaussianBaseline(), window=12, score="step", risk=0.01)  # 1/risk = 100 steady windows suffice
    return train, test, AnomalyDetector(**kw).fit(train), AnomalyDetector(**kw, moving=False).fit(train)


def _steady_start(moving: np.ndarray, length: int) -> int:
    run = 0
    for i, m in enumerate(moving):
        run = 0 if m else run + 1
        if run == length:
            return i - length + 1
    raise AssertionError("no steady stretch")


def test_switches_have_their_own_threshold_and_a_steady_fault_is_found(plant):
    train, test, det, one = plant
    assert det.moving_threshold_ is not None and det.moving_threshold_.value > 2 * det.threshold_.value
    assert one.moving_threshold_ is None and one.threshold_.value > 1.5 * det.threshold_.value  # set by the switches
    assert "regime switches" in det.thresholds_text() and "regime switches" not in one.thresholds_text()
    clean = det.detect(test)
    moving = clean.thresholds > clean.threshold
    assert 0.1 < moving.mean() < 0.6  # the plant switches regime every few hours
    np.testing.assert_array_equal(clean.thresholds[moving], det.moving_threshold_.value)
    assert clean.flags.mean() < 0.03  # clean days: about the calibrated risk
    # a bearing-temperature bias of 4 step-spreads in steady operation
    j = test.channels.index("bearing_temp_c")
    start = _steady_start(moving, 60) + 12
    values = test.values.copy()
    values[start : start + 36, j] += 4 * np.nanstd(np.diff(train.values[:, j]))
    faulty = replace(test, values=values)
    found, missed = det.detect(faulty).flags[start : start + 36].mean(), one.detect(faulty).flags[start : start + 36].mean()
    assert found > 0.9 and missed < 0.6


def test_live_and_edge_flag_each_reading_as_detect_does(plant, tmp_path):
    _, test, det, _ = plant
    want = det.detect(test)
    live = det.stream(asset="P-1")
    got = [live.update(row, timestamp=ts) for row, ts in zip(test.values, test.timestamps, strict=True)]
    w = det.generator_.n_steps_
    assert [g.flag for g in got[w - 1 :]] == want.raw_flags[w - 1 :].tolist()
    assert [g.threshold for g in got[w - 1 :]] == want.thresholds[w - 1 :].tolist()
    from geniot.scale import score_history

    chunked = score_history(det, test, chunk_steps=100)  # chunks of a long history, as `geniot fleet` scores
    np.testing.assert_array_equal(chunked.thresholds, want.thresholds)
    np.testing.assert_array_equal(chunked.flags, want.flags)
    pytest.importorskip("onnxruntime")
    from geniot.edge.export import FORMAT_MOVING, export_detector
    from geniot.edge.runtime import EdgeScorer

    meta = export_detector(det, tmp_path / "edge")
    assert meta["format"] == FORMAT_MOVING and meta["moving"]["threshold"] == det.moving_threshold_.value
    edge = EdgeScorer(tmp_path / "edge", asset="P-1")
    flags = [edge.update(dict(zip(test.channels, row, strict=True)), ts=str(ts)) for row, ts in zip(test.values, test.timestamps, strict=True)]
    assert [f["flag"] for f in flags[w - 1 :]] == want.raw_flags[w - 1 :].tolist()


def test_saved_and_loaded_and_a_detector_saved_before_keeps_one_threshold(plant, tmp_path):
    _, test, det, _ = plant
    det.save(tmp_path / "m")
    back = AnomalyDetector.load(tmp_path / "m")
    assert back.moving_threshold_ == det.moving_threshold_
    np.testing.assert_array_equal(back.detect(test).flags, det.detect(test).flags)
    state = json.loads((tmp_path / "m" / DETECTOR_FILE).read_text())
    del state["moving_threshold_"], state["change_scale_"]
    (tmp_path / "m" / DETECTOR_FILE).write_text(json.dumps(state))
    old = AnomalyDetector.load(tmp_path / "m")
    assert old.moving_threshold_ is None and (old.detect(test).thresholds == det.threshold_.value).all()


def test_too_few_steady_windows_for_the_risk_keep_one_threshold(plant):
    train = plant[0]
    det = AnomalyDetector(generator=GaussianBaseline(), window=12, score="step").fit(train)  # risk 1e-3: 1,000 needed
    assert det.moving_threshold_ is None and "regime switches" not in det.thresholds_text()
