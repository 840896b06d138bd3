"""Scale-out: fleet training serial vs Ray, and scoring throughput of a long history.

Part 1 trains one anomaly detector per asset of a simulated fleet (``--assets`` pumps,
``--days`` each) three ways and times each: the serial engine (one task after another, one
torch thread per task), a plain loop with torch's default threads (what a user would run without
geniot.scale), and the Ray engine on ``--workers`` local CPUs (Ray's start-up counted, and also
reported apart). Fixed epochs, no time budget, so load on the machine changes the times only.
It checks that Ray's models equal the serial ones (same thresholds).

Part 2 scores one long simulated history (``--history-days``) with a detector fitted on its
first day: ``detector.detect`` in one call, then ``geniot.scale.score_history`` in chunks on the
serial and the Ray engine, and reports steps per second and the largest score difference.

    .venv/bin/python benchmarks/scale.py --assets 20 --days 2 --workers 2
    .venv/bin/python benchmarks/scale.py --assets 4 --days 0.5 --params '{"epochs": 3}' \
        --history-days 2 --out /tmp/scale-smoke.jsonl          # a quick check of the script
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.scale import RayEngine, SerialEngine, score_history, train_fleet
from geniot.scale.fleet import asset_seed, train_asset
from geniot.scale.sources import simulated_fleet
from geniot.tasks import AnomalyDetector
from geniot.workflows.training import build_model, parse_params


def machine() -> dict:
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = ""
    return {"machine": f"{platform.machine()}, {os.cpu_count()} CPUs", "commit": commit, "load_before": list(os.getloadavg())}


def fleet_training(args, fleet, generator, settings) -> dict:
    times = {}
    t0 = time.perf_counter()
    serial = train_fleet(fleet, generator, engine=SerialEngine(), detector=settings, seed=args.seed)
    times["serial_s"] = time.perf_counter() - t0

    if not args.skip_default_threads:
        import torch

        t0 = time.perf_counter()
        for asset, series in fleet.items():  # no engine: torch's own thread count
            train_asset(asset, series, generator, settings, asset_seed(args.seed, asset))
        times["loop_default_threads_s"] = time.perf_counter() - t0
        times["default_threads"] = torch.get_num_threads()

    t0 = time.perf_counter()
    with RayEngine(num_cpus=args.workers, object_store_memory=args.object_store_mb * 2**20) as engine:
        times["ray_startup_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        on_ray = train_fleet(fleet, generator, engine=engine, detector=settings, seed=args.seed)
        times["ray_work_s"] = time.perf_counter() - t1
    times["ray_total_s"] = time.perf_counter() - t0
    same = all(a.detector.threshold_ == b.detector.threshold_ for a, b in zip(serial, on_ray, strict=True))
    row = {
        "part": "fleet_training",
        "assets": len(fleet),
        "steps_per_asset": int(next(iter(fleet.values())).n_steps),
        "workers": args.workers,
        **{k: round(v, 3) if isinstance(v, float) else v for k, v in times.items()},
        "speedup_vs_serial": round(times["serial_s"] / times["ray_total_s"], 3),
        "speedup_vs_serial_excl_startup": round(times["serial_s"] / times["ray_work_s"], 3),
        "ray_models_equal_serial": bool(same),
        "mean_task_s": round(float(np.mean([t.seconds for t in serial])), 3),
    }
    if "loop_default_threads_s" in times:
        row["speedup_vs_default_threads"] = round(times["loop_default_threads_s"] / times["ray_total_s"], 3)
    return row


def history_scoring(args) -> dict:
    history = simulated_fleet(1, days=args.history_days, seed=args.seed + 1)["P-1"]
    gen = build_model(args.score_model, params=parse_params(args.score_params), seed=0)
    import torch

    torch.set_num_threads(1)
    detector = AnomalyDetector(generator=gen, window=args.window).fit(history.head(min(1440, history.n_steps)))
    n = history.n_steps
    out = {"part": "history_scoring", "model": args.score_model, "steps": n, "chunk_steps": args.chunk_steps, "workers": args.workers}
    t0 = time.perf_counter()
    whole = detector.detect(history)
    out["whole_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    serial = score_history(detector, history, engine=SerialEngine(), chunk_steps=args.chunk_steps)
    out["serial_chunks_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    with RayEngine(num_cpus=args.workers, object_store_memory=args.object_store_mb * 2**20) as engine:
        out["ray_startup_s"] = time.perf_counter() - t0
        t1 = time.perf_counter()
        on_ray = score_history(detector, history, engine=engine, chunk_steps=args.chunk_steps)
        out["ray_work_s"] = time.perf_counter() - t1
    out["ray_total_s"] = time.perf_counter() - t0
    for key in ("whole", "serial_chunks", "ray_work", "ray_total"):
        out[f"{key}_steps_per_s"] = round(n / out[f"{key}_s"], 1)
    out = {k: round(v, 3) if isinstance(v, float) else v for k, v in out.items()}
    finite = np.isfinite(whole.scores)
    out["max_rel_diff_vs_whole"] = float(np.max(np.abs(on_ray.scores[finite] - whole.scores[finite]) / np.maximum(1.0, np.abs(whole.scores[finite]))))
    out["ray_equals_serial_chunks"] = bool(np.array_equal(on_ray.scores, serial.scores, equal_nan=True))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--assets", type=int, default=20)
    ap.add_argument("--days", type=float, default=2.0, help="simulated days per asset (1 reading per minute)")
    ap.add_argument("--model", default="vae")
    ap.add_argument("--params", default='{"epochs": 20}', help="model parameters (fixed epochs, no time budget)")
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--workers", type=int, default=2, help="CPUs of the local Ray")
    ap.add_argument("--object-store-mb", type=int, default=256)
    ap.add_argument("--skip-default-threads", action="store_true", help="skip the plain loop with torch's default threads")
    ap.add_argument("--history-days", type=float, default=14.0, help="length of the history scored in part 2 (0 = skip)")
    ap.add_argument("--score-model", default="diffusion")
    ap.add_argument("--score-params", default='{"epochs": 5, "d_model": 32, "n_layers": 2}')
    ap.add_argument("--chunk-steps", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "scale.jsonl")
    args = ap.parse_args()

    base = {**machine(), "command": shlex.join(["benchmarks/scale.py", *sys.argv[1:]])}
    rows = []
    if args.assets > 0:
        fleet = simulated_fleet(args.assets, days=args.days, seed=args.seed)
        generator = build_model(args.model, params=parse_params(args.params))
        row = fleet_training(args, fleet, generator, AnomalyDetector(window=args.window))
        rows.append({**base, "model": args.model, "params": args.params, **row})
        print(f"| fleet training | {row['assets']} assets x {row['steps_per_asset']} steps, {args.model} {args.params} | "
              f"serial {row['serial_s']:.1f} s | Ray {row['ray_total_s']:.1f} s (start-up {row['ray_startup_s']:.1f} s) | "
              f"{row['speedup_vs_serial']:.2f}x ({row['speedup_vs_serial_excl_startup']:.2f}x without start-up) | "
              f"models equal: {row['ray_models_equal_serial']} |")
        if "loop_default_threads_s" in row:
            print(f"|   plain loop, {row['default_threads']} torch threads: {row['loop_default_threads_s']:.1f} s; "
                  f"Ray {row['speedup_vs_default_threads']:.2f}x faster |")
    if args.history_days > 0:
        row = history_scoring(args)
        rows.append({**base, **row})
        print(f"| history scoring | {row['steps']} steps, {row['model']} | whole {row['whole_steps_per_s']:.0f} steps/s | "
              f"serial chunks {1 / row['serial_chunks_s'] * row['steps']:.0f} steps/s | Ray {row['ray_work_steps_per_s']:.0f} steps/s "
              f"({row['ray_total_steps_per_s']:.0f} with start-up) | max rel diff {row['max_rel_diff_vs_whole']:.1e} |")
    load_after = list(os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as fh:
        for row in rows:
            fh.write(json.dumps({**row, "load_after": load_after}) + "\n")
    print(f"appended {len(rows)} rows to {args.out}; load average before {base['load_before']}, after {load_after}")


if __name__ == "__main__":
    main()
