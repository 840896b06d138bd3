"""PyPOTS SAITS for the imputation benchmark, run in the peer venv (see README.md here).

Input folder: ``train.npy`` (n, t, c) training windows, ``val_x.npy``/``val_ori.npy`` (validation
windows with extra holes / without), ``test_x_<name>.npy`` (test windows with holes to fill), all
float with NaN for gaps, loaded with ``allow_pickle=False``. SAITS gets the same wall-clock
budget as geniot: one epoch is timed on a subset, the epoch count is set to fit the budget,
and PyPOTS keeps the weights of the best validation epoch. Writes ``test_imputed_<name>.npy``; prints
one JSON line.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def saits(t: int, c: int, epochs: int, seed: int):
    from pypots.imputation import SAITS
    from pypots.utils.random import set_random_seed

    set_random_seed(seed)
    # PyPOTS' documented SAITS settings for ETT-scale data.
    return SAITS(
        n_steps=t, n_features=c, n_layers=2, d_model=256, n_heads=4, d_k=64, d_v=64, d_ffn=128,
        dropout=0.1, epochs=epochs, batch_size=32, patience=None, device="cpu", verbose=False,
    )  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, required=True)
    ap.add_argument("--minutes", type=float, required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    args = ap.parse_args()
    import pypots
    import torch

    torch.set_num_threads(args.threads)
    load = lambda name: np.load(args.data / name, allow_pickle=False)  # noqa: E731
    train, val_x, val_ori = (load(n) for n in ("train.npy", "val_x.npy", "val_ori.npy"))
    _, t, c = train.shape
    budget = args.minutes * 60.0
    start = time.perf_counter()
    probe_n = min(len(train), 512)
    probe = saits(t, c, 1, args.seed)
    t0 = time.perf_counter()
    probe.fit({"X": train[:probe_n]})
    per_epoch = (time.perf_counter() - t0) * len(train) / probe_n
    remaining = budget - (time.perf_counter() - start)
    epochs = max(1, int(remaining // (per_epoch * 1.1)))  # validation takes a little too
    model = saits(t, c, epochs, args.seed)
    model.fit({"X": train}, {"X": val_x, "X_ori": val_ori})
    train_seconds = time.perf_counter() - start
    for path in sorted(args.data.glob("test_x_*.npy")):
        imputed = model.predict({"X": load(path.name)})["imputation"]
        np.save(args.data / path.name.replace("test_x_", "test_imputed_"), np.asarray(imputed, dtype=np.float64))
    print(json.dumps({"pypots": pypots.__version__, "epochs": epochs, "train_seconds": round(train_seconds, 1),
                      "epoch_seconds_estimate": round(per_epoch, 2)}))  # fmt: skip
    sys.stdout.flush()


if __name__ == "__main__":
    main()
