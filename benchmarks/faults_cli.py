"""Faults on demand through the README's commands (issue 15's second done-when point).

Per seed, as a user would run it: ``geniot simulate`` (the default plant: dropped readings,
outages, wearing pumps), ``geniot fit --model gaussian --labels`` (which calibrates the model's own
anomaly detector on held-out normal windows), ``geniot synthesize`` with every learned fault type
placed for ``--hours`` each on a fleet as large as the real one, then ``geniot detect`` with that
detector on the synthetic file and on the real one. An episode (a run of rows with one fault
label; a spike's impulses are labelled on their own rows, so each counts) is flagged when any of
its rows is. False alarms: the share of flagged normal rows at least 24 rows from any labelled row.

    nice -n 10 .venv/bin/python benchmarks/faults_cli.py --seeds 3 4 5 6 7

Set ``PYTHONPATH`` to another checkout's ``src`` to measure that code with the same script.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

GENIOT = str(Path(sys.executable).with_name("geniot"))
RESULTS = Path(__file__).parent / "results" / "faults-cli.jsonl"
FAR = 24  # rows from a labelled row for a normal row to count as clear of it


def _run(args: list[str], cwd: Path) -> str:
    env = dict(os.environ, GENIOT_TORCH_THREADS="1", COLUMNS="400")
    done = subprocess.run([GENIOT, *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"geniot {' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return " ".join((done.stdout + done.stderr).split())


def _episodes(scores: pd.DataFrame, labels: pd.DataFrame) -> tuple[dict, float]:
    m = scores.merge(labels, on=["ts", "asset"]).sort_values(["asset", "ts"])
    m["key"] = m["fault"] + ":" + m["fault_signal"].fillna("")
    found: dict[str, list[int]] = {}
    clear = []
    for _, g in m.groupby("asset"):
        key, flag = g["key"].to_numpy(), g["flag"].to_numpy().astype(bool)
        start = np.r_[0, np.flatnonzero(key[1:] != key[:-1]) + 1]
        for lo, hi in zip(start, np.r_[start[1:], len(key)], strict=True):
            if key[lo] != "normal:":
                d = found.setdefault(key[lo].rstrip(":"), [0, 0])
                d[0] += int(flag[lo:hi].any())
                d[1] += 1
        labelled = np.flatnonzero(g["anomaly"].to_numpy() > 0)
        near = np.zeros(len(g), dtype=bool)
        for i in labelled:
            near[max(0, i - FAR) : i + FAR + 1] = True
        clear.append(flag[(key == "normal:") & ~near])
    return found, float(np.concatenate(clear).mean())


def run(seed: int, *, days: float, interval: int, assets: int, hours: float, root: Path) -> dict:
    _run(["simulate", "--assets", str(assets), "--days", str(days), "--interval", str(interval), "--seed", str(seed),
          "--out", "plant.csv", "--labels", "labels.csv"], root)  # fmt: skip
    fit = _run(["fit", "plant.csv", "--model", "gaussian", "--window", "12", "--labels", "labels.csv", "--out", "m"], root)
    threshold = float(fit.split("threshold ")[1].split()[0])
    faults = fit.split("synthesize --fault`:")[1].split(" saved ")[0].replace(" ", "").split(",")
    t0 = pd.Timestamp(pd.read_csv(root / "labels.csv", usecols=["ts"])["ts"].max()) + pd.Timedelta(hours=3)
    placed = []
    for i, f in enumerate(faults):
        placed += ["--fault", f"{f}@{(t0 + pd.Timedelta(hours=2 * hours * i)).isoformat()}/{hours:g}h"]
    days_out = (len(faults) * 2 * hours + 12) / 24
    _run(["synthesize", "m", "--duration", f"{days_out:.3f}d", "--out", "synth.csv", "--labels", "synth_labels.csv",
          "--assets", str(assets), "--seed", str(seed), *placed], root)  # fmt: skip
    _run(["detect", "m", "synth.csv", "--out", "synth_scores.csv"], root)
    _run(["detect", "m", "plant.csv", "--out", "real_scores.csv"], root)
    synthetic, synthetic_fa = _episodes(pd.read_csv(root / "synth_scores.csv"), pd.read_csv(root / "synth_labels.csv"))
    real, real_fa = _episodes(pd.read_csv(root / "real_scores.csv"), pd.read_csv(root / "labels.csv"))
    return {"seed": seed, "days": days, "interval": interval, "assets": assets, "hours": hours, "threshold": threshold,
            "faults": faults, "synthetic": synthetic, "synthetic_false_alarms": synthetic_fa, "real": real,
            "real_false_alarms": real_fa, "code": os.environ.get("PYTHONPATH", "") or "this checkout"}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[3, 4, 5, 6, 7])
    ap.add_argument("--days", type=float, default=14.0)
    ap.add_argument("--interval", type=int, default=300, help="seconds between readings")
    ap.add_argument("--assets", type=int, default=3)
    ap.add_argument("--hours", type=float, default=4.0, help="length of each synthetic fault")
    ap.add_argument("--out", type=Path, default=RESULTS)
    args = ap.parse_args()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as tmp:
            row = run(seed, days=args.days, interval=args.interval, assets=args.assets, hours=args.hours, root=Path(tmp))
        print(json.dumps(row), flush=True)
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
