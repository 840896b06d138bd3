"""The one "train an asset detector" workflow (service jobs, history scans, fleet, ask)."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.io import series_from_frame
from geniot.data.simulate import simulate_plant
from geniot.models import GaussianBaseline, load_generator
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import (
    history_detector,
    save_asset_detector,
    train_asset_detector,
)


@pytest.fixture(scope="module")
def series():
    plant = simulate_plant(n_assets=1, days=1.0, interval_s=300, seed=2, fault_rate=0.0, outage_rate=0.0, drop_rate=0.0)
    return series_from_frame(plant.wide(plant.assets()[0]), asset="P-1")


def test_it_records_where_the_detector_came_from_and_saves_atomically(series, tmp_path):
    detector = train_asset_detector(series, "P-1", detector=history_detector(), seed=0)
    record = detector.generator_.training_
    assert record.assets == ("P-1",) and record.window == 16 and record.train_rows == series.n_steps
    assert record.seed == 0 and record.calibration == detector.calibration_fraction
    assert detector.generator_.channel_names_ == series.channels
    out = save_asset_detector(detector, tmp_path / "P-1-gaussian")
    assert not (tmp_path / "P-1-gaussian.tmp").exists()
    assert load_generator(out).training_ == record


def test_it_fits_what_a_direct_fit_fits(series):
    template = history_detector()
    direct = template.clone().set_params(generator=GaussianBaseline()).fit(series)
    via = train_asset_detector(series, "P-1", detector=template, seed=0)
    assert not hasattr(template, "generator_")  # the template itself stays unfitted
    assert via.threshold_ == direct.threshold_
    np.testing.assert_array_equal(via.anomaly_score(series), direct.anomaly_score(series))


def test_the_first_days_only_and_errors_that_name_the_asset(series):
    half = train_asset_detector(series, "P-1", detector=AnomalyDetector(window=8), normal_days=0.5)
    assert half.generator_.training_.train_rows < series.n_steps
    with pytest.raises(TypeError, match="unfitted AnomalyDetector"):
        train_asset_detector(series, "P-1", detector={"window": 8})
    with pytest.raises(DataError, match="asset 'P-1'"):
        train_asset_detector(series.head(5), "P-1", detector=AnomalyDetector(window=16))
