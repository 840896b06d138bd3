"""`geniot impute` and `geniot detect`: fill gaps and find anomalies with a fitted generator."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import typer

from geniot.cli.hints import with_hint
from geniot.cli.progress import console, user_errors, working
from geniot.core.exceptions import DataError
from geniot.data.clock import MAX_GAP_ROWS
from geniot.data.io import read_labels
from geniot.report import detection_figure, imputation_figure, write_figure_report
from geniot.workflows.detection import calibration_detector, detect_file, write_scores
from geniot.workflows.events_io import write_events
from geniot.workflows.gap_filling import fill_file, write_filled


def impute(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit`"),
    data: Path = typer.Argument(..., help="CSV or Parquet file with gaps (empty cells / NaN)"),
    out: Path = typer.Option(..., "--out", help="filled file, same layout as DATA (.csv or .parquet)"),
    draws: int = typer.Option(1, "--draws", help="imputation draws; more than 1 adds lower/upper columns"),
    interval: float = typer.Option(0.9, "--interval", help="coverage of the lower/upper interval"),
    stride: int | None = typer.Option(None, "--stride", help="steps between covering windows (default half a window)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    report: Path | None = typer.Option(None, "--report", help="also write an HTML report of the filled gaps"),
    method: str = typer.Option("auto", "--method", help="auto (best on held-out gaps like the file's), model, gaussian or linear"),
) -> None:
    """Fill the gaps of a data file; observed values are kept exactly."""
    with user_errors():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with working(f"filling the gaps of {data}"):
                results, layout = fill_file(artifact, data, n_draws=draws, interval=interval, stride=stride, seed=seed, method=method)
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {with_hint(w.message)}")
        for asset, r in results.items():
            if r.clock is not None and r.clock.inserted:
                console.print(f"{asset}: {r.clock.inserted} timestamps missing from the clock in {r.clock.gaps} stretch(es) "
                              "(an outage: no row in the file) added as rows and filled")  # fmt: skip
            if r.clock is not None and r.clock.left:
                console.print(f"[yellow]{asset}: {r.clock.left} stretch(es) of more than {MAX_GAP_ROWS} missing timestamps "
                              "(a shutdown) left as they are, not filled[/yellow]")  # fmt: skip
            if r.selection is not None and r.selection.kinds:
                console.print(f"{asset}: {r.selection.reason}")
        write_filled(results, layout, out, data=data, with_interval=draws > 1)
        total = sum(r.n_filled for r in results.values())
        console.print(f"filled {total} missing values in {len(results)} series; wrote {out} ({layout} layout)")
        if report is not None:
            sections = []
            for asset, r in results.items():
                fig = imputation_figure(
                    r.original.values, r.filled.values, r.lower.values, r.upper.values,
                    r.filled.channels, r.filled.timestamps,
                )  # fmt: skip
                sections.append((f"{asset}: {r.n_filled} filled values", fig))
            info = {"model": str(artifact), "data": str(data), "draws": draws, "interval": interval}
            write_figure_report(report, title="geniot gap filling", info=info, sections=sections)
            console.print(f"wrote {report}")


def _threshold(text: str) -> str | float:
    if text in ("pot", "quantile"):
        return text
    try:
        return float(text)
    except ValueError:
        raise DataError(f"--threshold must be 'pot', 'quantile' or a number, got {text!r}") from None


def detect(
    artifact: Path = typer.Argument(..., help="artifact folder written by `geniot fit` (or a saved detector)"),
    data: Path = typer.Argument(..., help="CSV or Parquet file to score"),
    out: Path = typer.Option(..., "--out", help="scores file (.csv or .parquet): one row per input row"),
    train_rows: int | None = typer.Option(None, "--train-rows", help="the first K rows of DATA are normal: calibrate on them"),
    normal: Path | None = typer.Option(None, "--normal", help="a file of normal data to calibrate on"),
    threshold: str = typer.Option("pot", "--threshold", help="'pot' (peaks over threshold), 'quantile' or a number"),
    risk: float = typer.Option(1e-3, "--risk", help="for 'pot': exceedance probability per window on normal data"),
    smoothing: int = typer.Option(1, "--smoothing", help="trailing mean over this many window scores"),
    align: str = typer.Option("end", "--align", help="'end' (causal) or 'center': which window scores a step"),
    score: str | None = typer.Option(None, "--score", help="when calibrating: 'step' (the last step given the rest of its window; default with --align end) or 'window' (whole windows: what `geniot export` puts on a device)"),
    asset: str | None = typer.Option(None, "--asset", help="score one asset of a multi-asset file"),
    save_detector: Path | None = typer.Option(None, "--save-detector", help="save the calibrated detector to this folder"),
    report: Path | None = typer.Option(None, "--report", help="also write an HTML report (scores, threshold, events)"),
    events_out: Path | None = typer.Option(None, "--events", help="also write the events (JSON: id asset@start, start/end/peak, sensors)"),
) -> None:
    """Anomaly score, flag and top sensors for every row of a data file."""
    with user_errors():
        if score is not None and train_rows is None and normal is None:
            raise typer.BadParameter("--score applies when calibrating: pass --train-rows K or --normal FILE", param_hint="--score")
        template = calibration_detector(threshold=_threshold(threshold), risk=risk, smoothing=smoothing, align=align, score=score)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with working(f"scoring {data}"):
                detector, results = detect_file(artifact, data, train_rows=train_rows, normal=normal, asset=asset, detector=template)
        for w in caught:
            console.print(f"[yellow]warning:[/yellow] {with_hint(w.message)}")
        write_scores(results, out)
        if events_out is not None:
            write_events(results, events_out)
        console.print(detector.thresholds_text())
        for name, (series, det) in results.items():
            console.print(f"{name}: {int(det.flags.sum())} of {series.n_steps} rows flagged, {len(det.events)} event(s)")
            for e in det.events[:10]:
                where = f"{e.start_time} .. {e.end_time}" if e.start_time else f"rows {e.start + 1}..{e.end + 1}"
                console.print(f"  {where}  peak {e.peak_score:.4g}  top: {', '.join(e.top_sensors) or '-'}  ({det.event_reason(e)})")
            if len(det.events) > 10:
                console.print(f"  ... {len(det.events) - 10} more")
        console.print(f"wrote {out}")
        if save_detector is not None:
            detector.save(save_detector)
            console.print(f"saved detector {save_detector}")
        if report is not None:
            labels = read_labels(data)
            sections = []
            for name, (series, det) in results.items():
                lab = None
                if labels is not None and "anomaly" in labels and len(labels) == series.n_steps:
                    lab = np.asarray(labels["anomaly"], dtype=float)
                fig = detection_figure(series.values, det.scores, det.thresholds, det.flags, series.channels, series.timestamps, lab)
                sections.append((f"{name}: {len(det.events)} event(s)", fig))
            info = {"model": str(artifact), "data": str(data), "threshold": detector.threshold_.rule}
            write_figure_report(report, title="geniot anomaly detection", info=info, sections=sections)
            console.print(f"wrote {report}")
