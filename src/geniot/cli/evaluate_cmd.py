"""`geniot evaluate` and `geniot report`: fidelity, utility and memorization of synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.core.record import channel_names, record_summary
from geniot.data.clock import fill_missing_steps
from geniot.data.io import read_table
from geniot.models.loading import load_generator
from geniot.report.html import write_long_report
from geniot.report.plots import LONG_SET_LABELS, long_series_rows, seam_channel_rows
from geniot.workflows.datasets import windows_from_file
from geniot.workflows.evaluation import evaluate as evaluate_windows
from geniot.workflows.evaluation import evaluate_long, write_evaluation_report
from geniot.workflows.windows_io import read_windows


def evaluate(
    real: Path = typer.Argument(..., help="real data file (CSV or Parquet)"),
    synthetic: Path = typer.Argument(
        ..., help="synthetic windows (.npy/.csv/.parquet from `geniot sample`) or a long series from `geniot synthesize`"
    ),
    window: int | None = typer.Option(None, "--window", help="steps per window (as in training; default the model's)"),
    out: Path | None = typer.Option(None, "--out", help="HTML report to write"),
    model: Path | None = typer.Option(None, "--model", help="artifact folder: adds the training curve and the memorization split"),
    as_json: bool = typer.Option(False, "--json", help="print the metrics as JSON on stdout"),
    full: bool = typer.Option(False, "--full", help="the full TimeGAN protocol (slower) instead of the quick one"),
    asset: str | None = typer.Option(None, "--asset", help="use one asset of a multi-asset file"),
    seed: int = typer.Option(0, "--seed", help="random seed of the metric classifiers"),
    context: int | None = typer.Option(
        None, "--context", help="long series: the context `geniot synthesize` used (default half the window)"
    ),
) -> None:
    """Compare synthetic data with real data: metrics as JSON and an HTML report.

    Windows get the window metrics; a long series (a table with a time column and no window/step
    columns) gets the long-series metrics beside concatenated windows and a block bootstrap.
    """
    with user_errors():
        generator = load_generator(model) if model is not None else None
        if window is None:
            if generator is None:
                raise DataError("pass --window (steps per window, as in training) or --model")
            window = int(generator.training_.window or generator.n_steps_)
        if is_long_series(synthetic):
            _evaluate_long(real, synthetic, window=window, generator=generator, asset=asset, seed=seed,
                           context=context, out=out, as_json=as_json)
            return
        real_set = windows_from_file(real, window, asset=asset)
        synth, synth_channels = read_windows(synthetic)
        if synth_channels is not None and list(synth_channels) != list(real_set.channels):
            raise DataError(
                f"synthetic channels {synth_channels} differ from the real channels {list(real_set.channels)}",
                file=str(synthetic),
            )
        metrics = evaluate_windows(real_set.windows, synth, model=generator, fast=not full, seed=seed, source=real)
        if out is not None:
            write_evaluation_report(
                out, metrics=metrics, real=real_set.windows, synth=synth, channels=real_set.channels, model=generator
            )
            console.print(f"wrote {out}")
        if as_json:
            typer.echo(json.dumps(metrics, indent=2))
        else:
            for key in ("discriminative_score", "predictive_tstr_mae", "predictive_trtr_mae", "context_fid"):
                if key in metrics:
                    console.print(f"{key}: {metrics[key]:.4f}")
            if "memorized" in metrics:
                console.print(memorization_line(metrics))


def read_table_columns(path: Path) -> list[str]:
    """The column names of a CSV or Parquet file, from its header."""
    import pandas as pd

    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    if path.name.lower().endswith((".parquet", ".pq")):
        import pyarrow.parquet as pq

        return [str(c) for c in pq.read_schema(path).names]
    return [str(c).strip() for c in pd.read_csv(path, nrows=0, sep=None, engine="python").columns]


def is_long_series(path: Path) -> bool:
    """A table without ``window``/``step`` columns is a long series; .npy files are windows."""
    if path.suffix.lower() == ".npy":
        return False
    columns = {c.lower() for c in read_table_columns(path)}
    return not {"window", "step"} <= columns


def _evaluate_long(real, synthetic, *, window, generator, asset, seed, context, out, as_json) -> None:
    real_series = _one_series(read_table(real), real, asset)
    synth_table = read_table(synthetic)
    synth_series = _one_series(synth_table, synthetic, asset if asset in synth_table else None)
    if list(synth_series.channels) != list(real_series.channels):
        missing = [c for c in real_series.channels if c not in synth_series.channels]
        if missing:
            raise DataError(f"the synthetic series lacks the real channels {missing}", file=str(synthetic))
        synth_series = synth_series.select(list(real_series.channels))
    interval = series_interval(real_series, real)
    real_series, real_missing = _on_clock(real_series, real)
    synth_series, synth_missing = _on_clock(synth_series, synthetic)
    metrics = evaluate_long(
        real_series.values, synth_series.values, interval_s=interval, window=window, context=context,
        model=generator, seed=seed, timestamps=synth_series.timestamps, real_timestamps=real_series.timestamps,
    )
    metrics["long_real_missing_steps"], metrics["long_synthetic_missing_steps"] = real_missing, synth_missing
    if out is not None:
        info = None if generator is None else {"model": generator.registry_name, **record_summary(generator)}
        write_long_report(out, title="geniot long synthetic series report", metrics=metrics, real=real_series.values,
                          synth=synth_series.values, channel_names=list(real_series.channels), model_info=info)
        console.print(f"wrote {out}")
    if as_json:
        typer.echo(json.dumps(metrics, indent=2))
        return
    typer.echo(format_long_metrics(metrics, list(real_series.channels)))


def _on_clock(series, path: Path):
    """(the series with its missing timestamps as gap rows, how many), said when there are any:
    lags of a day or a week are steps of the clock, and an outage's missing rows would shift
    every lag after it."""
    clock = fill_missing_steps(series)
    if clock.inserted:
        console.print(f"{path}: {clock.inserted} timestamps missing from its clock read as gaps "
                      f"({clock.gaps} stretch(es)), so lags are counted on the clock")  # fmt: skip
    return clock.series, clock.inserted


def _one_series(table: dict, path: Path, asset: str | None):
    if asset is not None:
        if asset not in table:
            raise DataError(f"asset {asset!r} is not in the file; assets: {sorted(table)}", file=str(path))
        return table[asset]
    if len(table) != 1:
        raise DataError(f"the file holds {len(table)} assets {sorted(table)}; pass --asset", file=str(path))
    return next(iter(table.values()))


def series_interval(series, path) -> float:
    if series.timestamps is None or series.n_steps < 2:
        raise DataError("the long-series metrics need timestamps (a day and a week of lags)", file=str(path))
    return float(np.median(np.diff(series.timestamps).astype("timedelta64[ns]").astype(np.int64))) / 1e9


def format_long_metrics(metrics: dict, channels: list[str] | None = None) -> str:
    """The long-series metrics as a plain-text table, the synthetic series beside the baselines,
    then the seam statistic of every channel (``channels`` names them)."""
    sets = list(LONG_SET_LABELS.values())
    lines = [f"long-series metrics ({metrics['long_n_steps']} synthetic steps; day = {metrics['long_day_lag']} steps, "
             f"week = {metrics['long_week_lag']} steps; concatenated = {metrics.get('long_concatenated_source')}; "
             f"seams: {metrics.get('long_seams')})"]
    lines.append(f"{'metric':38s}" + "".join(f"{s[:24]:>26s}" for s in sets))

    def cells(values) -> str:  # one column per set; a dash where a set has no value
        return "".join(f"{'-' if v is None else format(v, '.4f'):>26s}" for v in values)

    for label, _, values in long_series_rows(metrics):
        lines.append(f"{label:38s}" + cells(values))
    channel_rows = seam_channel_rows(metrics, channels)
    if channel_rows:
        lines.append("seam statistic per channel:")
        for name, values in channel_rows:
            lines.append(f"  {name[:36]:36s}" + cells(values))
    lines.append(
        "longest run within {:g} sd of a real run (steps): synthetic {}, held-out real {}, bootstrap {}".format(
            metrics["long_copy_tolerance"], metrics.get("long_longest_match_synthetic"),
            metrics.get("long_longest_match_holdout", "-"), metrics.get("long_longest_match_bootstrap"),
        )
    )
    return "\n".join(lines)


def memorization_line(metrics: dict) -> str:
    return f"memorization: {metrics.get('memorization_verdict', 'copies' if metrics['memorized'] else 'no copies')}"


def report(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit`"),
    real: Path = typer.Argument(..., help="the real data the model was trained on"),
    out: Path = typer.Option(Path("report.html"), "--out", help="HTML file to write"),
    n: int = typer.Option(2000, "--n", help="synthetic windows to draw"),
    full: bool = typer.Option(False, "--full", help="the full TimeGAN protocol (slower)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """Sample from a model and write its self-contained HTML report."""
    with user_errors():
        generator = load_generator(artifact)
        record = generator.training_
        real_set = windows_from_file(real, int(record.window or generator.n_steps_), asset=record.asset)
        synth = generator.sample(n, random_state=seed)
        # the memorization check replays the record: the rows, stride and split training used
        metrics = evaluate_windows(real_set.windows, synth, model=generator, fast=not full, seed=seed, source=real)
        write_evaluation_report(
            out, metrics=metrics, real=real_set.windows, synth=synth, channels=channel_names(generator), model=generator
        )
        console.print(f"wrote {out}")
