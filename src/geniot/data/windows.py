"""Cut series into windows, stitch windows back into a series, and draw missingness masks.

Windows are channel-last ``(n_windows, window, n_channels)``. NaN (a gap) is carried through
unchanged, so a window's mask is simply ``~np.isnan(window)``.
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError
from geniot.core.validation import check_random_state
from geniot.data.series import SensorSeries

MASK_KINDS = ("points", "blocks", "channels")


def _positive_int(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise DataError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def window_starts(n_steps: int, window: int, stride: int = 1) -> np.ndarray:
    """Start positions of the windows ``make_windows`` cuts (the tail that does not fill a
    whole window is left out)."""
    window, stride = _positive_int(window, "window"), _positive_int(stride, "stride")
    return np.arange(0, n_steps - window + 1, stride)


def make_windows(
    values: np.ndarray | SensorSeries, window: int, stride: int = 1, *, source: str | None = None
) -> np.ndarray:
    """Windows of ``window`` steps every ``stride`` steps from (n_steps, n_channels) values.

    Returns a new writable float64 array shaped (n_windows, window, n_channels).
    """
    if isinstance(values, SensorSeries):
        source = source if source is not None else values.source
        values = values.values
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2:
        raise DataError(
            f"values must be shaped (n_steps, n_channels), got {arr.shape}", file=source
        )
    window, stride = _positive_int(window, "window"), _positive_int(stride, "stride")
    if window > arr.shape[0]:
        raise DataError(
            f"window of {window} steps is longer than the series ({arr.shape[0]} steps)",
            file=source,
        )
    view = np.lib.stride_tricks.sliding_window_view(arr, window, axis=0)[::stride]
    return np.ascontiguousarray(view.transpose(0, 2, 1))


def windows_to_series(windows: np.ndarray, n_steps: int, stride: int = 1) -> np.ndarray:
    """Stitch windows cut with ``make_windows(..., stride)`` back into (n_steps, n_channels).

    Where windows overlap, their non-NaN values are averaged; steps no window covers, or that
    are NaN in every window, are NaN. The average is taken around the first value seen, so
    overlapping windows that agree give back that value exactly, not merely to rounding.
    """
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3:
        raise DataError(f"windows must be shaped (n_windows, window, n_channels), got {w.shape}")
    window = w.shape[1]
    starts = window_starts(n_steps, window, stride)
    if starts.size != w.shape[0]:
        raise DataError(
            f"{w.shape[0]} windows do not fit a series of {n_steps} steps with window {window} "
            f"and stride {stride} (that makes {starts.size} windows)"
        )
    reference = np.full((n_steps, w.shape[2]), np.nan)
    for k in range(window):  # starts are distinct, so starts + k never repeats within one k
        rows = reference[starts + k]
        reference[starts + k] = np.where(np.isnan(rows), w[:, k], rows)
    total = np.zeros_like(reference)
    count = np.zeros_like(reference)
    for k in range(window):
        seen = ~np.isnan(w[:, k])
        total[starts + k] += np.where(seen, w[:, k] - reference[starts + k], 0.0)
        count[starts + k] += seen
    with np.errstate(invalid="ignore", divide="ignore"):
        return reference + total / count


def random_masks(
    shape: tuple[int, ...],
    *,
    rate: float,
    kind: str = "points",
    block: int = 8,
    random_state=None,
) -> np.ndarray:
    """A bool mask (True = observed) with about ``rate`` of the entries missing.

    ``shape`` is (..., n_steps, n_channels). ``kind`` says how values go missing, as in real
    plants: ``"points"`` drops single readings, ``"blocks"`` drops runs of ``block`` steps of
    one channel (an outage), ``"channels"`` drops a whole channel of a window (a dead sensor).
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) < 2 or min(shape) < 1:
        raise DataError(f"shape must be (..., n_steps, n_channels) with no zero size, got {shape}")
    if not 0.0 <= rate < 1.0:
        raise DataError(f"rate must be in [0, 1), got {rate}")
    rng = check_random_state(random_state)
    if kind == "points":
        return rng.random(shape) >= rate
    if kind == "blocks":
        return ~_block_gaps(shape, rate, _positive_int(block, "block"), rng)
    if kind == "channels":
        dead = rng.random(shape[:-2] + (1, shape[-1])) < rate
        return np.broadcast_to(~dead, shape).copy()
    raise DataError(f"kind must be one of {MASK_KINDS}, got {kind!r}")


def _block_gaps(shape: tuple[int, ...], rate: float, block: int, rng) -> np.ndarray:
    """True inside gaps of ``block`` steps. A gap starts at each step with probability ``p``
    chosen so that a step is covered with probability ``rate`` (1 - (1 - p)**block = rate)."""
    p = 1.0 - (1.0 - rate) ** (1.0 / block)
    begins = rng.random(shape) < p
    running = np.cumsum(begins, axis=-2)  # gaps begun up to each step
    ended = np.zeros_like(running)
    ended[..., block:, :] = running[..., :-block, :]  # gaps begun more than block steps ago
    return (running - ended) > 0
