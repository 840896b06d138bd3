"""Newest-reading fills: the model only where it beat holding the last value on held-out history."""

from __future__ import annotations

import numpy as np

from geniot.data.windows import make_windows
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.live_fill import HOLD, MODEL, NewestStepFiller


def _series(n=1500, seed=0):
    """A slow random walk ('level'), and 'twin' = 2 x level + small noise: the twin's newest
    value is told by the level of the same row much better than by its own last value."""
    rng = np.random.default_rng(seed)
    level = np.cumsum(rng.normal(0, 1.0, n))
    twin = 2 * level + rng.normal(0, 0.05, n)
    return np.column_stack([level, twin])


def _gaussian(values, window=8):
    gen = GaussianBaseline().fit(make_windows(values, window, 1))
    gen.channel_names_ = ["level", "twin"]
    return gen


def test_the_model_fills_where_it_beats_holding_and_holding_elsewhere():
    values = _series()
    filler = NewestStepFiller(_gaussian(values[:1000]), n_windows=40).fit(values[:1000])
    assert filler.checked_
    # each signal is the other's twin in the same row, so the model beats holding for both
    assert filler.summary() == {"level": MODEL, "twin": MODEL}
    assert "twin model" in filler.reason and "last value" in filler.reason
    # fresh held-out newest readings: the fills are close and the band covers about 90%
    errs, inside = [], []
    for end in range(1100, 1500, 7):
        window = values[end - 7 : end + 1].copy()
        truth = window[-1, 1]
        window[-1, 1] = np.nan
        point, lower, upper = filler.fill(window)
        assert point[0] == window[-1, 0]  # observed entries come back as they are
        errs.append(abs(point[1] - truth))
        inside.append(lower[1] <= truth <= upper[1])
    hold = np.mean([abs(values[e, 1] - values[e - 1, 1]) for e in range(1100, 1500, 7)])
    assert np.mean(errs) < 0.5 * hold
    assert np.mean(inside) >= 0.8


def test_a_model_of_other_data_is_not_trusted_over_holding():
    values = _series()
    foreign = _gaussian(np.random.default_rng(1).normal(size=(1000, 2)) * 50)  # knows nothing of this plant
    filler = NewestStepFiller(foreign, n_windows=40).fit(values[:1000])
    assert filler.summary() == {"level": HOLD, "twin": HOLD}
    window = values[992:1000].copy()
    window[-1, 0] = np.nan
    point, lower, upper = filler.fill(window)
    assert point[0] == window[-2, 0] and lower[0] < point[0] < upper[0]


def test_too_little_history_holds_and_says_why():
    values = _series(n=12)
    filler = NewestStepFiller(_gaussian(_series()[:1000]), n_windows=40).fit(values)
    assert not filler.checked_ and set(filler.summary().values()) == {HOLD}
    assert "fewer than" in filler.reason
    window = values[-8:].copy()
    window[-3:, 1] = np.nan  # an outage of three rows: the band widens with the steps since last seen
    point, lower, upper = filler.fill(window)
    assert point[1] == window[-4, 1]
    one = filler.fills_[1].factor
    assert np.isclose(upper[1] - point[1], one * np.sqrt(3))


def test_a_signal_unseen_in_the_whole_window_stays_a_gap():
    values = _series()
    filler = NewestStepFiller(_gaussian(values[:1000]), n_windows=20).fit(values[:1000])
    window = values[:8].copy()
    window[:, 0] = np.nan
    filler.fills_[0] = filler.fills_[0].__class__(filler.fills_[0].signal, HOLD, 1.0)
    point, _, _ = filler.fill(window)
    assert np.isnan(point[0])
