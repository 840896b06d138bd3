"""Sampling throughput: windows per second for each generator, windows of 24 x 28 (Energy).

Run by hand from the project root:

    .venv/bin/python benchmarks/sampling.py --threads 1 --n 10000

Each model is fitted briefly on Energy windows (throughput does not depend on how well it was
trained), then ``sample(n)`` is timed three times; the best time is reported.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from datasets import timegan_windows

from geniot.workflows.training import build_model

QUICK = {"vae": {"epochs": 2}, "gan": {"epochs": 1}, "diffusion": {"epochs": 1}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["gaussian", "vae", "gan", "diffusion"])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    _, train, _ = timegan_windows("energy")
    train = train[:4000]
    print("| model | windows of 24x28 | seconds | windows/s | threads |\n|---|---|---|---|---|")
    for name in args.models:
        model = build_model(name, params=QUICK.get(name), seed=0).fit(train)
        n = args.n if name != "diffusion" else min(args.n, 2000)
        best = min(_timed(model, n) for _ in range(3))
        print(f"| {name} | {n} | {best:.2f} | {n / best:,.0f} | {args.threads} |", flush=True)


def _timed(model, n: int) -> float:
    t0 = time.perf_counter()
    model.sample(n, random_state=0)
    return time.perf_counter() - t0


if __name__ == "__main__":
    main()
