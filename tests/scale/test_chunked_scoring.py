"""Scoring a history in chunks gives what ``AnomalyDetector.detect`` gives on the whole of it."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.models import DiffusionGenerator, GaussianBaseline
from geniot.scale import plan_chunks, score_fleet, score_history
from geniot.tasks import AnomalyDetector


def assert_same_detection(serial, chunked):
    np.testing.assert_allclose(chunked.scores, serial.scores, rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(chunked.flags, serial.flags)
    np.testing.assert_allclose(chunked.channel_z, serial.channel_z, rtol=1e-9, atol=1e-9)
    assert chunked.top_sensors == serial.top_sensors
    assert chunked.threshold == serial.threshold
    np.testing.assert_array_equal(chunked.thresholds, serial.thresholds)  # each step's, a regime switch's own included
    strip = [(e.start, e.end, e.peak, e.top_sensors, e.start_time) for e in serial.events]
    assert [(e.start, e.end, e.peak, e.top_sensors, e.start_time) for e in chunked.events] == strip
    np.testing.assert_array_equal(chunked.timestamps, serial.timestamps)


@pytest.fixture(scope="module")
def gaussian_detector(fleet):
    return AnomalyDetector(generator=GaussianBaseline(), window=16, threshold="quantile", quantile=0.95).fit(fleet["P-1"])


@pytest.mark.parametrize("chunk_steps", [16, 97, 100_000])
@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"smoothing": 4},
        {"align": "center", "smoothing": 3},
        {"merge_gap": 3, "min_event_steps": 4, "attribute": "all"},
    ],
)
def test_chunks_equal_whole_series(fleet, gaussian_detector, chunk_steps, settings):
    detector = copy.copy(gaussian_detector)
    for key, value in settings.items():
        setattr(detector, key, value)
    series = fleet["P-2"].head(360)  # another pump than the one it was fitted on: many flags and events
    serial = detector.detect(series)
    assert serial.flags.sum() > 10 and serial.events  # the comparison covers flags, sensors and events
    assert_same_detection(serial, score_history(detector, series, chunk_steps=chunk_steps))


def test_chunks_equal_whole_series_for_a_torch_model(fleet):
    gen = DiffusionGenerator(d_model=16, n_layers=1, n_heads=2, timesteps=20, sampling_steps=5, epochs=2)
    detector = AnomalyDetector(generator=gen, window=12, threshold="quantile", quantile=0.9, smoothing=2).fit(fleet["P-1"].head(300))
    series = fleet["P-3"].head(200)
    assert_same_detection(detector.detect(series), score_history(detector, series, chunk_steps=45))


def test_plan_covers_every_step_once_with_enough_context():
    for n, size, window, smoothing, align in [(100, 7, 10, 1, "end"), (57, 20, 12, 3, "center"), (30, 1, 30, 1, "end")]:
        chunks = plan_chunks(n, size, window=window, smoothing=smoothing, align=align)
        owned = np.concatenate([np.arange(c.out_start, c.out_end) for c in chunks])
        np.testing.assert_array_equal(owned, np.arange(n))
        assert all(c.in_end - c.in_start >= window for c in chunks)
        assert all(c.in_start <= c.out_start and c.out_end <= c.in_end for c in chunks)


def test_bad_requests_are_named(fleet, gaussian_detector):
    with pytest.raises(DataError, match="chunk_steps"):
        plan_chunks(100, 0, window=10)
    with pytest.raises(DataError, match="fewer than the model's window"):
        plan_chunks(5, 10, window=10)
    with pytest.raises(DataError, match=r"no model for asset\(s\) \['P-9'\]"):
        score_fleet({"P-1": gaussian_detector}, {"P-9": fleet["P-1"]})
    renamed = fleet["P-1"].select(list(reversed(fleet["P-1"].channels)))
    with pytest.raises(DataError, match="do not match the model's"):
        score_history(gaussian_detector, renamed)
