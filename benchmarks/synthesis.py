"""Synthesis fidelity benchmark: TimeGAN protocol, geniot's generators and a peer side by side.

Run by hand (never by CI), from the project root:

    .venv/bin/python benchmarks/synthesis.py --datasets stocks --minutes 10 --seeds 0 1 2

For each dataset and seed, every model (and the peer, if its venv exists: see
benchmarks/peers/README.md) is trained on the same windows under the same wall-clock budget
and torch thread count, samples as many windows as the real set has, and is scored with
geniot.metrics: discriminative score (GRU, 2,000 iterations, 5 repeats), predictive score
(TSTR, with the TRTR ceiling), context-FID, correlation/ACF/marginal distances, and the
memorization check against held-out windows. Results go to a JSON-lines file and a markdown
table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import NAMES, timegan_windows  # noqa: E402

from geniot.metrics import evaluate_synthetic  # noqa: E402
from geniot.workflows.training import build_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PEER_PY = ROOT / "benchmarks" / ".peer-venv" / "bin" / "python"
PEER_SCRIPT = ROOT / "benchmarks" / "peers" / "peer_generate.py"


def run_geniot(name: str, train: np.ndarray, n: int, minutes: float, seed: int) -> tuple[np.ndarray, dict]:
    model = build_model(name, max_minutes=minutes, seed=seed)
    if hasattr(model, "epochs"):
        model.set_params(epochs=100_000)  # the budget, not an epoch count, ends training
    t0 = time.perf_counter()
    model.fit(train)
    train_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    synth = model.sample(n, random_state=seed + 1)
    sample_s = time.perf_counter() - t0
    return synth, {"train_s": train_s, "epochs": len(model.history_), "windows_per_s": n / sample_s}


def run_peer(peer: str, train: np.ndarray, n: int, minutes: float, seed: int, threads: int) -> tuple[np.ndarray, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "train.npy", Path(tmp) / "synth.npy"
        np.save(src, train.astype(np.float32), allow_pickle=False)
        cmd = [str(PEER_PY), str(PEER_SCRIPT), "--train", str(src), "--n", str(n), "--minutes", str(minutes),
               "--seed", str(seed), "--out", str(dst), "--model", peer, "--threads", str(threads)]
        t0 = time.perf_counter()
        env = {"OMP_NUM_THREADS": str(threads), "PATH": "/usr/bin:/bin"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        wall = time.perf_counter() - t0
        if proc.returncode != 0:
            raise RuntimeError(f"peer {peer} failed:\n{proc.stderr[-3000:]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        return np.load(dst, allow_pickle=False).astype(np.float64), {**info, "wall_s": wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--datasets", nargs="+", default=list(NAMES), choices=NAMES)
    ap.add_argument("--models", nargs="+", default=["gaussian", "vae", "gan", "diffusion"],
                    help="geniot generators to run ('none' for the peer alone)")
    ap.add_argument("--peer", default="dgan", help="peer model in the peer venv, or 'none'")
    ap.add_argument("--minutes", type=float, default=15.0, help="training budget per model and dataset")
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-real", type=int, default=None, help="cap the real windows scored (speed)")
    ap.add_argument("--fast-metrics", action="store_true", help="quick metric settings (not comparable)")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "synthesis.jsonl")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    machine = f"{platform.processor() or platform.machine()}, {args.threads} torch threads, CPU"
    runners = [(m, "geniot") for m in args.models if m != "none"]
    if args.peer != "none":
        if PEER_PY.exists():
            runners.append((args.peer, "peer"))
        else:
            print(f"peer venv missing ({PEER_PY}); run benchmarks/peers/setup_peer.sh", file=sys.stderr)

    rows = []
    for dataset in args.datasets:
        for seed in args.seeds:
            real, train, holdout = timegan_windows(dataset, seed=seed)
            if args.max_real and len(real) > args.max_real:
                real = real[np.random.default_rng(seed).choice(len(real), args.max_real, replace=False)]
            for model, kind in runners:
                t0 = time.perf_counter()
                if kind == "geniot":
                    synth, info = run_geniot(model, train, len(real), args.minutes, seed)
                else:
                    synth, info = run_peer(model, train, len(real), args.minutes, seed, args.threads)
                metrics = evaluate_synthetic(real, synth, train=train, holdout=holdout,
                                             fast=args.fast_metrics, random_state=seed)
                row = {"dataset": dataset, "model": model, "kind": kind, "seed": seed,
                       "minutes": args.minutes, "machine": machine, **info, **metrics,
                       "total_s": time.perf_counter() - t0}
                rows.append(row)
                with args.out.open("a") as fh:
                    fh.write(json.dumps(row) + "\n")
                print(f"{dataset:7s} {model:10s} seed {seed}: disc {metrics['discriminative_score']:.3f} "
                      f"(real acc {metrics['discriminative_real_accuracy']:.2f}, fake acc "
                      f"{metrics['discriminative_fake_accuracy']:.2f}) tstr {metrics.get('predictive_tstr_mae', float('nan')):.3f} "
                      f"trtr {metrics.get('predictive_trtr_mae', float('nan')):.3f} dcr_ratio {metrics['dcr_ratio']:.2f} "
                      f"memorized {metrics['memorized']}", flush=True)
    print()
    # The table covers every row in the results file, so runs made in parts add up.
    print(markdown_table([json.loads(line) for line in args.out.read_text().splitlines() if line.strip()]))


def markdown_table(rows: list[dict]) -> str:
    def ms(vals):
        vals = np.asarray(vals, dtype=float)
        return f"{vals.mean():.3f} ± {vals.std(ddof=1) if len(vals) > 1 else 0.0:.3f}"

    keys = sorted({(r["dataset"], r["model"]) for r in rows}, key=lambda k: (NAMES.index(k[0]), k[1]))
    lines = ["| dataset | model | discriminative ↓ | real / fake acc | TSTR MAE (TRTR) | context-FID ↓ | DCR ratio | memorized | epochs | windows/s |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for dataset, model in keys:
        rs = [r for r in rows if r["dataset"] == dataset and r["model"] == model]
        acc = f"{np.mean([r['discriminative_real_accuracy'] for r in rs]):.2f} / {np.mean([r['discriminative_fake_accuracy'] for r in rs]):.2f}"
        tstr = f"{ms([r['predictive_tstr_mae'] for r in rs])} ({np.mean([r['predictive_trtr_mae'] for r in rs]):.3f})"
        wps = np.mean([r.get("windows_per_s", np.nan) for r in rs])
        lines.append(f"| {dataset} | {model} | {ms([r['discriminative_score'] for r in rs])} | {acc} | {tstr} | "
                     f"{ms([r['context_fid'] for r in rs])} | {np.mean([r['dcr_ratio'] for r in rs]):.2f} | "
                     f"{sum(r['memorized'] for r in rs)}/{len(rs)} | {np.mean([r.get('epochs', np.nan) for r in rs]):.0f} | "
                     f"{'' if np.isnan(wps) else f'{wps:,.0f}'} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
