"""Benchmark datasets, loaded from ../shared/data as the published protocols use them.

Every loader returns the series as a float array (n_steps, n_channels); windowing and scaling
follow the TimeGAN protocol in :func:`timegan_windows`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def sines(n_windows: int = 10_000, window: int = 24, channels: int = 5, seed: int = 0) -> np.ndarray:
    """TimeGAN's sine data: per window and channel, freq and phase ~ U(0, 0.1), scaled to [0, 1]."""
    rng = np.random.default_rng(seed)
    t = np.arange(window)[None, :, None]
    freq = rng.uniform(0, 0.1, size=(n_windows, 1, channels))
    phase = rng.uniform(0, 0.1, size=(n_windows, 1, channels))
    return (np.sin(freq * t + phase) + 1.0) / 2.0


def stocks() -> np.ndarray:
    """GOOG daily prices, oldest first (Diffusion-TS's order; TimeGAN's loader reverses time)."""
    return pd.read_csv(DATA / "timegan" / "stock_data.csv").to_numpy(np.float64)


def energy() -> np.ndarray:
    """UCI appliances energy, 28 channels at 10 minutes."""
    return pd.read_csv(DATA / "timegan" / "energy_data.csv").to_numpy(np.float64)


def etth1() -> np.ndarray:
    """ETTh1, 7 channels, hourly (the date column dropped)."""
    return pd.read_csv(DATA / "ett" / "ETTh1.csv").drop(columns=["date"]).to_numpy(np.float64)


SERIES = {"stocks": stocks, "energy": energy, "etth": etth1}
NAMES = ("sines", "stocks", "etth", "energy")


def minmax(series: np.ndarray) -> np.ndarray:
    lo, hi = series.min(axis=0), series.max(axis=0)
    return (series - lo) / np.where(hi > lo, hi - lo, 1.0)


def timegan_windows(name: str, window: int = 24, seed: int = 0):
    """(windows, train, holdout) in [0, 1]; `windows` shuffled, as the protocol does.

    All windows (stride 1, min-max per channel over the series) form the real set the scores
    compare against. For the memorization check the series is cut into 25 contiguous blocks and
    5 of them, picked at random, are held out: `train` holds the windows lying wholly in the
    other 20 blocks (the model is fitted on these only), `holdout` those wholly in the 5 held-out
    blocks, so that no held-out window overlaps a training window. Many small blocks spread the
    held-out part over the whole period: with a trending series (Stocks) a few large blocks
    would hold out whole price levels, and both the discriminator and the distance check would
    then measure that shift instead of the generator.
    """
    rng = np.random.default_rng(seed)
    if name == "sines":
        all_windows = sines(window=window, seed=seed)
        held = rng.random(len(all_windows)) < 0.2
        return all_windows, all_windows[~held], all_windows[held]
    series = minmax(SERIES[name]())
    n = len(series) - window + 1
    starts = np.arange(n)
    all_windows = np.stack([series[s : s + window] for s in starts])
    edges = np.linspace(0, len(series), 26).astype(int)
    held_blocks = rng.choice(25, size=5, replace=False)
    block_of_start = np.searchsorted(edges, starts, side="right") - 1
    block_of_end = np.searchsorted(edges, starts + window - 1, side="right") - 1
    inside = block_of_start == block_of_end
    held = np.isin(block_of_start, held_blocks) & inside
    train = inside & ~np.isin(block_of_start, held_blocks)
    # The protocol shuffles windows; the predictive score's TRTR split then is not an
    # extrapolation into the latest period.
    return all_windows[rng.permutation(len(all_windows))], all_windows[train], all_windows[held]
