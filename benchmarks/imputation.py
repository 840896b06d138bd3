"""Imputation benchmark on ETTh1 (TSI-Bench protocol), geniot and PyPOTS SAITS side by side.

Protocol (../shared/design/BENCHMARKS.md, section 2): ETTh1's 7 channels, standardised with the
training part's mean and sd; time-ordered 60/20/20 split; windows of 48 steps; in the test
windows 10% of the observed points are hidden at random (also 50% of points, and 50% in blocks);
MAE and MSE on the hidden points only, in standardised units. Choices written down here:
training windows are cut with stride 1 (``--train-stride``) for every model, validation and test
windows without overlap (72 test windows); blocks are runs of 12 steps of one channel
(``geniot.data.windows.random_masks(kind="blocks", block=12)``); the same masks for every model.
Each window is imputed on its own (no context from its neighbours) as the protocol does. Point
estimate: the closed-form conditional mean for the Gaussian baseline, the median of ``--draws``
draws for the other generators.
geniot's generators and SAITS get the same wall-clock training budget and 1 thread; SAITS runs
in the peer venv (benchmarks/peers/setup_peer.sh). Linear interpolation, LOCF and the mean are
computed here.

    .venv/bin/python benchmarks/imputation.py --models diffusion gaussian --minutes 10 --peer saits
    .venv/bin/python benchmarks/imputation.py --models gaussian diffusion flow --minutes 3 --seeds 0 1 2 \
        --peer none --auto diffusion --draws 5     # + 30-step outages of 2 channels, `geniot impute`'s default
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from datasets import etth1

from geniot.data.windows import make_windows, random_masks
from geniot.tasks import GapImputer
from geniot.tasks.imputer_selection import SelectingImputer, linear_fill
from geniot.workflows.training import build_model, parse_params

PEER_PY = ROOT / "benchmarks" / ".peer-venv" / "bin" / "python"
PEER_SCRIPT = ROOT / "benchmarks" / "peers" / "peer_impute.py"
WINDOW = 48
PATTERNS = {"points10": ("points", 0.1), "points50": ("points", 0.5), "blocks50": ("blocks", 0.5), "outage30x2": ("outage", 30)}
HEADERS = {"points10": "10% points", "points50": "50% points", "blocks50": "50% blocks", "outage30x2": "30-step outage x 2"}


def split_standardised():
    x = etth1()
    n = len(x)
    a, b = int(n * 0.6), int(n * 0.8)
    train, val, test = x[:a], x[a:b], x[b:]
    mean, std = train.mean(axis=0), train.std(axis=0)
    return [(part - mean) / std for part in (train, val, test)]


def hide(windows: np.ndarray, kind: str, rate: float, seed: int) -> np.ndarray:
    """Windows with a share ``rate`` of the observed entries set to NaN; for ``"outage"``,
    ``rate`` steps of two channels (chosen per window) from a random start."""
    if kind == "outage":
        rng = np.random.default_rng(seed)
        keep = np.ones(windows.shape, dtype=bool)
        length = int(rate)
        for w in keep:
            start = rng.integers(0, windows.shape[1] - length + 1)
            w[start : start + length, rng.choice(windows.shape[2], 2, replace=False)] = False
    else:
        keep = random_masks(windows.shape, rate=rate, kind=kind, block=12, random_state=seed)
    return np.where(keep, windows, np.nan)


def errors(truth: np.ndarray, holed: np.ndarray, imputed: np.ndarray) -> dict[str, float]:
    hidden = np.isnan(holed) & ~np.isnan(truth)
    diff = imputed[hidden] - truth[hidden]
    return {"mae": float(np.abs(diff).mean()), "mse": float((diff**2).mean()), "n_hidden": int(hidden.sum())}


def linear(holed: np.ndarray) -> np.ndarray:
    out = np.empty_like(holed)
    for i, w in enumerate(holed):
        out[i] = pd.DataFrame(w).interpolate(limit_direction="both").fillna(0.0).to_numpy()
    return out


def locf(holed: np.ndarray) -> np.ndarray:
    out = np.empty_like(holed)
    for i, w in enumerate(holed):
        out[i] = pd.DataFrame(w).ffill().bfill().fillna(0.0).to_numpy()
    return out


def run_geniot(name, train_w, tests, args) -> dict:
    gen = build_model(name, params=parse_params(args.params), max_minutes=args.minutes, seed=args.seed)
    t0 = time.perf_counter()
    gen.fit(train_w)
    train_s = time.perf_counter() - t0
    label = name if not args.params else f"{name} {args.params}"
    out = {"model": label, "train_s": round(train_s, 1), "epochs": len(gen.history_), "generator": gen}
    for pattern, (truth, holed) in tests.items():
        t1 = time.perf_counter()
        # The GapImputer over the test windows laid end to end with stride = window: each
        # window is imputed on its own, as the protocol asks.
        point = "mean" if callable(getattr(gen, "conditional_mean", None)) else "median"
        imputer = GapImputer(generator=gen, prefit=True, stride=WINDOW, n_draws=args.draws, point=point, random_state=args.seed)
        imputed = imputer.transform(holed.reshape(-1, holed.shape[2])).reshape(holed.shape)
        out["point"] = point
        out[pattern] = {**errors(truth, holed, imputed), "impute_s": round(time.perf_counter() - t1, 1)}
    return out


def run_auto(gen, label, tests, args) -> dict:
    """``geniot impute``'s default over the test part as one series (windows end to end, so
    neighbouring windows are context): the held-out check picks model, Gaussian or linear per
    kind of gap; with the 90% interval's coverage of the hidden values."""
    out = {"model": f"auto over {label} (series)"}
    for pattern, (truth, holed) in tests.items():
        t1 = time.perf_counter()
        series = holed.reshape(-1, holed.shape[2])
        point, lower, upper, selection = SelectingImputer(generator=gen, n_draws=args.draws, random_state=args.seed).transform(series)
        shape = holed.shape
        inside = (truth >= lower.reshape(shape)) & (truth <= upper.reshape(shape))
        hidden = np.isnan(holed) & ~np.isnan(truth)
        out[pattern] = {**errors(truth, holed, point.reshape(shape)), "coverage90": float(inside[hidden].mean()),
                        "chosen": selection.chosen, "reason": selection.reason,
                        "impute_s": round(time.perf_counter() - t1, 1)}  # fmt: skip
    return out


