"""`geniot fit`, `geniot sample` and `geniot models`."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from geniot.cli.progress import console, training_progress, user_errors
from geniot.core.exceptions import GeniotError
from geniot.core.record import channel_names
from geniot.models.loading import load_generator
from geniot.models.registry import generator_class, generator_names
from geniot.tasks import AnomalyDetector
from geniot.workflows.datasets import windows_from_file
from geniot.workflows.model_selection import AUTO_CANDIDATES, choose_generator
from geniot.workflows.training import build_model, parse_params, train_and_save
from geniot.workflows.windows_io import training_layout, write_windows


def fit(
    data: Path = typer.Argument(..., help="CSV or Parquet file, wide or long layout"),
    model: str = typer.Option(
        "diffusion", "--model", help="generator name (see `geniot models`), or auto: train the candidates, keep the one whose "
        "samples pass best for held-out real windows (and do not copy), and say why"
    ),
    candidates: str | None = typer.Option(
        None, "--candidates", help=f"with --model auto: comma-separated models to try (default: {','.join(AUTO_CANDIDATES)})"
    ),
    window: int = typer.Option(24, "--window", help="steps per window"),
    out: Path = typer.Option(..., "--out", help="artifact folder to write"),
    stride: int = typer.Option(1, "--stride", help="steps between window starts"),
    max_minutes: float = typer.Option(10.0, "--max-minutes", help="wall-clock training budget in minutes (0 = no limit)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    asset: str | None = typer.Option(None, "--asset", help="train on one asset of a multi-asset file"),
    holdout: float = typer.Option(0.0, "--holdout", help="fraction of windows kept out for the memorization check"),
    holdout_split: str = typer.Option(
        "blocks", "--holdout-split", help="blocks (spread over the whole span, default) or time (the latest windows)"
    ),
    params: str | None = typer.Option(None, "--params", help="model parameters as JSON, e.g. '{\"epochs\": 50}'"),
    train_rows: int | None = typer.Option(None, "--train-rows", help="train on the first K rows of each series only"),
    labels: Path | None = typer.Option(
        None, "--labels", help="fault labels (e.g. from `geniot simulate --labels`): fault rows stay out of training "
        "and each fault is learned for `geniot synthesize --fault`"
    ),
    epsilon: float | None = typer.Option(
        None, "--epsilon", help="train with differential privacy (DP-SGD) within this epsilon (torch models, e.g. vae)"
    ),
    delta: float = typer.Option(1e-5, "--delta", help="delta of the DP guarantee (with --epsilon)"),
    calendar: bool = typer.Option(
        False, "--calendar", help="learn time of day and day of week as conditions, so `geniot synthesize` keeps daily and weekly cycles"
    ),
    calibration: float = typer.Option(
        0.2, "--calibration", help="share of the training windows kept out to calibrate an anomaly detector "
        "(blocks across the span; models with a likelihood; 0 = none), so `geniot detect MODEL DATA` needs no --train-rows"
    ),
) -> None:
    """Train a generative model of the data's sensor windows."""
    with user_errors():
        windows = windows_from_file(
            data, window, stride=stride, asset=asset, train_rows=train_rows, labels=labels, calendar=calendar
        )
        choice = None
        if model == "auto":
            choice, max_minutes = _choose(windows, candidates, params=params, epsilon=epsilon, max_minutes=max_minutes, seed=seed)
            model = choice.chosen
        elif candidates:
            raise GeniotError("--candidates goes with --model auto")
        generator = build_model(
            model, params=parse_params(params), max_minutes=max_minutes or None, seed=seed,
            epsilon=epsilon, delta=delta,
        )
        console.print(
            f"training {model} on {len(windows.windows)} windows of {window} x {len(windows.channels)} "
            f"({', '.join(windows.channels)})"
        )
        if windows.missing_steps:
            clock = windows.timing.get("interval_s")
            console.print(
                "[yellow]missing timestamps read as gaps[/yellow]"
                + (f" (on the {clock:g} s clock)" if clock else "") + ", so no window joins the two sides of an outage: "
                + "; ".join(f"{a} {n} in {g} stretch(es)" for a, (n, g) in windows.missing_steps.items())
            )
        if windows.text_columns:
            console.print(
                f"[yellow]not modelled: {', '.join(windows.text_columns)}[/yellow] (text columns: impute, detect and forecast "
                "write them back as read, but the generator does not learn them: sample leaves them out, synthesize fills them from the real rows nearest its readings)"
            )
        epochs = getattr(generator, "epochs", None) or getattr(getattr(generator, "generator", None), "epochs", 1)
        with training_progress(f"fit {model}", epochs, budget_minutes=max_minutes or None) as progress:
            train_and_save(
                windows, generator, out, window=window, stride=stride, holdout=holdout, progress=progress, train_rows=train_rows,
                holdout_split_by=holdout_split, calibration=calibration, labels=labels, seed=seed,
                budget_minutes=max_minutes or None,
            )
        record = generator.training_
        if record.calibration_skipped:
            console.print(f"[yellow]{record.calibration_skipped}[/yellow]")
        elif record.calibration:
            detector = AnomalyDetector.load(out)
            console.print(
                f"anomaly detector calibrated on {detector.n_calibration_windows_} held-out windows ({record.calibration:.0%} "
                f"of the training windows, in blocks across the span): {detector.thresholds_text()}"
            )
        if windows.faults:
            console.print(f"learned faults for `geniot synthesize --fault`: {', '.join(sorted(windows.faults))}")
        privacy = getattr(generator, "privacy_", None)
        if privacy is not None:
            console.print(privacy_summary(privacy, stride=stride, window=window))
        if choice is not None:
            choice.save(out)
        console.print(f"saved {out}")


