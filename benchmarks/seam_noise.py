"""How noisy the seam statistics are on real data (BENCHMARKS 26b), and whether they still tell
concatenated independent windows far off: each statistic on 300 real month-long stretches of a
series (720 steps, "seams" where `geniot evaluate` puts them: after the first window, every 12
steps; the stretch's start, so the hours the seams hit, is random), and on 20 series of
independent real windows laid end to end (the baseline continuation must beat) and 20 block
bootstraps.

- old: ``seam_step_ratio`` (seam steps over the real series' overall step spread) and
  ``seam_inside_ratio`` (over the same series' inside steps);
- new: ``seam_phase_ratio`` (every step in units of the real step spread at its step of the day;
  seams over the inside steps, pooled over channels) and ``seam_phase_step_ratio``.

    .venv/bin/python benchmarks/seam_noise.py ../shared/data/ett/ETTh1.csv
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from geniot.data.io import read_table
from geniot.metrics.long_series import (
    block_bootstrap,
    concatenate_windows,
    random_windows,
    seam_statistic,
    standardise_pair,
)
from geniot.metrics.seams import phase_of_day, phase_seam_statistic

KEYS = ("seam_step_ratio", "seam_inside_ratio", "seam_phase_ratio", "seam_phase_step_ratio")


def _both(real_z, x, seams, real_phase, phase) -> dict:
    old = seam_statistic(real_z, x, seams)
    new = phase_seam_statistic(real_z, x, seams, real_phase=real_phase, synth_phase=phase)
    return {k: {**old, **new}[k] for k in KEYS}


def _summary(rows: list[dict]) -> dict:
    out = {}
    for k in KEYS:
        v = np.array([r[k] for r in rows])
        out[k] = {
            "mean": round(float(v.mean()), 3), "sd": round(float(v.std()), 3),
            "p10": round(float(np.percentile(v, 10)), 3), "p90": round(float(np.percentile(v, 90)), 3),
            "within_10pct": round(float(np.mean(np.abs(v - 1.0) < 0.1)), 2),
        }  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("data")
    ap.add_argument("--steps", type=int, default=720)
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--every", type=int, default=12, help="steps between seams (window - context)")
    ap.add_argument("--stretches", type=int, default=300)
    args = ap.parse_args()
    (series,) = read_table(args.data).values()
    if series.timestamps is None:
        raise SystemExit(f"{args.data} has no timestamps: the phase of the day is unknown")
    interval = float(np.median(np.diff(series.timestamps).astype(np.int64))) / 1e9
    phase = phase_of_day(series.timestamps, interval)
    real_z, _ = standardise_pair(series.values, series.values)
    rng = np.random.default_rng(0)
    seams = np.arange(args.window, args.steps, args.every)
    months = [
        _both(real_z, real_z[i : i + args.steps], seams, phase, phase[i : i + args.steps])
        for i in rng.integers(0, len(real_z) - args.steps, args.stretches)
    ]
    result = {"real_months": _summary(months)}
    for name in ("concatenated", "bootstrap"):
        rows = []
        for _ in range(20):
            start = int(rng.integers(0, len(real_z) - args.steps))  # the clock the baseline is laid on
            if name == "concatenated":
                x, sm = concatenate_windows(random_windows(real_z, args.window, -(-args.steps // args.window), rng), args.steps)
            else:
                x, sm = block_bootstrap(real_z, args.steps, args.window, random_state=rng)
            rows.append(_both(real_z, x, sm, phase, phase[start : start + args.steps]))
        result[name] = _summary(rows)
    print(json.dumps({"data": args.data, "steps": args.steps, "every": args.every, **result}, indent=1))


if __name__ == "__main__":
    main()