def run_saits(train_w, val_w, tests, args) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        np.save(tmp / "train.npy", train_w)
        np.save(tmp / "val_ori.npy", val_w)
        np.save(tmp / "val_x.npy", hide(val_w, "points", 0.1, args.seed + 100))
        for pattern, (_, holed) in tests.items():
            np.save(tmp / f"test_x_{pattern}.npy", holed)
        cmd = [str(PEER_PY), str(PEER_SCRIPT), "--data", str(tmp), "--minutes", str(args.minutes),
               "--seed", str(args.seed), "--threads", str(args.threads)]  # fmt: skip
        proc = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"SAITS failed:\n{proc.stderr[-3000:]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        out = {"model": f"peer: SAITS (PyPOTS {info['pypots']})", "train_s": info["train_seconds"], "epochs": info["epochs"]}
        for pattern, (truth, holed) in tests.items():
            imputed = np.load(tmp / f"test_imputed_{pattern}.npy", allow_pickle=False)
            out[pattern] = errors(truth, holed, imputed)
        return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["diffusion", "gaussian"])
    ap.add_argument("--params", default=None, help="generator parameters as JSON (all models)")
    ap.add_argument("--peer", default="saits", help="'saits' or 'none'")
    ap.add_argument("--minutes", type=float, default=10.0, help="training budget per model")
    ap.add_argument("--draws", type=int, default=10, help="imputation draws; the median is scored")
    ap.add_argument("--train-stride", type=int, default=1)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (masks and training); the table is mean ± sd")
    ap.add_argument("--auto", nargs="*", default=[], help="models over which to also score `geniot impute`'s default (held-out selection)")
    ap.add_argument("--patterns", nargs="+", default=list(PATTERNS), choices=list(PATTERNS), help="which missing patterns")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="append results as JSON lines")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    train, val, test = split_standardised()
    train_w = make_windows(train, WINDOW, args.train_stride)
    val_w = make_windows(val, WINDOW, WINDOW)
    test_w = make_windows(test, WINDOW, WINDOW)
    print(f"ETTh1: {len(train_w)} training, {len(val_w)} validation, {len(test_w)} test windows of {WINDOW}", file=sys.stderr)
    rows = []

    def emit(row: dict) -> None:
        """Keep a result and append it to ``--out`` at once (a long run that stops keeps what it did)."""
        rows.append(row)
        if args.out:
            with args.out.open("a") as fh:
                fh.write(json.dumps({**row, "minutes": args.minutes, "command": " ".join(sys.argv)}) + "\n")

    for seed in args.seeds:
        args.seed = seed
        tests = {p: (test_w, hide(test_w, kind, rate, seed)) for p, (kind, rate) in PATTERNS.items() if p in args.patterns}
        for name, fill in (("mean", lambda h: np.where(np.isnan(h), 0.0, h)), ("LOCF", locf), ("linear interpolation", linear)):
            emit({"model": name, "seed": seed, **{p: errors(t, h, fill(h)) for p, (t, h) in tests.items()}})
        series_linear = {p: errors(t, h, linear_fill(h.reshape(-1, h.shape[2])).reshape(h.shape)) for p, (t, h) in tests.items()}
        emit({"model": "linear interpolation (series)", "seed": seed, **series_linear})
        for name in [m for m in args.models if m != "none"]:
            row = run_geniot(name, train_w, tests, args)
            gen = row.pop("generator")
            emit({**row, "seed": seed})
            print(json.dumps(rows[-1]), file=sys.stderr)
            if name in args.auto:
                emit({**run_auto(gen, row["model"], tests, args), "seed": seed})
                print(json.dumps(rows[-1]), file=sys.stderr)
        if args.peer == "saits":
            if PEER_PY.exists():
                emit({**run_saits(train_w, val_w, tests, args), "seed": seed})
                print(json.dumps(rows[-1]), file=sys.stderr)
            else:
                print(f"peer venv missing ({PEER_PY}); run benchmarks/peers/setup_peer.sh", file=sys.stderr)
    print("| model | " + " | ".join(f"{HEADERS[p]} MAE / MSE" for p in args.patterns) + " | epochs | train s |")
    print("|---|" + "---|" * len(args.patterns) + "---|---|")
    for model in dict.fromkeys(r["model"] for r in rows):
        sub = [r for r in rows if r["model"] == model]
        cells = []
        for p in args.patterns:
            mae = np.array([r[p]["mae"] for r in sub])
            mse = np.array([r[p]["mse"] for r in sub])
            cell = f"{mae.mean():.3f} ± {mae.std():.3f} / {mse.mean():.3f}" if len(sub) > 1 else f"{mae[0]:.3f} / {mse[0]:.3f}"
            if "coverage90" in sub[0][p]:
                cell += f" (90% band covers {np.mean([r[p]['coverage90'] for r in sub]):.0%}; {', '.join(r[p]['chosen'] for r in sub)})"
            cells.append(cell)
        epochs = "/".join(str(r["epochs"]) for r in sub) if "epochs" in sub[0] else "–"
        train_s = f"{np.mean([r['train_s'] for r in sub]):.0f}" if "train_s" in sub[0] else "–"
        print(f"| {model} | " + " | ".join(cells) + f" | {epochs} | {train_s} |")


if __name__ == "__main__":
    main()
