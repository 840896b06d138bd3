"""Incremental anomaly scoring latency: one reading at a time, one asset with 8 sensors.

A detector is fitted on one simulated day of a pump (8 signals at 1 reading per minute) and
calibrated; then ``--n`` readings of a faulty day go through ``AnomalyDetector.stream()`` one by
one and each ``update`` is timed (scoring the window ending at the reading, and naming the top
sensors when it is flagged). One torch thread, one process.

    .venv/bin/python benchmarks/streaming.py --models gaussian diffusion vae --window 24
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.tasks import AnomalyDetector
from geniot.workflows.training import build_model, parse_params


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["gaussian", "diffusion", "vae"])
    ap.add_argument("--params", default=None)
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--minutes", type=float, default=2.0, help="training budget of torch models")
    ap.add_argument("--n", type=int, default=3000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    kw = dict(n_assets=1, days=4, seed=7, degrading_fraction=0, outage_rate=0)
    clean = simulate_plant(PlantConfig(fault_rate=0, **kw))
    faulty = simulate_plant(PlantConfig(fault_rate=7, **kw))
    asset = clean.assets()[0]
    normal = series_from_frame(clean.wide(asset).iloc[:2880])
    live = series_from_frame(faulty.wide(asset).iloc[2880:]).values[: args.n]
    print("| model | window | readings | p50 ms | p99 ms | max ms | flagged |\n|---|---|---|---|---|---|---|")
    for name in args.models:
        gen = build_model(name, params=parse_params(args.params), max_minutes=args.minutes, seed=0)
        det = AnomalyDetector(generator=gen, window=args.window).fit(normal)
        scorer = det.stream()
        times, flagged = [], 0
        for reading in live:
            t0 = time.perf_counter()
            out = scorer.update(reading)
            dt = time.perf_counter() - t0
            if out is not None:
                times.append(dt)
                flagged += out.flag
        ms = np.array(times) * 1000
        row = {"model": name, "window": args.window, "readings": len(ms), "p50_ms": float(np.percentile(ms, 50)),
               "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max()), "flagged": int(flagged)}  # fmt: skip
        print(f"| {name} | {args.window} | {row['readings']} | {row['p50_ms']:.2f} | {row['p99_ms']:.2f} | {row['max_ms']:.1f} | {flagged} |")
        if args.out:
            with args.out.open("a") as fh:
                fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
