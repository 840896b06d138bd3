"""Remaining useful life on NASA C-MAPSS, with and without generative augmentation.

Protocol (../shared/design/BENCHMARKS.md, section 4): train on train_FD00x, predict the RUL at
the last cycle of each test unit, truth from RUL_FD00x; RUL capped at 125 (training targets and
truth); RMSE over all test units and the PHM08 score. Regimes: all training units, and a scarce
regime with 20% of the training units (drawn per seed). In the scarce regime the same
``RULEstimator`` runs without augmentation, with generative augmentation (a conditional
generator fitted on (window, RUL) samples as many extra windows as there are real ones) and with
the non-generative peer (jittered, rescaled copies of real windows), side by side.

Training time is measured as CPU time of the fit (one thread: ``torch.set_num_threads(1)``), so
that it does not depend on how many other processes share the machine; wall time is kept beside it.

    nice -n 10 .venv/bin/python benchmarks/rul.py --subsets FD001 --seeds 0 1 2 3 4 --skip-scarce
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.cmapss import SETTINGS, read_cmapss, read_rul
from geniot.metrics import phm08_score
from geniot.predictors.rul import RULEstimator

DATA = ROOT.parent / "shared" / "data" / "cmapss"
CAP = 125.0


def run(fd: str, seed: int, minutes: float, fraction: float, augment: str | None, options: dict) -> dict:
    train = read_cmapss(DATA / f"train_{fd}.txt")
    test = read_cmapss(DATA / f"test_{fd}.txt")
    truth = np.minimum(read_rul(DATA / f"RUL_{fd}.txt"), CAP)
    if fraction < 1.0:
        units = np.unique(train["unit"])
        keep = np.random.default_rng(seed).choice(units, max(2, int(round(fraction * len(units)))), replace=False)
        train = train[train["unit"].isin(keep)]
    t0, c0 = time.perf_counter(), time.process_time()
    # The three settings are the operating conditions: on FD003 a sensor with two values that
    # are constant over long stretches would otherwise be detected as one.
    est = RULEstimator(cap=CAP, max_minutes=minutes, augment=augment, random_state=seed, condition_columns=list(SETTINGS),
                       **options).fit(train)  # fmt: skip
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    pred = est.predict(test)
    d = pred["rul"].to_numpy() - truth
    cover = float(np.mean((truth >= pred["lower"]) & (truth <= pred["upper"])))
    early = truth >= 60  # early-life test units, where the old model's errors concentrated
    return {"subset": fd, "seed": seed, "fraction": fraction, "augment": augment or "none", **options,
            "rmse": float(np.sqrt(np.mean(d**2))), "phm08": phm08_score(pred["rul"], truth), "coverage_10_90": cover,
            "rmse_truth_ge_60": float(np.sqrt(np.mean(d[early] ** 2))), "rmse_truth_lt_60": float(np.sqrt(np.mean(d[~early] ** 2))),
            "train_s": round(seconds, 1), "train_cpu_s": round(cpu, 1), "epochs": sum(len(h) for h in est.histories_),
            "train_units": int(train["unit"].nunique()), "training_windows": est.n_training_windows_}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subsets", nargs="+", default=["FD001"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--minutes", type=float, default=15.0, help="wall-clock cap per fit (a safety net: CPU time is reported)")
    ap.add_argument("--n-models", type=int, default=5, help="nets in the ensemble")
    ap.add_argument("--window", type=int, default=30)
    ap.add_argument("--patience", type=int, default=30, help="epochs without a better validation loss, per net")
    ap.add_argument("--smoothing", type=float, default=None, help="exponential smoothing weight of the newest row")
    ap.add_argument("--scarce", type=float, default=0.2, help="share of training units in the scarce regime")
    ap.add_argument("--augments", nargs="+", default=["none", "gaussian", "jitter"], help="for the scarce regime")
    ap.add_argument("--skip-full", action="store_true")
    ap.add_argument("--skip-scarce", action="store_true")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    for fd in args.subsets:
        settings = ([] if args.skip_full else [(1.0, None)]) + (
            [] if args.skip_scarce else [(args.scarce, None if a == "none" else a) for a in args.augments]
        )
        for fraction, augment in settings:
            for seed in args.seeds:
                options = {"n_models": args.n_models, "window": args.window, "smoothing": args.smoothing, "patience": args.patience}
                row = run(fd, seed, args.minutes, fraction, augment, options)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                if args.out:
                    with args.out.open("a") as fh:
                        fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    print("| subset | training units | augmentation | RMSE | PHM08 | 10-90% coverage | RMSE truth ≥ 60 / < 60 | "
          "epochs (all nets) | train CPU s | train wall s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    keys = sorted({(r["subset"], r["fraction"], r["augment"]) for r in rows}, key=lambda k: (k[0], -k[1], k[2]))
    for fd, fraction, augment in keys:
        rs = [r for r in rows if (r["subset"], r["fraction"], r["augment"]) == (fd, fraction, augment)]
        rmse = np.array([r["rmse"] for r in rs])
        phm = np.array([r["phm08"] for r in rs])
        print(f"| {fd} | {fraction:.0%} | {augment} | {rmse.mean():.2f} ± {rmse.std(ddof=1) if len(rs) > 1 else 0:.2f} | "
              f"{phm.mean():.0f} ± {phm.std(ddof=1) if len(rs) > 1 else 0:.0f} | {np.mean([r['coverage_10_90'] for r in rs]):.2f} | "
              f"{np.mean([r['rmse_truth_ge_60'] for r in rs]):.1f} / {np.mean([r['rmse_truth_lt_60'] for r in rs]):.1f} | "
              f"{np.mean([r['epochs'] for r in rs]):.0f} | {np.mean([r['train_cpu_s'] for r in rs]):.0f} | "
              f"{np.mean([r['train_s'] for r in rs]):.0f} |")  # fmt: skip


if __name__ == "__main__":
    main()
