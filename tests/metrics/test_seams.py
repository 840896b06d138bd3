"""The phase-matched seam statistic: 1 for real-like joins whatever hours they hit, far above 1
for jumps, and bad input refused by name."""

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.metrics.long_series import seam_statistic, standardise_pair
from geniot.metrics.seams import phase_of_day, phase_seam_statistic

DAY = 24


def daily_walk(n, seed=0, c=2):
    """A random walk whose steps are 4x as large at hours 0 and 12 as at the other hours."""
    rng = np.random.default_rng(seed)
    phase = np.arange(n) % DAY
    scale = np.where(phase % 12 == 0, 4.0, 1.0)[:, None]
    return np.cumsum(rng.standard_normal((n, c)) * scale, axis=0), phase


def test_phase_of_day_counts_steps_from_midnight():
    ts = np.array(["2026-01-01T00:00", "2026-01-01T01:00", "2026-01-01T23:00", "2026-01-02T00:30"], dtype="datetime64[ns]")
    assert phase_of_day(ts, 3600).tolist() == [0, 1, 23, 0]
    assert phase_of_day(ts, 1800).tolist() == [0, 2, 46, 1]
    with pytest.raises(DataError, match="interval"):
        phase_of_day(ts, 0)


def test_seams_at_busy_hours_read_real_only_with_the_phase():
    real, real_phase = daily_walk(24 * 400)
    synth, synth_phase = daily_walk(720, seed=1)
    r, s = standardise_pair(real, synth)
    seams = np.arange(24, 720, 12)  # every seam at hour 0 or 12, where real steps are large
    plain = seam_statistic(r, s, seams)["seam_inside_ratio"]
    new = phase_seam_statistic(r, s, seams, real_phase=real_phase, synth_phase=synth_phase)
    assert plain > 2.5  # the plain ratio calls ordinary steps at busy hours seams
    assert new["seam_phase_ratio"] == pytest.approx(1.0, abs=0.25)
    assert new["seam_phase_step_ratio"] == pytest.approx(1.0, abs=0.25)


def test_jumps_at_the_joins_read_far_off():
    real, real_phase = daily_walk(24 * 400)
    synth, synth_phase = daily_walk(720, seed=2)
    seams = np.arange(24, 720, 12)
    jumped = synth.copy()
    for p in seams:  # an independent level after every join
        jumped[p:] += np.random.default_rng(p).normal(0, 15, size=synth.shape[1])
    r, s = standardise_pair(real, jumped)
    new = phase_seam_statistic(r, s, seams, real_phase=real_phase, synth_phase=synth_phase)
    assert new["seam_phase_ratio"] > 2.0


def test_without_phases_it_is_the_pooled_seam_over_inside_spread():
    x = np.random.default_rng(3).standard_normal((200, 2)).cumsum(axis=0)
    seams = np.array([50, 100, 150])
    d = np.diff(x, axis=0)
    at = np.zeros(len(d), bool)
    at[seams - 1] = True
    scale = np.sqrt(np.mean(d**2, axis=0))
    z = d / scale
    want = np.sqrt(np.mean(z[at] ** 2)) / np.sqrt(np.mean(z[~at] ** 2))
    assert phase_seam_statistic(x, x, seams)["seam_phase_ratio"] == pytest.approx(want)


def test_bad_input_is_refused():
    x = np.zeros((50, 2))
    with pytest.raises(DataError, match="no seams"):
        phase_seam_statistic(x, x, [0, 80])
    with pytest.raises(DataError, match="both series"):
        phase_seam_statistic(x, x, [10], real_phase=np.zeros(50))
    with pytest.raises(DataError, match="one value per step"):
        phase_seam_statistic(x, x, [10], real_phase=np.zeros(49), synth_phase=np.zeros(50))
    with pytest.raises(DataError, match="same channels"):
        phase_seam_statistic(x, np.zeros((50, 3)), [10])
