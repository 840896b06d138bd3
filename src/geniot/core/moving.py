"""Windows in which the machine changes operating point: several sensors move together at once.

A regime switch (speed, current, flow and pressure step together), a start or a stop is a rare
window in the normal history, so it sits in the tail of any score calibrated on that history: one
threshold over all windows is set by the switches and then misses faults in steady operation. A
window *moves* when at least ``MOVING_SENSORS`` sensors change, newest minus oldest step, by more
than ``MOVING_FACTOR`` times their median change over a window of normal data. One forged or
failing sensor never makes a window move; a fault that moves several sensors at once is judged
against the moving windows' threshold only while the window spans the change.

Numpy only: the process detector, the security detector and ``geniot-edge`` share this rule.
"""

from __future__ import annotations

import numpy as np

#: a sensor moves when its change over a window exceeds this many times its median change
MOVING_FACTOR = 8.0
#: a window moves when at least this many sensors do
MOVING_SENSORS = 3


def change_scale(windows: np.ndarray) -> np.ndarray:
    """(c,) median absolute change, newest minus oldest step, of each sensor over normal windows
    (n, t, c); a sensor never seen changing gets a tiny positive scale."""
    windows = np.asarray(windows, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        change = np.abs(windows[:, -1] - windows[:, 0])
    if not len(change) or np.isnan(change).all():
        return np.full(windows.shape[2], 1e-9)
    with np.errstate(all="ignore"):
        return np.maximum(np.nan_to_num(np.nanmedian(change, axis=0)), 1e-9)


def moving_windows(windows: np.ndarray, scale: np.ndarray) -> np.ndarray:
    """(n,) whether several sensors move together in each window (n, t, c) (see the module)."""
    windows = np.asarray(windows, dtype=np.float64)
    if not len(windows):
        return np.zeros(0, dtype=bool)
    with np.errstate(invalid="ignore"):
        ratio = np.abs(windows[:, -1] - windows[:, 0]) / np.asarray(scale, dtype=np.float64)
    return np.sum(np.nan_to_num(ratio) > MOVING_FACTOR, axis=1) >= MOVING_SENSORS
