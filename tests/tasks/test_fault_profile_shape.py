"""A learned fault profile is as smooth as the real episodes: a slow drift comes back as a
ramp, not a staircase with noise."""

import numpy as np
import pandas as pd

from geniot.tasks.long_synthesis import learn_fault_profiles

CHANNELS = ("temp", "flow")


def _wandering(n: int, rng) -> np.ndarray:
    """Two signals that follow a slowly wandering load (a slow AR(1)) plus small noise."""
    load = np.zeros(n)
    for t in range(1, n):
        load[t] = 0.97 * load[t - 1] + rng.normal(0.0, 0.3)
    return np.c_[load, 0.5 * load] + rng.normal(0.0, 0.1, size=(n, 2))


def _drift_labels(n: int, episodes: list[tuple[int, int]]) -> pd.Series:
    lab = np.full(n, "normal", dtype=object)
    for lo, hi in episodes:
        lab[lo:hi] = "sensor_drift:temp"
    return pd.Series(lab)


def test_a_learned_drift_is_as_smooth_as_the_real_ones():
    rng = np.random.default_rng(4)
    values, labels = [], []
    for _ in range(3):
        x = _wandering(1200, rng)
        episodes = [(300, 420), (800, 920)]
        for lo, hi in episodes:
            x[lo:hi, 0] += np.linspace(0.0, 12.0, hi - lo)  # the sensor drifts; the process does not
        values.append(x)
        labels.append(_drift_labels(1200, episodes))
    profile = learn_fault_profiles(values, labels, CHANNELS)["sensor_drift:temp"]
    base = _wandering(600, np.random.default_rng(9))
    out = profile.apply(base, 200, 320, np.random.default_rng(1))
    added = out[200:320, 0] - base[200:320, 0]
    # The ramp comes back: it ends near the real drifts' size, and it grows all along.
    assert 9.0 < added[-10:].mean() < 15.0 and added[:10].mean() < 3.0
    assert np.corrcoef(np.arange(120), added)[0, 1] > 0.95
    # No roughness the real drifts did not have: the wandering seen inside a profile bin is the
    # process's (the model supplies it), not noise to add on top.
    rough = np.std(np.diff(out[200:320, 0])) / np.std(np.diff(base[200:320, 0]))
    assert rough < 1.15
    assert np.array_equal(out[:, 1], base[:, 1])  # a sensor fault moves its own signal only
