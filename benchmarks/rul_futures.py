"""Generative RUL (issue 20, scope 5): the failure time implied by a family of generated
degradation paths (:class:`geniot.predictors.rul_futures.RULFutures`, the Gaussian generator of
the registry over past + next rows and the remaining life) beside the point model it is built on
(the ``RULEstimator`` ensemble), on the same units: RMSE of the median (the point model: its
middle head), and how often the 10-90% band holds the truth.

* ``--data cmapss``: train_FD00x / test_FD00x, truth RUL_FD00x capped at 125 (section 5's protocol;
  window 40, smoothing 0.3, patience 15, 5 nets);
* ``--data bearings``: section 17's simulated bearings (12 + 12 per seed, cut at 50-95% of life,
  60 fixed epochs); only the test bearings past the detected onset have a path (before onset both
  answer with the same population prior), so the table scores those.

    nice -n 10 .venv/bin/python benchmarks/rul_futures.py --data bearings --seeds 0 1 2 3 4 5
    nice -n 10 .venv/bin/python benchmarks/rul_futures.py --data cmapss --subset FD001 --seeds 0
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
from geniot.predictors.rul import RULEstimator
from geniot.predictors.rul_futures import RULFutures

CAP = 125.0
DATA = ROOT.parent / "shared" / "data" / "cmapss"


def _cmapss(seed: int, args):
    train = read_cmapss(DATA / f"train_{args.subset}.txt")
    test = read_cmapss(DATA / f"test_{args.subset}.txt")
    truth = np.minimum(read_rul(DATA / f"RUL_{args.subset}.txt"), CAP)
    est = RULEstimator(cap=CAP, window=40, smoothing=0.3, patience=15, max_minutes=120, n_models=args.n_models,
                       condition_columns=list(SETTINGS), random_state=seed)  # fmt: skip
    return est, train, test, truth, None


def _bearings(seed: int, args):
    from geniot.data.bearings import to_rul_frame
    from geniot.data.sim_bearings import cut_before_failure, indicator_frame, simulate_bearings

    kw = {"interval_s": 600.0, "snapshot_s": 0.1}
    train = simulate_bearings(12, seed=1000 * seed, **kw)
    test = simulate_bearings(12, seed=1000 * seed + 1, prefix="t", **kw)
    rng = np.random.default_rng(seed)
    cuts = [cut_before_failure(b, s) for b, s in zip(test, rng.uniform(0.5, 0.95, len(test)), strict=True)]
    truth = np.array([r for _, r in cuts]) / 3600.0
    train_frame = to_rul_frame(indicator_frame(train), time_unit="h").frame
    test_frame = to_rul_frame(indicator_frame([c for c, _ in cuts]), time_unit="h").frame
    est = RULEstimator(fixed_epochs=True, epochs=60, max_minutes=None, gate_column="onset", condition_columns=["condition"],
                       n_models=args.n_models, random_state=seed)  # fmt: skip
    return est, train_frame, test_frame, truth, [c.unit for c, _ in cuts]


def run(seed: int, args) -> list[dict]:
    est, train, test, truth, order = (_cmapss if args.data == "cmapss" else _bearings)(seed, args)
    c0 = time.process_time()
    est.fit(train, **({"time_unit": "h"} if args.data == "bearings" else {}))
    fit_cpu = time.process_time() - c0
    pred = est.predict(test).set_index("unit")
    pred = pred.loc[order] if order else pred
    c0 = time.process_time()
    fut = RULFutures(past=args.past, ahead=args.ahead, random_state=seed).fit(est, train)
    times = fut.failure_times(test, n=args.n).set_index("unit")
    times = times.loc[order] if order else times
    futures_cpu = time.process_time() - c0
    keep = (times["basis"] == "generated paths").to_numpy()
    rows = []
    for name, p in (("point model (RULEstimator ensemble)", pred), ("generated paths (RULFutures, gaussian)", times)):
        mid, lo, hi = (p[c].to_numpy(dtype=float)[keep] for c in ("rul", "lower", "upper"))
        y = truth[keep]
        rows.append({"data": args.data if args.data == "bearings" else args.subset, "seed": seed, "method": name,
                     "n": int(keep.sum()), "rmse": float(np.sqrt(np.mean((mid - y) ** 2))),
                     "mae": float(np.mean(np.abs(mid - y))), "coverage_10_90": float(np.mean((y >= lo) & (y <= hi))),
                     "band_width": float(np.mean(hi - lo)), "fit_cpu_s": round(fit_cpu, 1),
                     "futures_cpu_s": round(futures_cpu, 1), "past": fut.past_, "ahead": args.ahead,
                     "n_windows": fut.n_windows_})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", choices=["cmapss", "bearings"], default="bearings")
    ap.add_argument("--subset", default="FD001")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--n-models", type=int, default=5)
    ap.add_argument("--past", type=int, default=None, help="past rows the generator sees (default: the estimator's window span, at most 40)")
    ap.add_argument("--ahead", type=int, default=6, help="next rows it generates per step")
    ap.add_argument("--n", type=int, default=200, help="paths per unit")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    rows = []
    for seed in args.seeds:
        for row in run(seed, args):
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    print("| data | method | units scored | RMSE of the median | MAE | 10-90% covers | band width | CPU s (fit / futures) |")
    print("|---|---|---|---|---|---|---|---|")
    for method in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == method]

        def ms(key, rs=rs):
            v = np.array([r[key] for r in rs], dtype=float)
            return f"{v.mean():.2f} ± {v.std(ddof=1):.2f}" if len(v) > 1 else f"{v.mean():.2f}"

        print(f"| {rs[0]['data']} | {method} | {sum(r['n'] for r in rs)} | {ms('rmse')} | {ms('mae')} | "
              f"{ms('coverage_10_90')} | {ms('band_width')} | {np.mean([r['fit_cpu_s'] for r in rs]):.0f} / "
              f"{np.mean([r['futures_cpu_s'] for r in rs]):.0f} |")  # fmt: skip
    print(f"\n{len(args.seeds)} seed(s)")


if __name__ == "__main__":
    main()
