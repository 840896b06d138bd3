"""Score `geniot sample` windows against the real data a model was fitted on (the issue 16
done-when check, BENCHMARKS 26b):

- discriminative score (TimeGAN protocol, 5 repeats of 2,000 steps) against 3,000 real windows
  drawn at random, all min-max scaled by the real windows;
- median DCR ratio: 1,000 synthetic windows against 1,000 windows of the calibration blocks that
  `geniot fit` holds out of training (``--calibration 0.2``, interleaved blocks), both measured
  to up to 6,000 training windows.

    .venv/bin/python benchmarks/score_samples.py s.npy ../shared/data/timegan/energy_data.csv --window 24
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import torch

from geniot.data.splits import interleaved_holdout
from geniot.metrics.discriminative import discriminative_score
from geniot.metrics.memorization import dcr
from geniot.workflows.datasets import windows_from_file


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("samples", help=".npy of sampled windows (n, window, channels)")
    ap.add_argument("data", help="the training data file")
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--calibration", type=float, default=0.2, help="fit's --calibration share (its held-out blocks)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    synth = np.load(args.samples)
    real = np.asarray(windows_from_file(args.data, args.window).windows)
    keep, held = interleaved_holdout(len(real), args.calibration, gap=args.window)
    flat = real.reshape(-1, real.shape[2])
    lo, span = flat.min(0), np.ptp(flat, 0)
    span[span == 0] = 1
    scaled = lambda a: (a - lo) / span  # noqa: E731
    rng = np.random.default_rng(0)
    t0 = time.process_time()
    d = discriminative_score(scaled(real[rng.choice(len(real), 3000, replace=False)]), scaled(synth), random_state=0)
    train = scaled(real[keep][rng.choice(len(keep), min(len(keep), 6000), replace=False)])
    unseen = scaled(real[held][rng.choice(len(held), 1000, replace=False)])
    ratio = np.median(dcr(train, scaled(synth[:1000]))) / np.median(dcr(train, unseen))
    out = {k: v for k, v in d.items() if not isinstance(v, (list, np.ndarray))}
    print(json.dumps({**out, "dcr_ratio": round(float(ratio), 3), "cpu_s": round(time.process_time() - t0)}, default=float))


if __name__ == "__main__":
    main()
