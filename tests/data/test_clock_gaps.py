"""An outage's missing timestamps become gap rows, so no window joins its two sides."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from geniot.data.clock import MAX_GAP_ROWS, fill_missing_steps
from geniot.data.series import SensorSeries
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.workflows.datasets import pool_windows

torch.set_num_threads(1)


def _series(n: int, drop: slice | None = None, *, level_after: float = 0.0, seed: int = 0) -> SensorSeries:
    rng = np.random.default_rng(seed)
    ts = pd.date_range("2026-01-01", periods=n, freq="300s").to_numpy()
    base = np.cumsum(rng.normal(0, 0.05, n))
    values = np.column_stack([base + rng.normal(0, 0.05, n), 2 * base + rng.normal(0, 0.05, n)])
    keep = np.ones(n, dtype=bool)
    if drop is not None:
        values[drop.stop :] += level_after * np.array([1.0, 2.0])  # the machine moved on while nothing was recorded
        keep[drop] = False
    return SensorSeries(ts[keep], values[keep], ("a", "b"), asset="P-1")


def test_missing_timestamps_become_gap_rows_and_the_rest_stays() -> None:
    s = _series(100, slice(40, 55))
    fill = fill_missing_steps(s)
    assert (fill.inserted, fill.gaps) == (15, 1)
    assert fill.series.n_steps == 100
    assert np.isnan(fill.series.values[40:55]).all()
    np.testing.assert_array_equal(fill.series.values[fill.rows], s.values)
    np.testing.assert_array_equal(fill.series.timestamps, pd.date_range("2026-01-01", periods=100, freq="300s").to_numpy())


def test_an_irregular_clock_and_a_series_without_timestamps_stay_as_they_are() -> None:
    rng = np.random.default_rng(1)
    ts = np.datetime64("2026-01-01") + np.cumsum(rng.integers(10, 600, 50)).astype("timedelta64[s]")
    s = SensorSeries(ts, rng.normal(size=(50, 2)), ("a", "b"))
    assert fill_missing_steps(s).inserted == 0
    s = SensorSeries(None, rng.normal(size=(50, 2)), ("a", "b"))
    assert fill_missing_steps(s).series is s


def test_a_shutdown_of_weeks_is_capped_but_still_longer_than_any_window() -> None:
    ts = np.concatenate([pd.date_range("2026-01-01", periods=20, freq="1s"), pd.date_range("2026-03-01", periods=20, freq="1s")])
    s = SensorSeries(ts, np.ones((40, 1)), ("a",))
    fill = fill_missing_steps(s)
    assert fill.inserted == MAX_GAP_ROWS
    assert np.all(np.diff(fill.series.timestamps.astype(np.int64)) > 0)
    # rows someone reads (filled gaps): a shutdown is left as it is, and counted
    fill = fill_missing_steps(s, cap=False)
    assert (fill.inserted, fill.left) == (0, 1) and fill.series is s


def test_no_training_window_spans_an_outage() -> None:
    s = _series(200, slice(80, 120), level_after=5.0)
    pooled = pool_windows({"P-1": s}, 12)
    assert pooled.missing_steps == {"P-1": (40, 1)}
    # every window is one stretch of real time: none holds readings from both sides
    before = pooled.windows[:, :, 0] < 2.5
    after = pooled.windows[:, :, 0] > 2.5
    assert not (before.any(axis=1) & after.any(axis=1)).any()
    assert not np.isnan(pooled.windows).all(axis=(1, 2)).any()  # windows inside the outage are left out


def test_the_detector_does_not_flag_the_return_from_an_outage() -> None:
    normal = [_series(1500, seed=s) for s in range(3)]
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step").fit(normal)
    # the level moved during an hour with no readings: no window should hold both sides
    test = _series(400, slice(200, 212), level_after=1.0, seed=7)
    detection = detector.detect(test)
    assert len(detection.scores) == test.n_steps
    # under the step score the first reading after it has no past to be judged by (NaN, as on the edge)
    assert np.isnan(detection.scores[200]) and np.isfinite(np.delete(detection.scores, 200)).all()
    assert not detection.flags[195:205].any()
    # without the clock (positions only) the return from the outage is a jump and is flagged
    bare = SensorSeries(None, test.values, test.channels)
    assert detector.detect(bare).flags[195:205].any()


def test_stamps_as_coarse_as_the_clock_read_a_step_of_two_as_a_late_reading() -> None:
    # a logger at about 1.06 s written to whole seconds: one step in 17 is 2 s with nothing missed
    true = np.arange(300) * 1.06
    true[150:] += 10.0  # and one real gap of about ten readings
    ts = np.datetime64("2026-01-01T00:00:00") + np.floor(true).astype("timedelta64[s]")
    s = SensorSeries(ts, np.zeros((300, 1)), ("a",))
    fill = fill_missing_steps(s)
    assert fill.gaps == 1 and 8 <= fill.inserted <= 11


def test_a_stream_counts_the_readings_it_missed_once_its_clock_is_known() -> None:
    from geniot.core.clock import ClockWatch

    watch = ClockWatch(min_seen=4)
    times = [np.datetime64("2026-01-01T00:00") + np.timedelta64(60 * i, "s") for i in range(5)]
    assert [watch.missed(t) for t in times] == [0] * 5
    assert watch.missed(times[-1] + np.timedelta64(11 * 60, "s")) == 10  # eleven minutes later: ten missed
    assert watch.missed("row 7") == 0  # not a time: nothing to judge by
