#!/usr/bin/env python
"""Train a peer generator on windows and sample synthetic windows.

Runs INSIDE the peer venv (benchmarks/.peer-venv, made by setup_peer.sh), never in
geniot's own venv:

    benchmarks/.peer-venv/bin/python benchmarks/peers/peer_generate.py \
        --train train.npy --n 3000 --minutes 2 --seed 0 --out synth.npy [--model dgan|tsgm-vae]

Input: float array (n, t, c), already min-max scaled to [0, 1] per channel.
Output: float32 array (N, t, c) in the same [0, 1] scale (DGAN: clipped, see README).
stdout: exactly one JSON line; everything the libraries print goes to stderr.

Time budget: training stops before the step that would take it past --minutes
(predicted from the mean duration of the last 5 steps), or when the documented epoch count
(--max-epochs) is reached, whichever comes first. Library imports, data loading and
sampling are outside the budget and reported separately.
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import json
import os
import sys
import time

MODELS = ("dgan", "tsgm-vae")
# Documented epoch counts: DGANConfig.epochs default; tsgm VAE tutorial (tutorials/VAEs/VAE.ipynb).
DEFAULT_MAX_EPOCHS = {"dgan": 400, "tsgm-vae": 100}


class _BudgetReached(Exception):
    """Raised from DGAN's progress callback to end training at the time budget."""


class _Clock:
    """Budget clock. wall: time.perf_counter(); cpu: process CPU seconds (all threads)."""

    def __init__(self, kind: str, budget_s: float):
        self.kind = kind
        self.budget_s = budget_s
        self._now = time.perf_counter if kind == "wall" else time.process_time
        self.t0_wall = time.perf_counter()
        self.t0_cpu = time.process_time()
        self.t0 = self._now()
        self.last = self.t0
        self.steps = 0
        self.recent = collections.deque(maxlen=5)  # durations of the last steps

    def elapsed(self) -> float:
        return self._now() - self.t0

    def step_done(self) -> bool:
        """Record one finished optimisation step; True when the next step would overrun.

        The next step's duration is predicted as the mean of the last (up to) 5 steps.
        """
        now = self._now()
        self.recent.append(now - self.last)
        self.last = now
        self.steps += 1
        return (now - self.t0) + sum(self.recent) / len(self.recent) > self.budget_s

    def wall(self) -> float:
        return time.perf_counter() - self.t0_wall

    def cpu(self) -> float:
        return time.process_time() - self.t0_cpu


def _pkg_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def run_dgan(x, n, clock, max_epochs, seed, sample_len):
    import numpy as np
    import torch
    from gretel_synthetics.timeseries_dgan.config import DGANConfig
    from gretel_synthetics.timeseries_dgan.dgan import DGAN

    torch.manual_seed(seed)
    np.random.seed(seed)
    t = x.shape[1]
    if t % sample_len:
        raise SystemExit(f"--sample-len {sample_len} must divide the window length {t}")
    # Library defaults (DGANConfig) except: the window length, sample_len (no default),
    # cuda=False (CPU benchmark) and epochs = an upper bound (the budget usually binds).
    config = DGANConfig(max_sequence_len=t, sample_len=sample_len, epochs=max_epochs, cuda=False)
    model = DGAN(config)
    state = {"epoch": 0, "batch": 0, "total_batches": 1}

    def progress(info):
        state.update(epoch=info.epoch, batch=info.batch, total_batches=info.total_batches)
        if clock.step_done():
            raise _BudgetReached

    stopped_by = "epochs"
    try:
        # Features only: no attributes. With the defaults DGAN still generates two
        # internal per-example attributes per channel (midpoint, half-range).
        model.train_numpy(features=x, progress_callback=progress)
    except _BudgetReached:
        stopped_by = "budget"
    train_wall, train_cpu = clock.wall(), clock.cpu()
    epochs = state["epoch"] + (state["batch"] + 1) / state["total_batches"] if clock.steps else 0.0

    t1 = time.perf_counter()
    with torch.no_grad():
        _, feats = model.generate_numpy(n)
    synth = np.stack(feats).astype(np.float32)
    sample_s = time.perf_counter() - t1
    settings = {k: (v.name if hasattr(v, "name") else v) for k, v in config.to_dict().items()}
    return synth, {
        "train_seconds": train_wall,
        "cpu_seconds": train_cpu,
        "epochs": epochs,
        "steps": clock.steps,
        "stopped_by": stopped_by,
        "sample_seconds": sample_s,
        "version": _pkg_version("gretel-synthetics"),
        "settings": settings,
    }


