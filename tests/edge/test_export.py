"""ONNX export of a Gaussian detector: the scorer gives the server's window scores, and edge.json
carries the model's channel names and units from its training record."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geniot.core.exceptions import CapabilityError, DataError
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import train_asset_detector

ort = pytest.importorskip("onnxruntime")
from geniot.edge.export import META, SCORER, export_detector  # noqa: E402

RNG = np.random.default_rng(1)
T = np.arange(600)
VALUES = np.column_stack([np.sin(T / 11), np.cos(T / 5), np.sin(T / 11) * 2]) + 0.05 * RNG.normal(size=(600, 3))
SERIES = SensorSeries(timestamps=None, values=VALUES, channels=("flow", "pressure", "power"),
                      units={"flow": "m3/h", "pressure": "bar", "power": "kW"}, asset="P-1")


@pytest.fixture(scope="module")
def detector():
    return train_asset_detector(SERIES, "P-1", detector=AnomalyDetector(window=8), seed=0)


def test_the_onnx_scorer_gives_the_servers_window_scores(detector, tmp_path):
    meta = export_detector(detector, tmp_path / "edge")
    session = ort.InferenceSession(str(tmp_path / "edge" / SCORER), providers=["CPUExecutionProvider"])
    windows = make_windows(VALUES[-100:] * np.array([1.0, 1.0, 1.3]), 8)  # some of them off
    onnx_scores = np.array([session.run(["score"], {"x": w[None]})[0][0] for w in windows])
    np.testing.assert_allclose(onnx_scores, detector.window_scores(windows), rtol=1e-4, atol=1e-4)
    assert meta["threshold"] == pytest.approx(detector.threshold_.value)


def test_edge_json_names_the_channels_and_units_of_the_record(detector, tmp_path):
    export_detector(detector, tmp_path / "edge")
    meta = json.loads((tmp_path / "edge" / META).read_text())
    assert meta["channels"] == ["flow", "pressure", "power"] and meta["window"] == 8
    assert meta["units"] == {"flow": "m3/h", "pressure": "bar", "power": "kW"}


def test_what_the_edge_cannot_score_is_refused(tmp_path):
    with pytest.raises(DataError, match="not fitted"):
        export_detector(AnomalyDetector(generator=GaussianBaseline()), tmp_path / "x")
    given = AnomalyDetector(generator=GaussianBaseline(), window=8, given=["flow"]).fit(SERIES)
    with pytest.raises(CapabilityError, match="given operating conditions"):
        export_detector(given, tmp_path / "y")
