"""Windows and masks: shapes, round trips, NaN carried through, mask rates."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from geniot.core.exceptions import DataError
from geniot.data import SensorSeries, make_windows, random_masks, window_starts, windows_to_series

values_with_gaps = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=30),
    elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)),
)


def test_shapes_and_starts():
    x = np.arange(20.0).reshape(10, 2)
    w = make_windows(x, 4, stride=3)
    assert w.shape == (3, 4, 2) and w.flags.writeable
    np.testing.assert_array_equal(window_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(w[1], x[3:7])


def test_window_longer_than_series_names_the_source():
    s = SensorSeries(timestamps=None, values=np.zeros((5, 1)), channels=("a",), source="pump.csv")
    with pytest.raises(
        DataError, match=r"file 'pump.csv': window of 6 steps is longer than the series \(5 steps\)"
    ):
        make_windows(s, 6)


@pytest.mark.parametrize(("window", "stride"), [(0, 1), (2, 0), (2.5, 1), (True, 1)])
def test_bad_window_arguments(window, stride):
    with pytest.raises(DataError, match="positive integer"):
        make_windows(np.zeros((5, 1)), window, stride)


def test_stitching_averages_overlaps_and_checks_the_count():
    w = np.ones((3, 2, 1))
    w[1] = 3.0
    np.testing.assert_array_equal(windows_to_series(w, 4, 1)[:, 0], [1.0, 2.0, 2.0, 1.0])
    with pytest.raises(DataError, match="do not fit"):
        windows_to_series(w, 10, 1)


@settings(max_examples=60, deadline=None)
@given(x=values_with_gaps, data=st.data())
def test_windows_round_trip_and_carry_nan(x, data):
    n_steps = x.shape[0]
    window = data.draw(st.integers(1, n_steps))
    stride = data.draw(st.integers(1, n_steps))
    w = make_windows(x, window, stride)
    starts = window_starts(n_steps, window, stride)
    for i, s in enumerate(starts):  # NaN and values carried through unchanged
        np.testing.assert_array_equal(w[i], x[s : s + window])
    covered = np.zeros(n_steps, dtype=bool)
    for s in starts:
        covered[s : s + window] = True
    back = windows_to_series(w, n_steps, stride)
    np.testing.assert_array_equal(back[covered], x[covered])  # exactly, NaN where x is NaN
    assert np.isnan(back[~covered]).all()


@pytest.mark.parametrize("kind", ["points", "blocks", "channels"])
def test_mask_rate_and_determinism(kind):
    m = random_masks((400, 50, 4), rate=0.25, kind=kind, block=5, random_state=3)
    assert m.dtype == bool and m.shape == (400, 50, 4)
    assert abs((1 - m.mean()) - 0.25) < 0.03
    np.testing.assert_array_equal(
        m, random_masks((400, 50, 4), rate=0.25, kind=kind, block=5, random_state=3)
    )


def test_block_masks_are_runs_and_channel_masks_whole_channels():
    blocks = random_masks((1, 200, 1), rate=0.2, kind="blocks", block=10, random_state=0)[0, :, 0]
    edges = np.flatnonzero(np.diff(blocks.astype(int)) == 1)  # a gap ends at each edge
    starts = np.flatnonzero(np.diff(blocks.astype(int)) == -1)
    assert all(e - s >= 10 for s, e in zip(starts, edges[edges > starts[0]], strict=False))
    channels = random_masks((20, 30, 3), rate=0.5, kind="channels", random_state=0)
    assert (channels.all(axis=1) | ~channels.any(axis=1)).all()


def test_bad_mask_arguments():
    with pytest.raises(DataError, match="rate"):
        random_masks((5, 2), rate=1.0)
    with pytest.raises(DataError, match="kind"):
        random_masks((5, 2), rate=0.1, kind="holes")


@settings(max_examples=40, deadline=None)
@given(x=values_with_gaps, seed=st.integers(0, 2**16))
def test_masked_values_stay_masked_through_windowing(x, seed):
    mask = random_masks(x.shape, rate=0.3, random_state=seed) & ~np.isnan(x)
    hidden = np.where(mask, x, np.nan)
    w = make_windows(hidden, 1 + seed % x.shape[0])
    np.testing.assert_array_equal(~np.isnan(w), make_windows(mask.astype(float), w.shape[1]) == 1)
