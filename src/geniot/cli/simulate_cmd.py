"""`geniot simulate`: write a seeded simulated pump fleet to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path

import typer

from geniot.cli.progress import console, progress_bar, user_errors
from geniot.data.simulate import PlantConfig, simulate_plant


def simulate(
    out: Path | None = typer.Option(None, "--out", help="output file: .csv or .parquet"),
    assets: int = typer.Option(3, "--assets", help="number of pumps in the fleet"),
    days: float = typer.Option(2.0, "--days", help="simulated days"),
    interval: int = typer.Option(60, "--interval", help="seconds between readings"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same plant)"),
    layout: str = typer.Option("long", "--layout", help="long (ts, asset, signal, value, quality) or wide"),
    labels: Path | None = typer.Option(None, "--labels", help="also write labels (anomaly, fault, RUL) here"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="publish to this broker instead, e.g. mqtt://127.0.0.1:1883"),
    rate: float | None = typer.Option(None, "--rate", help="with --mqtt: rows per second per asset, stamped now (default: all at once, history ending now)"),
    per_signal: bool = typer.Option(False, "--per-signal", help="with --mqtt: one message per value on <site>/<area>/<asset>/<signal>"),
    site: str = typer.Option("plant", "--site", help="with --mqtt: first topic level"),
    area: str = typer.Option("pumps", "--area", help="with --mqtt: second topic level"),
) -> None:
    """Simulate a fleet of pumps with regimes, degradation, faults and dropped readings."""
    with user_errors():
        if layout not in ("long", "wide"):
            raise typer.BadParameter("--layout must be 'long' or 'wide'")
        if out is None and mqtt is None:
            raise typer.BadParameter("pass --out FILE or --mqtt URL")
        plant = simulate_plant(PlantConfig(n_assets=assets, days=days, interval_s=interval, seed=seed))
        if mqtt is not None:
            from geniot.ingest.publish import publish_wide

            frames = {a: plant.wide(a) for a in plant.assets()}
            with progress_bar("publish") as update:
                sent = publish_wide(mqtt, frames, site=site, area=area, per_signal=per_signal, rate=rate, progress=update)
            console.print(f"published {sent} messages ({len(plant.readings)} readings, {assets} assets) to {mqtt}")
        if out is not None:
            plant.write(out, layout=layout)
            console.print(f"wrote {out} ({len(plant.readings)} readings, {assets} assets, layout {layout})")
        if labels is not None:
            labels.parent.mkdir(parents=True, exist_ok=True)
            if labels.suffix.lower() == ".parquet":
                plant.labels.to_parquet(labels, index=False)
            else:
                plant.labels.to_csv(labels, index=False)
            console.print(f"wrote {labels} (labels)")
