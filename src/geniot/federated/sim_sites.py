"""Simulator data split into sites by asset: each pump's readings (and labels) in its own file.

Assets differ in rated speed, flow, pressure and wear, so the sites are not identically
distributed, which is the setting federated training has to cope with.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from geniot.data.io import write_frame
from geniot.data.simulate import simulate_plant


def write_simulated_sites(
    folder: str | Path,
    n_sites: int,
    *,
    days: float = 3.0,
    interval_s: int = 60,
    fault_rate: float = 2.0,
    seed: int = 0,
) -> list[Path]:
    """Simulate ``n_sites`` pumps and write one wide CSV per pump (with an ``anomaly`` column)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    plant = simulate_plant(n_assets=int(n_sites), days=float(days), interval_s=int(interval_s), fault_rate=float(fault_rate), seed=int(seed))
    paths = []
    for asset in plant.assets():
        frame = plant.wide(asset)
        labels = plant.labels.loc[plant.labels["asset"] == asset, "anomaly"].to_numpy()
        frame["anomaly"] = np.asarray(labels, dtype=int)
        path = folder / f"{asset}.csv"
        write_frame(frame, path)
        paths.append(path)
    return paths
