"""`geniot faults fit` and `geniot faults predict`: bearing fault classes from vibration recordings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import typer

from geniot.cli.progress import console, user_errors
from geniot.data.cwru import cut_windows, load_recordings

faults_app = typer.Typer(help="Fault classes from vibration recordings (CWRU-format folders).", no_args_is_help=True)


def _windows(root: Path, fs: int, loads: list[int] | None, window: int, stride: int | None):
    recs = load_recordings(root, fs_hz=fs, loads=tuple(loads) if loads else None)
    xs, ys, names, index = [], [], [], []
    for r in recs:
        w = cut_windows(r.signal, window, stride)
        xs.append(w)
        ys.append(np.full(len(w), r.label))
        names += [r.file] * len(w)
        index += list(range(len(w)))
    return np.concatenate(xs), np.concatenate(ys), names, index


@faults_app.command("fit")
def fit(
    data: Path = typer.Argument(..., help="folder with manifest.csv and .npz recordings (the CWRU layout)"),
    out: Path = typer.Option(..., "--out", help="model folder to write"),
    loads: list[int] | None = typer.Option(None, "--load", help="train on these loads (repeat; default all)"),
    fs: int = typer.Option(12_000, "--fs", help="sampling rate of the recordings to use"),
    window: int = typer.Option(2048, "--window", help="samples per window"),
    augment: str | None = typer.Option(None, "--augment", help="gaussian (class-conditional) or smote"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
) -> None:
    """Train a fault classifier on windows of the recordings (windows overlap by half)."""
    from geniot.predictors.faults import FaultClassifier

    with user_errors():
        x, y, names, _ = _windows(data, fs, loads, window, window // 2)
        clf = FaultClassifier(augment=augment, random_state=seed).fit(x, y)
        clf.save(out)
        console.print(f"saved {out} ({len(x)} windows from {len(set(names))} recordings, classes {sorted(set(y.tolist()))})")


@faults_app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="folder written by `geniot faults fit`"),
    data: Path = typer.Argument(..., help="folder with manifest.csv and .npz recordings"),
    out: Path = typer.Option(..., "--out", help="CSV: file, window, label, predicted, probability"),
    loads: list[int] | None = typer.Option(None, "--load", help="only these loads (repeat)"),
    fs: int = typer.Option(12_000, "--fs", help="sampling rate of the recordings to use"),
    window: int = typer.Option(2048, "--window", help="samples per window (as in training)"),
) -> None:
    """Predict the fault class of every window; prints accuracy against the manifest's labels."""
    from geniot.predictors.faults import FaultClassifier

    with user_errors():
        clf = FaultClassifier.load(model)
        x, y, names, index = _windows(data, fs, loads, window, None)
        proba = clf.predict_proba(x)
        pred = clf.classes_[proba.argmax(axis=1)]
        frame = pd.DataFrame({"file": names, "window": index, "label": y, "predicted": pred, "probability": proba.max(axis=1)})
        out.parent.mkdir(parents=True, exist_ok=True)
        frame.to_csv(out, index=False)
        console.print(f"wrote {out} ({len(frame)} windows); accuracy {np.mean(pred == y):.3f} against the manifest's label10")
