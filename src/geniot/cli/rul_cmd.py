"""`geniot rul fit`, `predict` and `futures`: remaining useful life from run-to-failure data.

Three inputs: C-MAPSS text files (``train_FD00x.txt``), a CSV/Parquet of ``unit, timestamp (or
cycle), sensors...`` (``;`` or ``,``), and a folder of vibration snapshots per bearing (health
indicators, onset of degradation and RUL after onset; see :mod:`geniot.data.bearings`). Every
choice made from the data is printed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from geniot.cli.progress import console, training_progress, user_errors
from geniot.core.exceptions import DataError
from geniot.data.bearings import defect_orders, read_bearing_folder, records_to_frame, to_rul_frame
from geniot.data.cmapss import SETTINGS, read_cmapss, read_rul
from geniot.data.io import write_frame
from geniot.data.rtf import read_rtf, read_unit_rul
from geniot.metrics.rul import rul_scores

rul_app = typer.Typer(help="Remaining useful life: fit on run-to-failure units, predict per unit.", no_args_is_help=True)

# The C-MAPSS conventions (cap 125) and what measured best there (BENCHMARKS section 5): a window
# of 40 cycles (short test units are padded) and sensors smoothed with weight 0.3.
CMAPSS_CAP, CMAPSS_WINDOW, CMAPSS_SMOOTHING = 125.0, 40, 0.3


def _say(lines) -> None:
    for line in lines:
        console.print(f"  {line}")


def _read_bearings(path: Path, meta: dict) -> pd.DataFrame:
    records, notes = read_bearing_folder(path, fs_hz=meta.get("fs_hz"), rpm=meta.get("rpm"), interval_s=meta.get("interval_s"))
    frame, more = records_to_frame(records, orders=meta.get("orders") or None)
    rtf = to_rul_frame(frame, time_unit=meta.get("time_unit"), source=str(path))
    meta.setdefault("time_unit", rtf.time_unit)
    _say(notes + more + rtf.notes)
    return rtf.frame


def _read_units(path: Path, meta: dict) -> pd.DataFrame:
    """C-MAPSS text, a bearing folder, or a CSV/Parquet of unit, time, sensors (by ``meta``)."""
    if path.is_dir():
        if meta.setdefault("source", "bearings") != "bearings":
            raise DataError("this model was trained on a table, not on bearing folders", file=str(path))
        return _read_bearings(path, meta)
    if path.name.lower().endswith(".txt"):
        meta.setdefault("source", "cmapss")
        return read_cmapss(path)
    if meta.setdefault("source", "table") == "bearings":
        raise DataError("this model was trained on bearing snapshot folders: give a folder", file=str(path))
    rtf = read_rtf(path, unit_column=meta.get("unit_column"), time_column=meta.get("time_column"),
                   interval=meta.get("interval"), time_unit=meta.get("time_unit"))  # fmt: skip
    meta.setdefault("time_unit", rtf.time_unit)
    _say(rtf.notes)
    return rtf.frame


def _share_range(text: str) -> tuple[float, float] | str | None:
    """``"0.5-0.95"`` or ``"0.5,0.95"`` -> (0.5, 0.95); ``auto`` -> "auto"; ``in-service`` -> None."""
    if text.strip().lower() == "auto":
        return "auto"
    if text.strip().lower() == "in-service":
        return None
    parts = text.replace(",", "-").split("-")
    try:
        a, b = (float(p) for p in parts)
    except ValueError:
        raise DataError(f"--observed-share {text!r}: give auto, in-service or two shares of life A-B, e.g. 0.5-0.95") from None
    return a, b


def _val_units(text: str | None):
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if len(parts) == 1 and parts[0].isdigit():
        return int(parts[0])
    return parts


@rul_app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="run-to-failure units: C-MAPSS train_FD00x.txt; a CSV/Parquet of unit, "
                                          "timestamp (or cycle), sensors; or a folder of bearing snapshot folders"),
    out: Path = typer.Option(..., "--out", help="model folder to write"),
    window: int | None = typer.Option(None, "--window", help="points per window (default: from the data; C-MAPSS 40)"),
    step: int | None = typer.Option(None, "--step", help="rows between window points (default: from the data)"),
    cap: float | None = typer.Option(None, "--cap", help="RUL cap in time units (default: 0.6 x median life; C-MAPSS 125)"),
    epochs: int = typer.Option(300, "--epochs", help="most epochs (exactly this many with --fixed-epochs)"),
    patience: int = typer.Option(30, "--patience", help="epochs without a better validation loss before stopping"),
    fixed_epochs: bool = typer.Option(False, "--fixed-epochs", help="train exactly --epochs, no early stopping and no "
                                                                    "time cap: results do not depend on machine load"),
    minutes: float | None = typer.Option(None, "--max-minutes", help="wall-clock cap for all nets together (default 15, "
                                                                     "none with --fixed-epochs)"),
    n_models: int = typer.Option(5, "--n-models", help="nets in the ensemble, each holding out its own units; their "
                                                       "quantiles are averaged (1: a single net, 5x faster)"),
    smoothing: float | None = typer.Option(None, "--smoothing", help="exponential smoothing of the sensors along each "
                                                                     "unit: weight of the newest row (default: none; "
                                                                     "C-MAPSS 0.3); 1 turns it off"),
    val_units: str | None = typer.Option(None, "--val-units", help="whole units held out for early stopping: a count "
                                                                   "or unit ids a,b (default 20%, from 5 units on)"),
    condition_columns: str | None = typer.Option(None, "--condition-columns", help="operating-condition columns, comma "
                                                 "separated (default: setting* columns and detected ones)"),  # fmt: skip
    unit_column: str | None = typer.Option(None, "--unit-column", help="unit column of a CSV (default: unit, bearing, ...)"),
    time_column: str | None = typer.Option(None, "--time-column", help="time column of a CSV (default: timestamp, cycle, ...)"),
    interval: str | None = typer.Option(None, "--interval", help="time per cycle step when the time column counts cycles, e.g. 10s"),
    time_unit: str | None = typer.Option(None, "--time-unit", help="RUL unit for timestamps: s, min, h, d (default: from the lives)"),
    fs: float | None = typer.Option(None, "--fs", help="bearings: sampling rate in Hz (or fs_hz in manifest.csv)"),
    rpm: float | None = typer.Option(None, "--rpm", help="bearings: shaft speed (or rpm in manifest.csv)"),
    snapshot_interval: float | None = typer.Option(None, "--snapshot-interval", help="bearings: seconds between snapshots"),
    orders: str | None = typer.Option(None, "--defect-orders", help="bearings: bpfo=3.58,bpfi=5.42,bsf=4.71 (x shaft frequency)"),
    geometry: str | None = typer.Option(None, "--geometry", help="bearings: n_balls,ball_d,pitch_d,contact_angle_deg"),
    augment: str | None = typer.Option(None, "--augment", help="gaussian-bins (best measured), gaussian, gaussian-rbf, diffusion or vae (generative), or jitter / smote"),
    n_synthetic: float = typer.Option(1.0, "--n-synthetic", help="with --augment: extra windows per real window (BENCHMARKS 5b: 2 was best)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """Train a RUL estimator (1-D CNN with 10/50/90% quantiles); every choice is printed."""
    from geniot.predictors.rul import RULEstimator

    with user_errors():
        meta = {k: v for k, v in {"unit_column": unit_column, "time_column": time_column, "interval": interval,
                                  "time_unit": time_unit, "fs_hz": fs, "rpm": rpm, "interval_s": snapshot_interval,
                                  "orders": defect_orders(orders, geometry=geometry)}.items() if v}  # fmt: skip
        console.print(f"reading {data}")
        frame = _read_units(data, meta)
        conditions = [c.strip() for c in condition_columns.split(",")] if condition_columns else None
        gate = None
        if meta["source"] == "cmapss":
            if cap is None or window is None or smoothing is None:
                console.print(f"  C-MAPSS file: cap {CMAPSS_CAP:g} cycles, window {CMAPSS_WINDOW} and smoothing "
                              f"{CMAPSS_SMOOTHING:g} (the C-MAPSS convention and what measured best there) unless given")  # fmt: skip
            cap = CMAPSS_CAP if cap is None else cap
            window = CMAPSS_WINDOW if window is None else window
            smoothing = CMAPSS_SMOOTHING if smoothing is None else smoothing
            if conditions is None:  # the settings, not a two-valued sensor that looks piecewise constant
                conditions = list(SETTINGS)
                console.print(f"  operating conditions: {', '.join(SETTINGS)} (C-MAPSS; --condition-columns to change)")
        elif meta["source"] == "bearings":
            gate = "onset"
            if conditions is None:
                conditions = ["condition"] if frame["condition"].nunique() > 1 else []
                console.print(f"  operating conditions: {sorted(frame['condition'].unique().tolist())} from manifest.csv; "
                              "indicators normalised by each unit's healthy baseline")  # fmt: skip
            else:
                console.print("  indicators normalised by each unit's healthy baseline")
        if minutes is None and not fixed_epochs:
            minutes = 15.0
        est = RULEstimator(window=window, step=step, cap=cap, epochs=epochs, patience=patience, fixed_epochs=fixed_epochs,
                           max_minutes=minutes, val_units=_val_units(val_units), condition_columns=conditions,
                           gate_column=gate, augment=augment, n_synthetic=n_synthetic, n_models=n_models,
                           smoothing=smoothing, random_state=seed)  # fmt: skip
        if meta["source"] == "bearings" and "condition" not in (conditions or []):
            frame = frame.drop(columns=["condition"])
        est.meta_ = meta
        with training_progress("fit rul", est.epochs * n_models) as progress:
            est.fit(frame, progress=progress, time_unit=meta.get("time_unit", "cycles"))
        _say(est.choices_)
        est.save(out)
        console.print(f"saved {out} ({frame['unit'].nunique()} units, {len(est.features_)} sensors, "
                      f"{n_models} net(s), {sum(len(h) for h in est.histories_)} epochs in all; RUL in {est.time_unit_})")  # fmt: skip


def _truth_for(truth: Path, pred: pd.DataFrame) -> np.ndarray:
    if truth.name.lower().endswith(".txt") and not truth.name.lower().endswith(".csv"):
        try:
            true = read_rul(truth)
        except (pd.errors.ParserError, ValueError):
            true = None
        if true is not None and len(true) != len(pred):
            raise DataError(f"{len(true)} true values for {len(pred)} units (a C-MAPSS RUL file lists them in order)",
                            file=str(truth))  # fmt: skip
        if true is not None:
            return true
    table = read_unit_rul(truth)
    by_unit = dict(zip(table["unit"].astype(str), table["rul"], strict=True))
    missing = [u for u in pred["unit"].astype(str) if u not in by_unit]
    if missing:
        raise DataError(f"no true RUL for unit(s) {missing[:5]}", file=str(truth))
    extra = set(by_unit) - set(pred["unit"].astype(str))
    if extra:
        console.print(f"  note: {len(extra)} unit(s) in the truth file were not predicted: {sorted(extra)[:5]}")
    return np.array([by_unit[u] for u in pred["unit"].astype(str)])


def _score_lines(scores: dict, cap: float, unit: str) -> list[str]:
    lines = []
    for name, s in (("uncapped", scores["uncapped"]), (f"capped at {cap:.4g}", scores["capped"])):
        acc = "n/a" if np.isnan(s["phm2012"]) else f"{s['phm2012']:.3f}"
        skipped = f" ({s['phm2012_skipped']} unit(s) with true RUL 0 left out)" if s["phm2012_skipped"] else ""
        lines.append(f"{name}: RMSE {s['rmse']:.4g}  MAE {s['mae']:.4g} {unit}  PHM08 {s['phm08']:.4g}  "
                     f"PHM2012 {acc}{skipped}  10-90% coverage {s['coverage_10_90']:.0%}  ({s['n']} units)")  # fmt: skip
    return lines


@rul_app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="folder written by `geniot rul fit`"),
    data: Path = typer.Argument(..., help="units to score (test_FD00x.txt, a CSV, or a bearing folder): RUL at each unit's last row"),
    out: Path = typer.Option(..., "--out", help="CSV or Parquet: unit, rul, lower, upper (and basis for bearings)"),
    truth: Path | None = typer.Option(None, "--truth", help="true RUL in the model's time unit: a CSV of unit, rul, "
                                                            "or C-MAPSS RUL_FD00x.txt; prints RMSE, MAE, PHM08, PHM2012 "
                                                            "and interval coverage, uncapped and capped"),
    observed_share: str | None = typer.Option(None, "--observed-share", help="bearings, the prior before onset: how "
                                              "the units were observed. auto (default): estimated from the ages and onset "
                                              "flags of the units predicted together; A-B, e.g. 0.5-0.95: cut at a share "
                                              "of their life in A-B; in-service: at an age independent of their life"),
) -> None:
    """Predict remaining useful life per unit, with a 10-90% interval."""
    from geniot.predictors.rul import RULEstimator

    with user_errors():
        est = RULEstimator.load(model)
        if observed_share is not None:
            est.set_params(observed_share=_share_range(observed_share)).validate()
            if est.gate_column is None:
                console.print("  note: --observed-share changes only the prior before onset; this model has no onset gate")
        meta = dict(est.meta_ or {})
        pred = est.predict(_read_units(data, meta), source=str(data))
        write_frame(pred, out)
        console.print(f"wrote {out} ({len(pred)} units, RUL in {est.time_unit_})")
        if "basis" in pred:
            for basis, n in pred["basis"].value_counts().items():
                console.print(f"  {n} unit(s): {basis}")
            early = pred["basis"] != "after onset: model"
            if early.any():
                share = est.observed_share
                if share == "auto":
                    said = pred.loc[early, "prior_from"].iloc[0]
                    how = said[said.find("the observation process"):] if "the observation process" in said else said
                    console.print(f"  prior before onset: training units near the same age, {how} (--observed-share "
                                  "A-B or in-service to fix it)")  # fmt: skip
                else:
                    console.print("  prior before onset: " + (f"training units at {share[0]:.0%}-{share[1]:.0%} of their life "
                                  "(--observed-share)" if share is not None else "training units still before onset at the same "
                                  "age (--observed-share in-service)"))  # fmt: skip
        if truth is not None:
            true = _truth_for(truth, pred)
            scores = rul_scores(pred["rul"], true, lower=pred["lower"], upper=pred["upper"], cap=est.cap_)
            _say(_score_lines(scores, est.cap_, est.time_unit_))
            if est.time_unit_ != "cycles":
                console.print("  (PHM08's constants 10 and 13 are in the data's time unit here, as in C-MAPSS cycles)")


@rul_app.command("futures")
def futures(
    model: Path = typer.Argument(..., help="folder written by `geniot rul fit`"),
    train: Path = typer.Argument(..., help="the run-to-failure units the model was fitted on (the generator learns "
                                           "their paths)"),
    data: Path = typer.Argument(..., help="units to continue: their last rows are the past of every path"),
    out: Path = typer.Option(..., "--out", help="CSV or Parquet of the paths: unit, future, step, time_ahead, rul, "
                                                "normalised sensors"),
    n: int = typer.Option(50, "--n", help="paths per unit"),
    times_out: Path | None = typer.Option(None, "--times-out", help="CSV or Parquet of the failure time per unit: "
                                                                    "median (rul), 10% (lower), 90% (upper), mean"),
    horizon: int | None = typer.Option(None, "--horizon", help="most rows per path (default: the cap in rows)"),
    past: int | None = typer.Option(None, "--past", help="past rows the generator is given (default: the model's "
                                                         "window span, at most 40)"),
    ahead: int = typer.Option(6, "--ahead", help="rows it generates per step"),
    generator: str = typer.Option("gaussian", "--generator", help="registry generator that imputes (gaussian, vae, diffusion)"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """A family of possible degradation paths per unit, rolled on to failure, and the failure time they imply."""
    from geniot.predictors.rul import RULEstimator
    from geniot.predictors.rul_futures import RULFutures

    with user_errors():
        if int(n) < 1:
            raise DataError(f"--n must be at least 1, got {n}")
        est = RULEstimator.load(model)
        meta = dict(est.meta_ or {})
        frame = _read_units(train, meta)
        units = _read_units(data, meta)
        fut = RULFutures(generator=generator, past=past, ahead=ahead, random_state=seed).fit(est, frame)
        _say(fut.choices_)
        times = fut.failure_times(units, n=max(int(n), 100))
        paths = fut.futures(units, n=int(n), horizon=horizon)
        write_frame(paths, out)
        console.print(f"wrote {out} ({paths['unit'].nunique() if len(paths) else 0} unit(s) x {n} paths, "
                      f"{len(paths)} rows; RUL in {est.time_unit_})")  # fmt: skip
        skipped = times["basis"] != "generated paths"
        if skipped.any():
            console.print(f"  {int(skipped.sum())} unit(s) before onset: no path (their RUL is the estimator's prior, "
                          "`geniot rul predict`)")  # fmt: skip
        if times_out is not None:
            write_frame(times, times_out)
            console.print(f"wrote {times_out} (failure time per unit)")
        for row in times[~skipped].head(10).itertuples():
            console.print(f"  unit {row.unit}: failure in {row.rul:.4g} {est.time_unit_} (10-90%: {row.lower:.4g}-{row.upper:.4g})")
