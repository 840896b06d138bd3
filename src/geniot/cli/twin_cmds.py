"""`geniot forecast`, `geniot whatif` and `geniot plan`: the digital twin and the maintenance plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from geniot.cli.progress import console, training_progress, user_errors
from geniot.core.exceptions import DataError
from geniot.data.io import read_series, write_frame
from geniot.models.loading import load_generator
from geniot.report import forecast_figure, plan_figure, whatif_figure, write_figure_report
from geniot.workflows.gap_filling import in_model_order
from geniot.workflows.training import build_model, channel_names


def forecast(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit` (a model that can impute)"),
    data: Path = typer.Argument(..., help="the series to continue (CSV or Parquet)"),
    horizon: int = typer.Option(..., "--horizon", help="steps to forecast (less than the model's window)"),
    out: Path = typer.Option(..., "--out", help="CSV/Parquet: step, timestamp, <signal>, <signal>_lower, <signal>_upper"),
    draws: int = typer.Option(50, "--draws", help="sampled futures"),
    interval: float = typer.Option(0.9, "--interval", help="coverage of the band"),
    asset: str | None = typer.Option(None, "--asset", help="asset of a multi-asset file"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    report: Path | None = typer.Option(None, "--report", help="also write an HTML report with the forecast plot"),
) -> None:
    """Forecast the next steps of a series with intervals (the generator fills a gap at the end)."""
    from geniot.tasks.twin import Forecaster

    with user_errors():
        gen = load_generator(artifact)
        series = in_model_order(read_series(data, asset=asset), gen)
        res = Forecaster(generator=gen, horizon=horizon, n_draws=draws, interval=interval, random_state=seed).forecast(series)
        names = channel_names(gen)
        ts = series.timestamps
        future = None
        if ts is not None and len(ts) > 1:
            step = np.median(np.diff(ts[-50:]))
            future = ts[-1] + step * np.arange(1, horizon + 1)
        frame = pd.DataFrame({"step": np.arange(1, horizon + 1)})
        if future is not None:
            frame["timestamp"] = future
        for j, name in enumerate(names):
            frame[name], frame[f"{name}_lower"], frame[f"{name}_upper"] = res["median"][:, j], res["lower"][:, j], res["upper"][:, j]
        write_frame(frame, out, layout=series.layout)  # the input's separator, decimal, zone, headers
        console.print(f"wrote {out} ({horizon} steps x {len(names)} signals, {draws} draws)")
        if report is not None:
            past = series.values[-3 * horizon :]
            fig = forecast_figure(past, res, names, None if ts is None else ts[-len(past) :], future)
            write_figure_report(report, title="geniot forecast", info={"model": str(artifact), "data": str(data), "horizon": horizon}, sections=[("Forecast", fig)])
            console.print(f"wrote {report}")


def whatif(
    data: Path = typer.Argument(..., help="history of the machine (CSV or Parquet)"),
    control: str = typer.Option(..., "--control", help="the signal to set (e.g. speed_rpm): the condition"),
    values: list[float] = typer.Option(..., "--set", help="value of the control for a scenario (repeat)"),
    out: Path = typer.Option(..., "--out", help="CSV/Parquet: scenario, step, signal, median, lower, upper"),
    model: str = typer.Option("gaussian", "--model", help="conditional generator to fit"),
    window: int = typer.Option(24, "--window", help="steps per window"),
    max_minutes: float = typer.Option(2.0, "--max-minutes", help="training budget for torch models"),
    samples: int = typer.Option(200, "--samples", help="sampled windows per scenario"),
    asset: str | None = typer.Option(None, "--asset", help="asset of a multi-asset file"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    report: Path | None = typer.Option(None, "--report", help="also write an HTML report with the scenarios"),
    exogenous: list[str] | None = typer.Option(None, "--exogenous", help="signal set by the surroundings, held as given (repeat; 'none' for none; default: found by name, e.g. ambient_*)"),
) -> None:
    """Simulate the machine with the control held at chosen values (conditional generation)."""
    from geniot.tasks.twin import WhatIf

    with user_errors():
        series = read_series(data, asset=asset)
        gen = build_model(model, max_minutes=max_minutes, seed=seed)
        with training_progress(f"fit {model}", getattr(gen, "epochs", 1)) as progress:
            declared = None if not exogenous else [e for e in exogenous if e.lower() != "none"]
            twin = WhatIf(generator=gen, window=window, n_samples=samples, exogenous=declared, random_state=seed).fit(series, control=control, progress=progress)
        if twin.exogenous_:
            how = "declared" if declared is not None else "found by name"
            console.print(f"held as given, drawn from the history and not moved by {control} ({how}): {', '.join(twin.exogenous_)}")
        results, frames = {}, []
        for v in values:
            res = twin.simulate(v)
            results[f"{control} = {v:g}"] = res
            for j, name in enumerate(series.channels):
                frames.append(pd.DataFrame({"scenario": f"{control}={v:g}", "step": np.arange(window), "signal": name,
                                            "median": res["median"][:, j], "lower": res["lower"][:, j], "upper": res["upper"][:, j]}))  # fmt: skip
        write_frame(pd.concat(frames, ignore_index=True), out)
        lo, hi = twin.control_range_
        console.print(f"wrote {out} ({len(values)} scenarios; {control} seen in training: {lo:g} .. {hi:g})")
        for name, res in results.items():
            means = ", ".join(f"{c} {res['median'][:, j].mean():.4g}" for j, c in enumerate(series.channels) if c != control)
            console.print(f"  {name}: {means}")
        if report is not None:
            write_figure_report(report, title="geniot what-if", info={"data": str(data), "control": control, "model": model},
                                sections=[("Scenarios", whatif_figure(results, series.channels))])  # fmt: skip
            console.print(f"wrote {report}")


def plan(
    fleet: Path = typer.Argument(..., help="CSV with unit, rul[, lower, upper] (e.g. from `geniot rul predict`)"),
    planned: float = typer.Option(..., "--planned", help="cost of a planned service"),
    unplanned: float = typer.Option(..., "--unplanned", help="cost of an unplanned failure"),
    crew: int = typer.Option(..., "--crew", help="services the crew can do per day"),
    out: Path = typer.Option(..., "--out", help="CSV: unit, day, p_failure_before, expected_cost"),
    horizon: int = typer.Option(60, "--horizon", help="days to plan"),
    cycles_per_day: float = typer.Option(1.0, "--cycles-per-day", help="RUL units (cycles, hours, ...) per day"),
    report: Path | None = typer.Option(None, "--report", help="also write an HTML report with the timeline"),
) -> None:
    """A maintenance schedule that minimises expected cost within the crew's capacity."""
    from geniot.tasks.plan import plan_maintenance

    with user_errors():
        if not fleet.is_file():
            raise DataError("the file does not exist", file=str(fleet))
        table = pd.read_csv(fleet)
        schedule, summary = plan_maintenance(table, planned=planned, unplanned=unplanned, crew_per_day=crew,
                                             horizon_days=horizon, cycles_per_day=cycles_per_day)  # fmt: skip
        write_frame(schedule, out)
        console.print(schedule.head(20).to_string(index=False))
        console.print(
            f"expected cost: plan {summary['expected_cost_plan']:.4g} vs run-to-failure {summary['expected_cost_run_to_failure']:.4g}; "
            f"at most {summary['max_jobs_per_day']} jobs a day (crew {crew}); {summary['unscheduled_units']} unit(s) not scheduled"
        )
        console.print(f"wrote {out}")
        if report is not None:
            write_figure_report(report, title="geniot maintenance plan", info={"fleet": str(fleet), **summary},
                                sections=[("Timeline", plan_figure(schedule, table, cycles_per_day))])  # fmt: skip
            console.print(f"wrote {report}")
