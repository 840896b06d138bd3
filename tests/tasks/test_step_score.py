"""score="step": a step is judged by what the steps before it do not explain, so a change of
operating regime counts once instead of in every window it lies in (issue 19's false-alarm bound)."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.simulate import simulate_plant
from geniot.data.splits import interleaved_holdout
from geniot.data.windows import make_windows
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.detector import anomaly_scores

WINDOW = 24


@pytest.fixture(scope="module")
def pump():
    """Seed 4: two days, regime changes, no faults; the whole-window score flags its two big
    high-to-low changes (about 1.7% of the rows) when calibrated on blocks without them."""
    plant = simulate_plant(n_assets=1, days=2, seed=4, fault_rate=0.0)
    frame = plant.wide("P-1")
    values = frame.drop(columns="timestamp").to_numpy(dtype=np.float64)
    windows = make_windows(values, WINDOW)
    keep, held = interleaved_holdout(len(windows), 0.2, gap=WINDOW)
    model = GaussianBaseline().fit(windows[keep])
    return values, windows[held], model


def detector(model, calibration, score):
    return AnomalyDetector(generator=model, prefit=True, score=score).calibrate_windows(calibration)


def test_regime_changes_stay_under_one_percent_with_step_scores(pump):
    values, calibration, model = pump
    step = detector(model, calibration, "step").detect(values).flags.mean()
    window = detector(model, calibration, "window").detect(values).flags.mean()
    assert step <= 0.01 < window, (step, window)


def test_step_score_is_the_last_step_given_the_others(pump):
    values, calibration, model = pump
    windows = make_windows(values, WINDOW)[:50]
    past = windows.copy()
    past[:, -1, :] = np.nan
    got = detector(model, calibration, "step").window_scores(windows)
    np.testing.assert_allclose(got, anomaly_scores(model, windows) - anomaly_scores(model, past))
    unread = windows.copy()
    unread[3, -1, :] = np.nan  # nothing read at the judged step: no score, not a zero
    scores = detector(model, calibration, "step").window_scores(unread)
    assert np.isnan(scores[3]) and np.isfinite(np.delete(scores, 3)).all()


def test_step_scores_are_saved_refuse_center_alignment_and_export_to_the_edge(pump, tmp_path):
    _, calibration, model = pump
    det = detector(model, calibration, "step")
    det.save(tmp_path / "d")
    assert AnomalyDetector.load(tmp_path / "d").score == "step"
    with pytest.raises(DataError, match="align='end'"):
        AnomalyDetector(generator=model, prefit=True, score="step", align="center").calibrate_windows(calibration)
    with pytest.raises(DataError, match="score must be"):
        AnomalyDetector(generator=model, prefit=True, score="row").calibrate_windows(calibration)
    pytest.importorskip("onnx")
    from geniot.edge.export import export_detector

    assert export_detector(det, tmp_path / "edge")["score"] == "step"  # parity: tests/edge/test_step_export.py