def run_tsgm_vae(x, n, clock, max_epochs, seed, latent_dim, batch_size):
    import keras
    import numpy as np
    import tsgm

    if keras.backend.backend() != "torch":
        raise SystemExit(f"Keras backend is {keras.backend.backend()!r}, expected 'torch'")
    keras.utils.set_random_seed(seed)  # python, numpy and backend RNGs
    _, t, c = x.shape
    # Settings of tsgm's VAE tutorial (tutorials/VAEs/VAE.ipynb), which uses the same
    # TimeGAN-style windows (24 steps): zoo["vae_conv5"](seq_len, feat_dim, latent_dim=10),
    # BetaVAE(encoder, decoder), Adam() with Keras defaults, batch_size=64, epochs=100.
    arch = tsgm.models.zoo["vae_conv5"](t, c, latent_dim)
    vae = tsgm.models.cvae.BetaVAE(arch.encoder, arch.decoder)
    vae.compile(optimizer=keras.optimizers.Adam())
    steps_per_epoch = -(-x.shape[0] // batch_size)
    state = {"stopped_by": "epochs"}

    class Budget(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if clock.step_done():
                state["stopped_by"] = "budget"
                self.model.stop_training = True  # Keras 3 checks this after every batch

    hist = vae.fit(x, epochs=max_epochs, batch_size=batch_size, verbose=0, callbacks=[Budget()])
    train_wall, train_cpu = clock.wall(), clock.cpu()
    t1 = time.perf_counter()
    parts, left = [], n
    while left > 0:  # sample in chunks to bound memory
        k = min(left, 4096)
        parts.append(keras.ops.convert_to_numpy(vae.generate(k)))
        left -= k
    synth = np.concatenate(parts).astype(np.float32)
    sample_s = time.perf_counter() - t1
    last = {k: float(v[-1]) for k, v in hist.history.items() if v}
    return synth, {
        "train_seconds": train_wall,
        "cpu_seconds": train_cpu,
        "epochs": clock.steps / steps_per_epoch,
        "steps": clock.steps,
        "stopped_by": state["stopped_by"],
        "sample_seconds": sample_s,
        "version": tsgm.__version__,
        "keras_version": keras.__version__,
        "settings": {
            "architecture": "vae_conv5",
            "latent_dim": latent_dim,
            "beta": vae.beta,
            "optimizer": "Adam(keras defaults, lr=0.001)",
            "batch_size": batch_size,
            "max_epochs": max_epochs,
            "final_losses": last,
        },
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--train", required=True, help=".npy float array (n, t, c) scaled to [0, 1]")
    p.add_argument("--n", type=int, required=True, help="number of windows to sample")
    p.add_argument("--minutes", type=float, required=True, help="training budget in minutes")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="output .npy (N, t, c), float32")
    p.add_argument("--model", choices=MODELS, default="dgan")
    p.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                   help="budget clock: wall-clock seconds (default) or process CPU seconds")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="epoch cap; default the documented value (dgan 400, tsgm-vae 100); 0 = budget only")
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (default 2)")
    p.add_argument("--sample-len", type=int, default=6,
                   help="dgan: time steps per LSTM cell; must divide t (default 6, see README)")
    p.add_argument("--latent-dim", type=int, default=10, help="tsgm-vae latent size (tutorial: 10)")
    p.add_argument("--batch-size", type=int, default=64, help="tsgm-vae batch size (tutorial: 64)")
    a = p.parse_args(argv)

    real_stdout = sys.stdout
    t_start = time.perf_counter()
    with contextlib.redirect_stdout(sys.stderr):  # keep stdout for the one JSON line
        os.environ.setdefault("OMP_NUM_THREADS", str(a.threads))
        if a.model == "tsgm-vae":
            os.environ["KERAS_BACKEND"] = "torch"
        import numpy as np
        import torch

        torch.set_num_threads(a.threads)
        x = np.load(a.train, allow_pickle=False)
        if x.ndim != 3 or not np.issubdtype(x.dtype, np.floating):
            raise SystemExit(f"--train must be a float array (n, t, c); got {x.dtype} {x.shape}")
        if not np.isfinite(x).all():
            raise SystemExit("--train contains NaN or inf")
        x = np.ascontiguousarray(x, dtype=np.float32)
        lo, hi = float(x.min()), float(x.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            print(f"warning: training data range [{lo:.4g}, {hi:.4g}] is not within [0, 1]", file=sys.stderr)
        if a.model == "tsgm-vae":
            import keras  # noqa: F401
            import tsgm  # noqa: F401  (slow import: matplotlib, statsmodels, ...)
        else:
            import gretel_synthetics.timeseries_dgan.dgan  # noqa: F401
        import_s = time.perf_counter() - t_start

        max_epochs = DEFAULT_MAX_EPOCHS[a.model] if a.max_epochs is None else a.max_epochs
        if max_epochs <= 0:
            max_epochs = 10**9
        clock = _Clock(a.clock, a.minutes * 60.0)
        if a.model == "dgan":
            synth, info = run_dgan(x, a.n, clock, max_epochs, a.seed, a.sample_len)
        else:
            synth, info = run_tsgm_vae(x, a.n, clock, max_epochs, a.seed, a.latent_dim, a.batch_size)

        nan_count = int(np.isnan(synth).sum())
        outside = float(((synth < 0) | (synth > 1)).mean()) if nan_count == 0 else None
        if nan_count == 0:
            synth = np.clip(synth, 0.0, 1.0)
            os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
            np.save(a.out, synth, allow_pickle=False)

    result = {
        "model": a.model,
        "train_seconds": round(info.pop("train_seconds"), 2),
        "epochs": round(info.pop("epochs"), 3),
        "version": info.pop("version"),
        "cpu_seconds": round(info.pop("cpu_seconds"), 2),
        "budget_seconds": a.minutes * 60.0,
        "clock": a.clock,
        "max_epochs": max_epochs if max_epochs < 10**9 else None,
        "stopped_by": info.pop("stopped_by"),
        "steps": info.pop("steps"),
        "import_seconds": round(import_s, 2),
        "sample_seconds": round(info.pop("sample_seconds"), 2),
        "n_train": int(x.shape[0]),
        "shape": list(synth.shape),
        "outside_01_fraction": outside,
        "nan_count": nan_count,
        "seed": a.seed,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
        **info,
    }
    print(json.dumps(result), file=real_stdout, flush=True)
    if nan_count:
        print(f"error: {nan_count} NaN values in the synthetic windows; {a.out} not written", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
