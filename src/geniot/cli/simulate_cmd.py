"""`geniot simulate`: write a seeded simulated pump fleet to CSV or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import typer

from geniot.cli.mqtt_publish import (
    AREA,
    MQTT_CA,
    MQTT_CERT,
    MQTT_KEY,
    MQTT_USER,
    PER_SIGNAL,
    PUBLISHER_PREFIX,
    RATE,
    SITE,
    mqtt_target,
    publish_frames,
    publish_log,
)
from geniot.cli.progress import console, progress_bar, user_errors
from geniot.data.simulate import PlantConfig, simulate_attacked, simulate_plant


def simulate(
    out: Path | None = typer.Option(None, "--out", help="output file: .csv, .parquet or a .duckdb store"),
    assets: int = typer.Option(3, "--assets", help="number of pumps in the fleet"),
    days: float = typer.Option(2.0, "--days", help="simulated days"),
    interval: int = typer.Option(60, "--interval", help="seconds between readings"),
    seed: int = typer.Option(0, "--seed", help="random seed (same seed, same plant)"),
    layout: str = typer.Option("long", "--layout", help="long (ts, asset, signal, value, quality) or wide"),
    labels: Path | None = typer.Option(None, "--labels", help="also write labels (anomaly, fault, RUL) here"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="publish to this broker instead, e.g. mqtt://127.0.0.1:1883 or mqtts://sensor@host:8883"),
    mqtt_ca: Path | None = MQTT_CA,
    mqtt_cert: Path | None = MQTT_CERT,
    mqtt_key: Path | None = MQTT_KEY,
    mqtt_user: str | None = MQTT_USER,
    rate: float | None = RATE,
    per_signal: bool = PER_SIGNAL,
    site: str = SITE,
    area: str = AREA,
    attacks: str | None = typer.Option(None, "--attacks", help="attack the data channel: comma-separated fdi,replay,flood,silence,spoof,stale; --out becomes a message log (long, with message, topic, publisher, received_at, payload_bytes) and --labels one row per attack and fault episode"),
    attacks_per_type: int = typer.Option(1, "--attacks-per-type", help="with --attacks: episodes of each attack type per asset"),
    normal_out: Path | None = typer.Option(None, "--normal-out", help="with --attacks: also write a clean message log of the same pumps before the attacked days (no fault episodes), to fit `geniot security fit` on"),
    history_days: float | None = typer.Option(None, "--history-days", help="with --normal-out: days of clean history (default: --days)"),
    publisher_prefix: str | None = PUBLISHER_PREFIX,
) -> None:
    """Simulate a fleet of pumps with regimes, degradation, faults and dropped readings."""
    with user_errors():
        if layout not in ("long", "wide"):
            raise typer.BadParameter("--layout must be 'long' or 'wide'")
        if out is None and mqtt is None:
            raise typer.BadParameter("pass --out FILE or --mqtt URL")
        target = mqtt_target(mqtt, mqtt_ca, mqtt_cert, mqtt_key, mqtt_user)  # checked before any work
        config = PlantConfig(n_assets=assets, days=days, interval_s=interval, seed=seed)
        if attacks is not None:
            if layout != "long":
                raise typer.BadParameter("a message log is long (one row per reading); drop --layout wide", param_hint="--layout")
            if per_signal:
                raise typer.BadParameter("an attacked message log is sent one message per asset and time step; drop --per-signal", param_hint="--per-signal")
            if rate is not None and not rate > 0:
                raise typer.BadParameter("must be > 0", param_hint="--rate")
            if target is None and (publisher_prefix is not None or rate is not None):
                raise typer.BadParameter("--publisher-prefix and --rate go with --mqtt URL", param_hint="--publisher-prefix/--rate")
            live = None if target is None else (target, publisher_prefix, (rate * interval) if rate is not None else 1.0)
            _simulate_attacks(config, attacks, out, labels, normal_out, history_days, attacks_per_type, site, area, live)
            return
        if normal_out is not None or history_days is not None or publisher_prefix is not None:
            raise typer.BadParameter("--normal-out, --history-days and --publisher-prefix go with --attacks")
        plant = simulate_plant(config)
        if target is not None:
            sent = publish_frames(target, {a: plant.wide(a) for a in plant.assets()}, site=site, area=area, per_signal=per_signal, rate=rate)
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


def _simulate_attacks(config, attacks, out, labels, normal_out, history_days, per_type, site, area, live=None) -> None:
    """The attacked message log, its labels and (optionally) the clean history before it; with
    ``live`` (target, publisher prefix, speed-up) the log is published as it happens, on a clock
    that starts now and runs speed-up times faster (the files then hold that clock's times)."""
    from geniot.data.sim_attacks import parse_attacks

    if live is None and (out is None or out.suffix.lower() not in (".csv", ".parquet")):
        raise typer.BadParameter("--attacks writes a .csv or .parquet message log; pass --out FILE.csv (or --mqtt URL)", param_hint="--out")
    if out is not None and out.suffix.lower() not in (".csv", ".parquet"):
        raise typer.BadParameter("--attacks writes a .csv or .parquet message log", param_hint="--out")
    if per_type < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--attacks-per-type")
    kinds = parse_attacks(attacks)
    history = (config.days if history_days is None else history_days) if normal_out is not None else 0.0
    with progress_bar("simulate") as update:
        update(0, 1)
        _, attacked, normal = simulate_attacked(config, kinds, history_days=history, per_type=per_type, site=site, area=area)
        update(1, 1)
    log, normal_log, label_rows = attacked.messages, None if normal is None else normal.messages, attacked.labels
    n_msg = log["message"].nunique()
    if live is not None:  # published first: the files then hold the live clock's times
        target, prefix, speedup = live
        end_in = (pd.Timestamp(log["received_at"].max()) - pd.Timestamp(log["received_at"].min())).total_seconds() / speedup
        console.print(f"publishing {n_msg} messages to {target.safe_url} over {end_in:.0f} s (the plant's clock {speedup:g}x)", highlight=False)
        result = publish_log(target, log, speedup=speedup, publisher_prefix=prefix)
        refused = sum(result["refused"].values())
        console.print(f"published {result['sent']} messages ({refused} not sent: their publisher was refused by the broker); "
                      f"the plant's {pd.Timestamp(result['origin']).isoformat()} is {pd.Timestamp(result['start']).isoformat()} UTC")  # fmt: skip
        log, normal_log, label_rows = _on_live_clock(result, normal_log, label_rows, speedup=speedup)
    if out is not None:
        _write_table(log, out)
        console.print(f"wrote {out} (message log: {len(log)} readings in {n_msg} messages, {config.n_assets} assets; "
                      f"{len(attacked.episodes)} attack episodes: {', '.join(kinds)})")  # fmt: skip
    if normal_log is not None:
        _write_table(normal_log, normal_out)
        console.print(f"wrote {normal_out} (clean message log, {history:g} days before the attacks, without fault episodes)")
    if labels is not None:
        _write_table(label_rows, labels)
        n_faults = int((attacked.labels["kind"] == "fault").sum())
        console.print(f"wrote {labels} ({len(attacked.labels) - n_faults} attack and {n_faults} fault episodes: asset, kind, type, signal, mode, start, end)")


def _on_live_clock(published: dict, normal_log, labels, *, speedup: float):
    """The published log, and the history and labels moved to the same live clock."""
    from geniot.data.sim_attacks import scaled_log

    origin, start = published["origin"], published["start"]
    if normal_log is not None:
        normal_log = scaled_log(normal_log, speedup=speedup, start=start, origin=origin)
    labels = labels.copy()
    for col in ("start", "end"):
        labels[col] = (start + (pd.to_datetime(labels[col]) - origin) / speedup).dt.round("us")
    return published["log"], normal_log, labels


def _write_table(frame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
