"""The detector side of containment: finite readings so extreme that a model's arithmetic
overflows are scored as infinitely anomalous, never an exception (real Gaussian detector)."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector


@pytest.fixture(scope="module")
def fitted():
    plant = simulate_plant(PlantConfig(n_assets=1, days=0.5, seed=3, fault_rate=0, drop_rate=0, outage_rate=0))
    series = series_from_frame(plant.wide(plant.assets()[0]))
    return AnomalyDetector(generator=GaussianBaseline(), window=8).fit(series), series


def test_only_the_overflowing_window_scores_inf(fitted):
    detector, series = fitted
    windows = np.stack([series.values[i : i + 8] for i in range(3)])
    normal = detector.window_scores(windows)
    windows[1, 3, :] = 1e308
    scores = detector.window_scores(windows)
    assert np.isposinf(scores[1]) and np.allclose(scores[[0, 2]], normal[[0, 2]])


def test_the_stream_flags_an_extreme_reading_and_goes_on(fitted):
    detector, series = fitted
    scorer = detector.stream()
    for row in series.values[:7]:
        scorer.update(row)
    extreme = series.values[7].copy()
    extreme[2] = 1e308
    result = scorer.update(extreme)
    assert result.flag and np.isposinf(result.score) and result.top_sensors[0] == scorer.channels[2]
    for row in series.values[8:30]:  # once the extreme reading has left the window, scores are finite again
        result = scorer.update(row)
    assert np.isfinite(result.score)


def test_infinite_readings_stay_an_error(fitted):
    detector, series = fitted
    row = series.values[0].copy()
    row[0] = np.inf
    with pytest.raises(ValueError, match="infinite"):
        detector.stream().update(row)
