"""PyOD detectors for the SKAB benchmark, run in the peer venv (see README.md here).

Input: a folder with ``train_<k>.npy`` (normal rows) and ``full_<k>.npy`` (all rows) per file,
float (n_steps, n_channels), loaded with ``allow_pickle=False``. For each detector and file the
data are standardised with the training rows' statistics (the SKAB protocol), cut into windows
of ``--window`` steps flattened to vectors, fitted on the training windows and used to score
every window; a step gets the score and label of the window ending at it (the first steps take
the first window's). Labels use PyOD's own threshold: the ``1 - contamination`` quantile of the
training scores (PyOD's default contamination 0.1).
Writes ``<model>_scores_<k>.npy`` and ``<model>_flags_<k>.npy``; prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def windows(x: np.ndarray, w: int) -> np.ndarray:
    view = np.lib.stride_tricks.sliding_window_view(x, w, axis=0)  # (n - w + 1, c, w)
    return view.transpose(0, 2, 1).reshape(view.shape[0], -1)


def make(name: str, seed: int):
    if name == "mcd":
        from pyod.models.mcd import MCD

        return MCD(random_state=seed)
    if name == "autoencoder":
        from pyod.models.auto_encoder import AutoEncoder

        return AutoEncoder(random_state=seed, verbose=0)
    raise SystemExit(f"unknown peer model {name}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--models", nargs="+", default=["mcd", "autoencoder"])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    import pyod

    keys = sorted(int(p.stem.split("_")[1]) for p in args.data.glob("train_*.npy"))
    seconds = {}
    for name in args.models:
        t0 = time.perf_counter()
        for k in keys:
            train = np.load(args.data / f"train_{k}.npy", allow_pickle=False)
            full = np.load(args.data / f"full_{k}.npy", allow_pickle=False)
            mean, std = train.mean(axis=0), train.std(axis=0)
            std = np.where(std > 0, std, 1.0)
            model = make(name, args.seed)
            model.fit(windows((train - mean) / std, args.window))
            wf = windows((full - mean) / std, args.window)
            s = model.decision_function(wf)
            f = model.predict(wf)
            idx = np.clip(np.arange(len(full)) - (args.window - 1), 0, len(wf) - 1)
            np.save(args.data / f"{name}_scores_{k}.npy", s[idx].astype(np.float64))
            np.save(args.data / f"{name}_flags_{k}.npy", f[idx].astype(np.int8))
        seconds[name] = round(time.perf_counter() - t0, 2)
    print(json.dumps({"pyod": pyod.__version__, "seconds": seconds, "files": len(keys)}))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