def _choose(windows, candidates: str | None, *, params, epsilon, max_minutes: float, seed: int):
    """--model auto: the held-out choice (printed), and the budget left for the chosen model's fit."""
    if params or epsilon is not None:
        raise GeniotError("--params and --epsilon belong to one model: name it with --model instead of auto")
    names = [c.strip() for c in candidates.split(",") if c.strip()] if candidates else list(AUTO_CANDIDATES)
    started = time.monotonic()
    selection = 0.6 * max_minutes if max_minutes else None
    console.print(
        f"choosing a model: {', '.join(names)} each train on 80% of the windows (blocks across the span)"
        + (f" within {selection / len(names):.1f} min" if selection else "")
        + "; their samples are judged against the held-out 20%"
    )
    choice = choose_generator(
        windows, candidates=names, budget_minutes=selection, seed=seed,
        progress_for=lambda name, minutes: training_progress(f"auto: {name}", None, budget_minutes=minutes),
        on_result=lambda result: console.print(f"  {result.line()}"),
    )  # fmt: skip
    console.print(choice.verdict())
    if not max_minutes:
        return choice, max_minutes
    left = max_minutes - (time.monotonic() - started) / 60.0
    floor = 0.25 * max_minutes
    if left < floor:
        console.print(f"[yellow]the choice took longer than planned: {choice.chosen} still gets {floor:.1f} min[/yellow]")
    return choice, max(left, floor)


def privacy_summary(privacy: dict, *, stride: int, window: int) -> str:
    """One paragraph on the DP guarantee a model was trained under."""
    spent = privacy["epsilon_spent"]
    eps = "inf (no noise)" if spent is None else f"{spent:.3g}"
    text = (
        f"DP-SGD: epsilon {eps} spent (target {privacy['epsilon_target']}), delta {privacy['delta']:g}, "
        f"noise multiplier {privacy['noise_multiplier']:.3g}, clip norm {privacy['max_grad_norm']:g}, "
        f"{privacy['steps']} steps at sample rate {privacy['sample_rate']:.3g} ({privacy['stop_reason']}); "
        f"scaling bounds from {privacy['bounds_source']}. The unit of privacy is one window"
    )
    if stride < window:
        text += f"; with stride {stride} a reading lies in up to {-(-window // stride)} windows"
    return text + "."


def sample(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit`"),
    n: int = typer.Option(..., "--n", help="number of windows"),
    out: Path = typer.Option(..., "--out", help=".npy (n, window, channels), .csv or .parquet"),
    seed: int | None = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """Sample synthetic windows in the data's original units."""
    with user_errors():
        generator = load_generator(artifact)
        windows = generator.sample(n, random_state=seed)
        write_windows(windows, out, channel_names(generator), layout=training_layout(generator))  # the training file's layout
        console.print(f"wrote {out} ({windows.shape[0]} windows of {windows.shape[1]} x {windows.shape[2]})")


def models() -> None:
    """List the registered generators and their capabilities."""
    for name in generator_names():
        tags = generator_class(name).tags
        typer.echo(
            f"{name:10s} conditional={tags.conditional!s:5s} native_impute={tags.native_impute!s:5s} "
            f"likelihood={tags.likelihood}"
        )
