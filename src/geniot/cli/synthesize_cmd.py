"""`geniot synthesize`: a long, timestamped synthetic series in the training file's layout."""

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
    RATE,
    SITE,
    mqtt_target,
    publish_frames,
)
from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.core.record import channel_names
from geniot.data.formats import format_times
from geniot.data.io import read_table, write_frame
from geniot.models.loading import load_generator
from geniot.workflows.regimes import learn_regimes
from geniot.workflows.synthesis import (
    FaultRequest,
    asset_names,
    model_profiles,
    parse_duration,
    parse_sets,
    parse_time,
    profiles_from_files,
    text_columns,
    training_file_layout,
    training_table,
    wide_frames,
    write_synthesis,
)
from geniot.workflows.synthesis import (
    synthesize as synthesize_series,
)


def synthesize(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit`"),
    duration: str = typer.Option(..., "--duration", help="how long, e.g. 30d, 12h, 2w"),
    out: Path | None = typer.Option(None, "--out", help="file to write (.csv or .parquet); or --mqtt"),
    start: str | None = typer.Option(None, "--start", help="first timestamp (default: one interval after the training data)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    interval: str | None = typer.Option(None, "--interval", help="sampling interval if the model has none on record, e.g. 1h"),
    assets: str | None = typer.Option(None, "--assets", help="N synthetic assets, or names: P-1,P-7"),
    set_: list[str] = typer.Option([], "--set", help="hold a signal at a value: speed_rpm=1100 (repeatable)"),
    fault: list[str] = typer.Option([], "--fault", help="TYPE[:SIGNAL]@TIME/DURATION, e.g. bearing_wear@2026-02-03T10:00/6h"),
    fault_labels: Path | None = typer.Option(None, "--fault-labels", help="labels of the real data to learn faults from"),
    fault_data: Path | None = typer.Option(None, "--fault-data", help="real data the faults are learned from (default: the training file)"),
    labels: Path | None = typer.Option(None, "--labels", help="write per-row labels (anomaly, fault) here"),
    regime: str | None = typer.Option(
        None, "--regime",
        help="hold the series in one operating regime learned from the training data: the regime column of "
        "--regime-labels, else a text column named regime/mode/state/status, else clusters of the readings "
        "named low/high, low/mid/high or low/mid-low/mid-high/high; an unknown name lists the known ones",
    ),
    regime_labels: Path | None = typer.Option(
        None, "--regime-labels", help="labels with ts, asset and regime columns (`geniot simulate --labels` writes them)"
    ),
    context: int | None = typer.Option(None, "--context", help="steps of the series shown to each new stretch (default: half the window)"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="replay the synthetic plant into this broker, e.g. mqtt://127.0.0.1:1883 or mqtts://sensor@host:8883"),
    mqtt_ca: Path | None = MQTT_CA,
    mqtt_cert: Path | None = MQTT_CERT,
    mqtt_key: Path | None = MQTT_KEY,
    mqtt_user: str | None = MQTT_USER,
    rate: float | None = RATE,
    per_signal: bool = PER_SIGNAL,
    site: str = SITE,
    area: str = AREA,
) -> None:
    """Synthesize a continuous series of any length, stretch by stretch, without seams."""
    with user_errors():
        if out is None and mqtt is None:
            raise typer.BadParameter("pass --out FILE or --mqtt URL")
        target = mqtt_target(mqtt, mqtt_ca, mqtt_cert, mqtt_key, mqtt_user)  # checked before any work
        model = load_generator(artifact)
        record = model.training_
        channels = channel_names(model)
        requests = [FaultRequest.parse(f) for f in fault]
        profiles = model_profiles(model)
        if requests and (fault_labels is not None or fault_data is not None or not profiles):
            source = fault_data or (Path(record.source) if record.source else None)
            if source is None:
                raise DataError("--fault needs labelled real data: pass --fault-data FILE --fault-labels LABELS")
            profiles = profiles_from_files(source, fault_labels, channels)
            console.print(f"learned faults from {source}: {', '.join(sorted(profiles))}")
        elif requests:
            console.print(f"faults learned at fit time: {', '.join(sorted(profiles))}")
        table, unread = training_table(model) if out is not None or regime is not None else (None, None)
        regimes = None
        if regime is not None:
            source = fault_data or (Path(record.source) if record.source else None)
            if source is None or not source.is_file():
                raise DataError(f"--regime needs the training data to learn regimes from: {source} is not here; pass --fault-data FILE")
            real = table if fault_data is None and table is not None else read_table(source)
            regimes = learn_regimes(real, channels, labels=regime_labels, seed=seed)
            console.print(f"regimes learned: {regimes.describe()}")
            regimes.index(regime)  # an unknown name: said before any work
        elif regime_labels is not None:
            raise typer.BadParameter("--regime-labels goes with --regime NAME")
        result = synthesize_series(
            model,
            duration_s=parse_duration(duration),
            start=None if start is None else parse_time(start, what="--start"),
            interval_s=None if interval is None else parse_duration(interval, what="--interval"),
            assets=asset_names(assets, model),
            sets=parse_sets(set_, channels),
            faults=requests,
            profiles=profiles,
            context=context,
            seed=seed,
            regime=regime,
            regimes=regimes,
        )
        for note in result.notes:
            console.print(f"[yellow]{note}[/yellow]" if note.startswith("warning:") else note)
        n = len(result.timestamps)
        file_layout, why = training_file_layout(table, unread) if out is not None else (None, None)
        what = (
            f"{n} steps every {result.interval_s:g} s from {_shown_time(result.timestamps[0], file_layout)} for "
            f"{len(result.values)} asset(s); {len(result.seams)} stretches joined by continuation with {model.registry_name}"
        )
        if target is not None:
            sent = publish_frames(target, wide_frames(result), site=site, area=area, per_signal=per_signal, rate=rate)
            console.print(f"published {sent} messages")
            console.print(f"published {what} to {target.safe_url}")
        if out is not None:
            layout = dict(record.layout)
            if layout.get("error"):
                console.print(f"[yellow]{layout['error']}; writing the wide layout[/yellow]")
            if why:
                console.print(f"[yellow]{why}[/yellow]")
            texts, said = text_columns(table, result)
            if said:
                console.print(f"[yellow]{said}[/yellow]")
            frame = write_synthesis(result, out, layout, file_layout, texts)
            console.print(f"wrote {out} ({len(frame)} rows: {what})")
        if labels is not None:
            write_frame(result.labels, labels)
            console.print(f"wrote {labels} (labels)")


def _shown_time(ts, file_layout) -> str:
    """A time as the training file writes it (its zone and offset), else as geniot holds it."""
    fmt = getattr(file_layout, "time", None)
    if fmt is not None and fmt.zone not in (None, "pending"):
        return str(format_times(pd.Series([pd.Timestamp(ts)]), fmt).iloc[0])
    return str(pd.Timestamp(ts))
