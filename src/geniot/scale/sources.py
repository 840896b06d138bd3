"""A fleet's histories (asset name -> SensorSeries) from a file, the store or the simulator."""

from __future__ import annotations

from pathlib import Path

from geniot.core.exceptions import DataError
from geniot.data.io import read_table
from geniot.data.series import SensorSeries
from geniot.data.simulate import SIGNALS, PlantConfig, simulate_plant
from geniot.data.store import SensorStore


def fleet_from_file(path: Path) -> dict[str, SensorSeries]:
    """Every asset of a CSV/Parquet file (wide or long)."""
    return read_table(Path(path))


def fleet_from_store(path: Path) -> dict[str, SensorSeries]:
    """Every asset of a DuckDB store file (which must exist: opening a new path would create one)."""
    path = Path(path)
    if not path.is_file():
        raise DataError("store file not found", file=str(path))
    with SensorStore(path) as store:
        assets = store.assets()
        if not assets:
            raise DataError("the store holds no readings", file=str(path))
        return {asset: store.read_wide(asset) for asset in assets}


def simulated_fleet(n_assets: int, *, days: float = 2.0, interval_s: int = 60, seed: int = 0) -> dict[str, SensorSeries]:
    """A seeded simulated pump fleet (see :mod:`geniot.data.simulate`)."""
    plant = simulate_plant(PlantConfig(n_assets=n_assets, days=days, interval_s=interval_s, seed=seed))
    source = f"simulated fleet (assets={n_assets}, days={days}, interval={interval_s}s, seed={seed})"
    fleet = {}
    for asset in plant.assets():
        wide = plant.wide(asset)
        fleet[asset] = SensorSeries(
            timestamps=wide["timestamp"].to_numpy(),
            values=wide[list(SIGNALS)].to_numpy(),
            channels=tuple(SIGNALS),
            asset=asset,
            units=plant.units,
            source=source,
        )
    return fleet


def first_rows(fleet: dict[str, SensorSeries], rows: int | None) -> dict[str, SensorSeries]:
    """Each history cut to its first ``rows`` steps (the normal start), or as is for None."""
    if rows is None:
        return fleet
    if rows < 1:
        raise DataError(f"--train-rows must be at least 1, got {rows}")
    return {asset: series.head(rows) for asset, series in fleet.items()}
