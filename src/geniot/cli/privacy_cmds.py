"""`geniot audit`: what synthetic windows reveal about the real windows a generator was trained on."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.core.record import TrainingRecord, channel_names
from geniot.models.loading import load_generator
from geniot.privacy.audit import audit_privacy
from geniot.privacy.audit_report import write_audit_report
from geniot.workflows.datasets import describe_holdout, holdout_split, windows_from_file
from geniot.workflows.evaluation import complete_windows
from geniot.workflows.training import replay_training_windows
from geniot.workflows.windows_io import read_windows


def _utility_rows(path: Path) -> list[dict]:
    """Rows with epsilon, discriminative_score and mia_auc from a JSON-lines file (e.g. the benchmark's)."""
    if not path.is_file():
        raise DataError("file not found", file=str(path))
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"not a JSON line ({exc})", file=str(path), row=number) from None
        if isinstance(row, dict) and "epsilon" in row and ("discriminative_score" in row or "mia_auc" in row):
            rows.append(row)
    if not rows:
        raise DataError("no rows with 'epsilon' and 'discriminative_score' or 'mia_auc'", file=str(path))
    return rows


def audit(
    real: Path = typer.Argument(..., help="the real data the generator was trained on (CSV or Parquet)"),
    synthetic: Path = typer.Argument(..., help="synthetic windows (.npy, .csv or .parquet from `geniot sample`)"),
    holdout: Path | None = typer.Option(None, "--holdout", help="real data from the same source that the generator never saw"),
    holdout_fraction: float | None = typer.Option(
        None, "--holdout-fraction", help="this fraction of REAL's windows was held out of training (as `geniot fit --holdout`; the split the model records, else the latest windows)"
    ),
    window: int | None = typer.Option(None, "--window", help="steps per window (default: the model's, else 24)"),
    stride: int | None = typer.Option(None, "--stride", help="steps between window starts (default: the model's, else 1)"),
    model: Path | None = typer.Option(None, "--model", help="artifact folder: window, stride, holdout and DP budget from it"),
    asset: str | None = typer.Option(None, "--asset", help="use one asset of a multi-asset file"),
    report: Path | None = typer.Option(None, "--report", help="HTML report to write"),
    out: Path | None = typer.Option(None, "--out", help="metrics JSON to write"),
    utility: Path | None = typer.Option(
        None, "--utility", help="JSON lines of DP runs (epsilon, discriminative_score, mia_auc) for the privacy-utility plot"
    ),
    max_windows: int = typer.Option(2000, "--max-windows", help="cap on each set of windows (random subsample)"),
    seed: int = typer.Option(0, "--seed", help="random seed of the subsampling"),
    strict: bool = typer.Option(False, "--strict", help="exit with code 1 when the verdict is FAIL"),
) -> None:
    """Privacy audit: membership-inference AUC, DCR and NNDR against held-out real windows."""
    with user_errors():
        generator = load_generator(model) if model is not None else None
        record = generator.training_ if generator is not None else TrainingRecord()
        win = int(window or record.window or (generator.n_steps_ if generator is not None else 24))
        if holdout is not None and holdout_fraction is not None:
            raise DataError("give either --holdout or --holdout-fraction, not both")
        step = int(stride or record.stride or 1)
        replay = generator is not None and holdout is None and holdout_fraction is None and record.holdout > 0
        if replay and (window in (None, record.window)) and (stride in (None, record.stride)):
            # the windows training saw and the ones it held out, cut as the record says
            split = replay_training_windows(generator, real, asset=asset)
            train, unseen = split.fit, split.holdout
            channels = channel_names(generator)
        else:
            if replay:
                holdout_fraction = record.holdout
            real_set = windows_from_file(real, win, stride=step, asset=asset, train_rows=record.train_rows)
            channels = list(real_set.channels)
            if holdout is not None:
                train = real_set.windows
                unseen = windows_from_file(holdout, win, stride=step, asset=asset).windows
            elif holdout_fraction is not None:
                if not 0.0 < holdout_fraction < 1.0:
                    raise DataError(f"--holdout-fraction must be between 0 and 1, got {holdout_fraction}")
                # The split the model was fitted with (blocks by default; time for older models).
                split_by = record.holdout_split if record.holdout > 0 else "time"
                train, unseen = holdout_split(real_set.windows, holdout_fraction, split_by)
            else:
                raise DataError(
                    "the audit needs real windows the generator never saw: pass --holdout FILE, or "
                    "--holdout-fraction F if the model was fitted with `geniot fit --holdout F`"
                )
        synth, synth_channels = read_windows(synthetic)
        if synth_channels is not None and list(synth_channels) != list(channels):
            raise DataError(
                f"synthetic channels {synth_channels} differ from the real channels {list(channels)}",
                file=str(synthetic),
            )
        if synth.shape[1] != win:
            raise DataError(f"synthetic windows have {synth.shape[1]} steps, --window is {win}", file=str(synthetic))
        result = audit_privacy(
            complete_windows(train), synth, complete_windows(unseen),
            max_windows=max_windows, random_state=seed, keep_distances=report is not None,
        )
        privacy = getattr(generator, "privacy_", None)
        if privacy is not None:
            result["epsilon"] = privacy.get("epsilon_spent")
            result["delta"] = privacy.get("delta")
        distances = result.pop("distances", None)
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(result, indent=2))
            console.print(f"wrote {out}")
        if report is not None:
            info = {"real": str(real), "synthetic": str(synthetic), "holdout": str(holdout or (describe_holdout(record.to_json()) if record.holdout else f"last {holdout_fraction:.0%} of REAL")),
                    "window": win}
            if privacy is not None:
                info["DP training"] = privacy
            write_audit_report(report, {**result, "distances": distances}, info=info,
                               utility_rows=_utility_rows(utility) if utility is not None else None)
            console.print(f"wrote {report}")
        typer.echo(result["verdict_text"])
        if strict and result["verdict"] == "fail":
            raise typer.Exit(code=1)
