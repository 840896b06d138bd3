"""`geniot evaluate` and `geniot report`: fidelity, utility and memorization of synthetic data."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.workflows.datasets import windows_from_file
from geniot.workflows.evaluation import evaluate as evaluate_windows
from geniot.workflows.evaluation import write_evaluation_report
from geniot.workflows.training import channel_names
from geniot.workflows.windows_io import read_windows


def evaluate(
    real: Path = typer.Argument(..., help="real data file (CSV or Parquet)"),
    synthetic: Path = typer.Argument(..., help="synthetic windows (.npy, .csv or .parquet from `geniot sample`)"),
    window: int = typer.Option(..., "--window", help="steps per window (as in training)"),
    out: Path | None = typer.Option(None, "--out", help="HTML report to write"),
    model: Path | None = typer.Option(None, "--model", help="artifact folder: adds the training curve and the memorization split"),
    as_json: bool = typer.Option(False, "--json", help="print the metrics as JSON on stdout"),
    full: bool = typer.Option(False, "--full", help="the full TimeGAN protocol (slower) instead of the quick one"),
    asset: str | None = typer.Option(None, "--asset", help="use one asset of a multi-asset file"),
    seed: int = typer.Option(0, "--seed", help="random seed of the metric classifiers"),
) -> None:
    """Compare synthetic windows with real data: metrics as JSON and an HTML report."""
    with user_errors():
        real_set = windows_from_file(real, window, asset=asset)
        synth, synth_channels = read_windows(synthetic)
        if synth_channels is not None and list(synth_channels) != list(real_set.channels):
            raise DataError(
                f"synthetic channels {synth_channels} differ from the real channels {list(real_set.channels)}",
                file=str(synthetic),
            )
        generator = BaseGenerator.load(model) if model is not None else None
        metrics = evaluate_windows(real_set.windows, synth, model=generator, fast=not full, seed=seed)
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
        generator = BaseGenerator.load(artifact)
        meta = getattr(generator, "metadata_", {})
        window = int(meta.get("window", generator.n_steps_))
        real_set = windows_from_file(real, window, asset=(meta.get("assets") or [None])[0] if len(meta.get("assets", [])) == 1 else None)
        synth = generator.sample(n, random_state=seed)
        metrics = evaluate_windows(real_set.windows, synth, model=generator, fast=not full, seed=seed)
        write_evaluation_report(
            out, metrics=metrics, real=real_set.windows, synth=synth, channels=channel_names(generator), model=generator
        )
        console.print(f"wrote {out}")
