"""How noisy the seam statistic is on real data (BENCHMARKS 26b): the statistic of
`geniot evaluate` on 200 real month-long stretches of a series (720 steps), with "seams" every
12 steps at a random phase, as continuation with a window of 24 places them.

    .venv/bin/python benchmarks/seam_noise.py ../shared/data/ett/ETTh1.csv
"""

from __future__ import annotations

import argparse

import numpy as np

from geniot.data.io import read_table
from geniot.metrics.long_series import seam_statistic


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--steps", type=int, default=720)
    ap.add_argument("--every", type=int, default=12)
    ap.add_argument("--stretches", type=int, default=200)
    args = ap.parse_args()
    (series,) = read_table(args.data).values()
    real = series.values
    rng = np.random.default_rng(0)
    ratios, inside = [], []
    for i in rng.integers(0, len(real) - args.steps, args.stretches):
        seams = np.arange(args.every + rng.integers(0, args.every), args.steps, args.every)
        r = seam_statistic(real, real[i : i + args.steps], seams)
        ratios.append(r["seam_step_ratio"])
        inside.append(r["seam_inside_ratio"])
    v, w = np.array(ratios), np.array(inside)
    print(f"seam statistic on real {args.steps}-step stretches, seams every {args.every} steps: {v.mean():.3f} ± {v.std():.3f}, "
          f"10-90% {np.percentile(v, 10):.3f}-{np.percentile(v, 90):.3f}, share within 10% of 1: {np.mean((v > 0.9) & (v < 1.1)):.2f}")
    print(f"seams / inside: {w.mean():.3f} ± {w.std():.3f}, 10-90% {np.percentile(w, 10):.3f}-{np.percentile(w, 90):.3f}")


if __name__ == "__main__":
    main()
