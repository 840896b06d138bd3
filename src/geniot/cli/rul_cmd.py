"""`geniot rul fit` and `geniot rul predict`: remaining useful life from run-to-failure data."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from geniot.cli.progress import console, training_progress, user_errors
from geniot.core.exceptions import DataError
from geniot.data.cmapss import read_cmapss, read_rul
from geniot.data.io import write_frame
from geniot.metrics import phm08_score

rul_app = typer.Typer(help="Remaining useful life: fit on run-to-failure units, predict per unit.", no_args_is_help=True)


def _read_units(path: Path) -> pd.DataFrame:
    """C-MAPSS text (unit, cycle, 3 settings, 21 sensors) or a CSV/Parquet with unit and cycle columns."""
    name = path.name.lower()
    if name.endswith(".txt"):
        return read_cmapss(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    frame = pd.read_parquet(path) if name.endswith(".parquet") else pd.read_csv(path, sep=None, engine="python")
    for col in ("unit", "cycle"):
        if col not in frame:
            raise DataError(f"missing column {col!r} (needed: unit, cycle, sensors)", file=str(path))
    return frame


@rul_app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="run-to-failure units: C-MAPSS train_FD00x.txt, or CSV/Parquet with unit, cycle, sensors"),
    out: Path = typer.Option(..., "--out", help="model folder to write"),
    window: int = typer.Option(30, "--window", help="cycles per window"),
    cap: float = typer.Option(125.0, "--cap", help="RUL cap (early life counts as healthy)"),
    minutes: float = typer.Option(2.0, "--max-minutes", help="training budget in minutes"),
    augment: str | None = typer.Option(None, "--augment", help="gaussian, diffusion or vae (generative), or jitter"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """Train a RUL estimator (1-D CNN with 10/50/90% quantiles)."""
    from geniot.tasks.rul import RULEstimator

    with user_errors():
        frame = _read_units(data)
        est = RULEstimator(window=window, cap=cap, max_minutes=minutes, augment=augment, random_state=seed)
        with training_progress("fit rul", est.epochs) as progress:
            est.fit(frame, progress=progress)
        est.save(out)
        console.print(f"saved {out} ({frame['unit'].nunique()} units, {len(est.features_)} sensors, {len(est.history_)} epochs)")


@rul_app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="folder written by `geniot rul fit`"),
    data: Path = typer.Argument(..., help="units to score (e.g. test_FD00x.txt): RUL at each unit's last cycle"),
    out: Path = typer.Option(..., "--out", help="CSV or Parquet: unit, rul, lower, upper"),
    truth: Path | None = typer.Option(None, "--truth", help="RUL_FD00x.txt: also print RMSE and the PHM08 score"),
) -> None:
    """Predict remaining useful life per unit, with a 10-90% interval."""
    from geniot.tasks.rul import RULEstimator

    with user_errors():
        est = RULEstimator.load(model)
        pred = est.predict(_read_units(data), source=str(data))
        write_frame(pred, out)
        console.print(f"wrote {out} ({len(pred)} units)")
        if truth is not None:
            true = np.minimum(read_rul(truth), float(est.cap))
            if len(true) != len(pred):
                raise DataError(f"{len(true)} true values for {len(pred)} units", file=str(truth))
            d = pred["rul"].to_numpy() - true
            score = phm08_score(pred["rul"], true)
            console.print(f"RMSE {np.sqrt(np.mean(d**2)):.2f}  PHM08 {score:.0f}  (truth capped at {est.cap:g})")
