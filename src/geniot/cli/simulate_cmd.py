"""`geniot simulate`: write a seeded simulated pump fleet to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.markup import escape

from geniot.cli.progress import console, progress_bar, user_errors
from geniot.data.simulate import PlantConfig, simulate_plant


def simulate(
    out: Path | None = typer.Option(None, "--out", help="output file: .csv, .parquet or a .duckdb store"),
    assets: int = typer.Option(3, "--assets", help="number of pumps in the fleet"),
    days: float = typer.Option(2.0, "--days", help="simulated days"),
    interval: int = typer.Option(60, "--interval", help="seconds between readings"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same plant)"),
    layout: str = typer.Option("long", "--layout", help="long (ts, asset, signal, value, quality) or wide"),
    labels: Path | None = typer.Option(None, "--labels", help="also write labels (anomaly, fault, RUL) here"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="publish to this broker instead, e.g. mqtt://127.0.0.1:1883 or mqtts://sensor@host:8883"),
    mqtt_ca: Path | None = typer.Option(None, "--mqtt-ca", help="with --mqtt: CA certificate (PEM) for mqtts://"),
    mqtt_cert: Path | None = typer.Option(None, "--mqtt-cert", help="with --mqtt: client certificate (PEM)"),
    mqtt_key: Path | None = typer.Option(None, "--mqtt-key", help="with --mqtt: key of the client certificate (PEM)"),
    mqtt_user: str | None = typer.Option(None, "--mqtt-user", help="with --mqtt: user name; the password comes from GENIOT_MQTT_PASSWORD"),
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
        target = None
        if mqtt is not None:
            from geniot.ingest.mqtt_target import MQTTConfigError, MQTTTarget

            try:
                target = MQTTTarget.from_url(mqtt, ca_file=mqtt_ca, cert_file=mqtt_cert, key_file=mqtt_key, username=mqtt_user)
            except MQTTConfigError as exc:
                raise typer.BadParameter(str(exc), param_hint="--mqtt") from None
        plant = simulate_plant(PlantConfig(n_assets=assets, days=days, interval_s=interval, seed=seed))
        if target is not None:
            from geniot.ingest.mqtt_target import MQTTConfigError, MQTTConnectError
            from geniot.ingest.publish import publish_wide

            frames = {a: plant.wide(a) for a in plant.assets()}
            try:
                with progress_bar("publish") as update:
                    sent = publish_wide(target, frames, site=site, area=area, per_signal=per_signal, rate=rate, progress=update)
            except (MQTTConfigError, MQTTConnectError) as exc:
                console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
                raise typer.Exit(code=2) from None
            console.print(f"published {sent} messages ({len(plant.readings)} readings, {assets} assets) to {target.safe_url}")
        if out is not None and out.suffix.lower() == ".duckdb":  # a store: through `geniot import`'s path
            from geniot.workflows.store_io import append_long

            new = append_long(out, plant.readings)
            console.print(f"wrote {out} ({new} new readings, {assets} assets; store)")
        elif out is not None:
            plant.write(out, layout=layout)
            console.print(f"wrote {out} ({len(plant.readings)} readings, {assets} assets, layout {layout})")
        if labels is not None:
            labels.parent.mkdir(parents=True, exist_ok=True)
            if labels.suffix.lower() == ".parquet":
                plant.labels.to_parquet(labels, index=False)
            else:
                plant.labels.to_csv(labels, index=False)
            console.print(f"wrote {labels} (labels)")
