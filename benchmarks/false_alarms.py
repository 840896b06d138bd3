"""False alarms and fault recall of the README's detection recipe, per seed (issue 19).

For each seed a one-pump plant is simulated for ``--days`` + 1 days: once with no faults (regime
changes only) and once with faults (``--fault-rate`` episodes per 7 days). The first ``--days``
days are written as ``pump.csv``, all of them as ``pump_all.csv``, and the README's commands run
on them in this process, exactly as a user types them:

    geniot fit pump.csv --model gaussian --window W --out m
    geniot detect m pump_all.csv --out scores.csv

On the pump with faults ``fit`` is given the labels (``--labels labels.csv``, the README's way to
keep fault rows out of training); without them the faults are part of what it learns as normal.

Printed per seed: the share of rows flagged on the fault-free pump (the days ``fit`` saw, and the
day after, which it never saw), and on the pump with faults the episodes found (at least one
flagged row inside the labelled interval), the labelled rows flagged, and the rows flagged away
from any fault (more than one window after its end). Target: at most 1% of the fault-free rows
flagged on every seed, and the faults still found.

    .venv/bin/python benchmarks/false_alarms.py --seeds 0-9 [--window 24] [--days 2]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.simulate import simulate_plant

INTERVAL_S = 60


def seeds_of(text: str) -> list[int]:
    out: list[int] = []
    for part in text.split(","):
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def geniot(*args: str) -> str:
    done = CliRunner().invoke(app, list(args))
    if done.exit_code != 0:
        raise SystemExit(f"geniot {' '.join(args)} failed ({done.exit_code}):\n{done.output}\n{done.exception!r}")
    return done.output


def run_recipe(folder: Path, plant, days: float, window: int, *, labels: bool = False) -> tuple[np.ndarray, str]:
    """Write the pump's files, run fit (with the labels file: fault rows kept out of training) and
    detect; return the flags per row and the threshold."""
    frame = plant.wide("P-1")
    rows_fit = int(round(days * 86400 / INTERVAL_S))
    frame.iloc[:rows_fit].to_csv(folder / "pump.csv", index=False)
    frame.to_csv(folder / "pump_all.csv", index=False)
    extra = []
    if labels:
        plant.labels.assign(asset="pump").to_csv(folder / "labels.csv", index=False)  # pump.csv names its asset "pump"
        extra = ["--labels", str(folder / "labels.csv")]
    out = geniot("fit", str(folder / "pump.csv"), "--model", "gaussian", "--window", str(window), "--out", str(folder / "m"), *extra)
    geniot("detect", str(folder / "m"), str(folder / "pump_all.csv"), "--out", str(folder / "scores.csv"))
    scores = pd.read_csv(folder / "scores.csv")
    if len(scores) != len(frame):
        raise SystemExit(f"detect wrote {len(scores)} rows for {len(frame)}")
    rule = re.search(r"threshold ([0-9.eE+-]+)", out)
    return scores["flag"].to_numpy().astype(bool), (rule.group(1) if rule else "?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="0-9")
    parser.add_argument("--window", type=int, default=24)
    parser.add_argument("--days", type=float, default=2.0, help="days that fit trains on (one more is scored)")
    parser.add_argument("--fault-rate", type=float, default=7.0, help="fault episodes per 7 days on the faulty pump")
    args = parser.parse_args(argv)
    seeds = seeds_of(args.seeds)
    rows_fit = int(round(args.days * 86400 / INTERVAL_S))
    print(f"README recipe: fit --model gaussian --window {args.window} on {args.days:g} days, detect on {args.days + 1:g}")
    print("seed | no faults: flagged (fit days / next day) | with faults: episodes found, fault rows flagged, flagged away from faults | s")
    worst, missed, found, total = 0.0, 0, 0, 0
    for seed in seeds:
        start = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            clean = simulate_plant(n_assets=1, days=args.days + 1, seed=seed, fault_rate=0.0)
            flags, threshold = run_recipe(Path(tmp), clean, args.days, args.window)
        fa_all, fa_fit, fa_next = flags.mean(), flags[:rows_fit].mean(), flags[rows_fit:].mean()
        worst = max(worst, fa_all)
        with tempfile.TemporaryDirectory() as tmp:
            faulty = simulate_plant(n_assets=1, days=args.days + 1, seed=seed, fault_rate=args.fault_rate)
            fflags, _ = run_recipe(Path(tmp), faulty, args.days, args.window, labels=True)
        labelled = faulty.labels["anomaly"].to_numpy().astype(bool)
        after = np.convolve(labelled, np.ones(args.window), mode="full")[: len(labelled)] > 0  # a window after a fault
        ts = faulty.labels["ts"].to_numpy()
        episodes = [bool(fflags[(ts >= e.start) & (ts <= e.end)].any()) for e in faulty.events.itertuples()]
        kinds = ",".join(f"{e.fault}{'' if hit else '(missed)'}" for e, hit in zip(faulty.events.itertuples(), episodes, strict=True))
        found += sum(episodes)
        total += len(episodes)
        missed += len(episodes) - sum(episodes)
        rows = fflags[labelled].mean() if labelled.any() else float("nan")
        print(
            f"{seed:4d} | {fa_all:6.2%} ({fa_fit:.2%} / {fa_next:.2%}), threshold {threshold} | "
            f"{sum(episodes)}/{len(episodes)} [{kinds}], {rows:.0%}, {fflags[~after].mean():.2%} | "
            f"{time.perf_counter() - start:.0f}",
            flush=True,
        )
    print(f"worst false-alarm share {worst:.2%} (target <= 1%); fault episodes found {found}/{total}")
    return 0 if worst <= 0.01 and found > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
