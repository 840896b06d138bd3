"""`geniot simulate`: write a seeded simulated pump fleet to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.data.simulate import PlantConfig, simulate_plant


def simulate(
    out: Path = typer.Option(..., "--out", help="output file: .csv or .parquet"),
    assets: int = typer.Option(3, "--assets", help="number of pumps in the fleet"),
    days: float = typer.Option(2.0, "--days", help="simulated days"),
    interval: int = typer.Option(60, "--interval", help="seconds between readings"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same plant)"),
    layout: str = typer.Option("long", "--layout", help="long (ts, asset, signal, value, quality) or wide"),
    labels: Path | None = typer.Option(None, "--labels", help="also write labels (anomaly, fault, RUL) here"),
) -> None:
    """Simulate a fleet of pumps with regimes, degradation, faults and dropped readings."""
    with user_errors():
        if layout not in ("long", "wide"):
            raise typer.BadParameter("--layout must be 'long' or 'wide'")
        plant = simulate_plant(PlantConfig(n_assets=assets, days=days, interval_s=interval, seed=seed))
        plant.write(out, layout=layout)
        console.print(f"wrote {out} ({len(plant.readings)} readings, {assets} assets, layout {layout})")
        if labels is not None:
            labels.parent.mkdir(parents=True, exist_ok=True)
            if labels.suffix.lower() == ".parquet":
                plant.labels.to_parquet(labels, index=False)
            else:
                plant.labels.to_csv(labels, index=False)
            console.print(f"wrote {labels} (labels)")
