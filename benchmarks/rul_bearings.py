"""Remaining useful life of simulated run-to-failure bearings, beside two naive baselines.

Protocol: per seed, ``--train`` bearings and ``--test`` bearings simulated in three operating
conditions (:mod:`geniot.data.sim_bearings`: a defect at BPFO or BPFI growing with wear after a
random onset); each test bearing is cut at a share of its life drawn uniformly in
``[--cut-min, --cut-max]`` and its RUL after the last snapshot is the truth. Health indicators
per snapshot, baseline normalisation and onset detection run through the same code as
``geniot rul fit FOLDER`` (:func:`geniot.data.bearings.to_rul_frame`); the estimator is the
same ``RULEstimator`` (onset-gated: the population prior before onset) with a fixed epoch count,
so results do not depend on machine load. Baselines, computed here on the same units:

* constant: the mean RUL of the training bearings cut by the same protocol (it knows the cut
  range: the best single number for these test bearings);
* constant over all training rows: the mean RUL of every training snapshot (what a user who does
  not know how the test bearings were cut would take);
* mean life minus elapsed: max(0, mean training life - elapsed time of the test bearing).

geniot is scored three times from one fit, before a detected onset: by default (``observed_share=
"auto"``: how the batch of test bearings was observed, in service or cut at a share of life,
estimated from their ages and onset flags), in service (the training bearings still healthy at
the same age: the previous default) and told the cut range (the prior from the training bearings
at those shares of their life, the information the constant baseline has). ``--observe
in-service`` checks the default where the units are not cut but met in service. Rows ``before onset`` / ``past onset`` split the test bearings by geniot's own
detected onset.

Scores (hours): RMSE, MAE, the PHM 2012 accuracy score (1 is perfect) and, for geniot, the
10-90% interval coverage.

    nice -n 10 .venv/bin/python benchmarks/rul_bearings.py --seeds 0 1 2 3 4 5 --epochs 60
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

from geniot.data.bearings import to_rul_frame
from geniot.data.sim_bearings import cut_before_failure, indicator_frame, simulate_bearings
from geniot.metrics.rul import rul_scores
from geniot.predictors.rul import RULEstimator


def run(seed: int, args) -> list[dict]:
    kw = {"interval_s": args.interval_s, "snapshot_s": args.snapshot_s}
    train = simulate_bearings(args.train, seed=1000 * seed, **kw)
    rng = np.random.default_rng(seed)
    if args.observe == "in-service":
        # a fleet looked at today: a bearing is met in proportion to its life, at an age uniform over it
        pool = simulate_bearings(4 * args.test, seed=1000 * seed + 1, prefix="t", **kw)
        top = max(b.life_s for b in pool)
        test = [b for b in pool if rng.uniform() < b.life_s / top][: args.test]
        shares = rng.uniform(0.02, 1.0, len(test))
    else:
        test = simulate_bearings(args.test, seed=1000 * seed + 1, prefix="t", **kw)
        shares = rng.uniform(args.cut_min, args.cut_max, len(test))
    cuts = [cut_before_failure(b, s) for b, s in zip(test, shares, strict=True)]
    truth = np.array([r for _, r in cuts]) / 3600.0
    elapsed = np.array([c.times_s[-1] for c, _ in cuts]) / 3600.0
    t0, c0 = time.perf_counter(), time.process_time()
    train_rtf = to_rul_frame(indicator_frame(train), time_unit="h")
    test_rtf = to_rul_frame(indicator_frame([c for c, _ in cuts]), time_unit="h")
    features_s, features_cpu = time.perf_counter() - t0, time.process_time() - c0
    t0, c0 = time.perf_counter(), time.process_time()
    est = RULEstimator(fixed_epochs=True, epochs=args.epochs, max_minutes=None, gate_column="onset",
                       condition_columns=["condition"], n_models=args.n_models, point=args.point,
                       lr_schedule=None if args.lr_schedule == "none" else args.lr_schedule, random_state=seed)  # fmt: skip
    est.fit(train_rtf.frame, time_unit="h")
    fit_s, fit_cpu = time.perf_counter() - t0, time.process_time() - c0
    order = [c.unit for c, _ in cuts]
    pred = est.predict(test_rtf.frame).set_index("unit").loc[order]
    in_service = est.set_params(observed_share=None).predict(test_rtf.frame).set_index("unit").loc[order]
    told = est.set_params(observed_share=(args.cut_min, args.cut_max)).validate().predict(test_rtf.frame).set_index("unit").loc[order]
    lives = np.array([b.life_s for b in train]) / 3600.0
    if args.observe == "in-service":  # the mean remaining life of a bearing met in service
        constant = float(np.sum(lives**2) / (2 * np.sum(lives)))
    else:
        shares = rng.uniform(args.cut_min, args.cut_max, (len(lives), 200))
        constant = float(np.mean(lives[:, None] * (1 - shares)))
    life_minus = np.maximum(0.0, lives.mean() - elapsed)
    all_rows = float(np.mean(np.concatenate([(b.life_s - b.times_s) / 3600.0 for b in train])))
    after = (pred["basis"] == "after onset: model").to_numpy()
    rows = []
    methods = (("geniot", pred["rul"].to_numpy(), pred["lower"].to_numpy(), pred["upper"].to_numpy()),
                            ("geniot --observed-share in-service (the previous default)", in_service["rul"].to_numpy(),
                             in_service["lower"].to_numpy(), in_service["upper"].to_numpy()),
                            (f"geniot told the cut range ({args.cut_min:g}-{args.cut_max:g} of life)", told["rul"].to_numpy(),
                             told["lower"].to_numpy(), told["upper"].to_numpy()),
                            ("constant (training mean RUL at the cut)", np.full(len(truth), constant), None, None),
                            ("constant over all training rows", np.full(len(truth), all_rows), None, None),
                            ("mean life minus elapsed", life_minus, None, None))  # fmt: skip
    if args.observe == "in-service":  # no cut range to tell
        methods = [m for m in methods if not m[0].startswith("geniot told")]
    for name, p, lo, hi in methods:
        s = rul_scores(p, truth, lower=lo, upper=hi)["uncapped"]
        after_rmse = float(np.sqrt(np.mean((p[after] - truth[after]) ** 2))) if after.any() else float("nan")
        before_rmse = float(np.sqrt(np.mean((p[~after] - truth[~after]) ** 2))) if (~after).any() else float("nan")
        rows.append({"seed": seed, "method": name, **s, "rmse_after_onset": after_rmse, "n_after_onset": int(after.sum()),
                     "rmse_before_onset": before_rmse,
                     "features_s": round(features_s, 1), "fit_s": round(fit_s, 1),
                     "features_cpu_s": round(features_cpu, 1), "fit_cpu_s": round(fit_cpu, 1), "epochs": len(est.history_), "n_models": args.n_models,
                     "cap_h": round(est.cap_, 2)})  # fmt: skip
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4, 5])
    ap.add_argument("--train", type=int, default=12)
    ap.add_argument("--test", type=int, default=12)
    ap.add_argument("--epochs", type=int, default=60)
    ap.add_argument("--n-models", type=int, default=5, help="nets in the ensemble (the estimator's default)")
    ap.add_argument("--point", default="mean", choices=["mean", "median"], help="what the middle head learns")
    ap.add_argument("--lr-schedule", default="auto", choices=["auto", "cosine", "plateau", "none"])
    ap.add_argument("--interval-s", type=float, default=600.0, help="seconds between snapshots")
    ap.add_argument("--snapshot-s", type=float, default=0.1)
    ap.add_argument("--cut-min", type=float, default=0.5)
    ap.add_argument("--cut-max", type=float, default=0.95)
    ap.add_argument("--observe", choices=["cut", "in-service"], default="cut",
                    help="cut: each test bearing cut at a share of its life in [--cut-min, --cut-max]; in-service: "
                         "met in proportion to its life at an age uniform over it (a fleet looked at today)")
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
    print("| method | RMSE h | MAE h | PHM2012 score | RMSE h, past onset | RMSE h, before onset | 10-90% coverage |")
    print("|---|---|---|---|---|---|---|")
    for method in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == method]

        def ms(key, fmt=".2f", rs=rs):
            v = np.array([r[key] for r in rs], dtype=float)
            v = v[~np.isnan(v)]  # a seed with no test bearing past onset has no past-onset RMSE
            if not len(v):
                return "–"
            return f"{v.mean():{fmt}} ± {v.std(ddof=1) if len(v) > 1 else 0:{fmt}}"

        cover = ms("coverage_10_90", ".2f") if "coverage_10_90" in rs[0] else "-"
        print(f"| {method} | {ms('rmse')} | {ms('mae')} | {ms('phm2012', '.3f')} | {ms('rmse_after_onset')} | {ms('rmse_before_onset')} | {cover} |")
    n_after = sum(r["n_after_onset"] for r in rows if r["method"] == "geniot")
    n_all = sum(r["n"] for r in rows if r["method"] == "geniot")
    print(f"\n{len(args.seeds)} seeds, {args.train} training / {args.test} test bearings per seed; "
          f"{n_after} of {n_all} test bearings past the detected onset")  # fmt: skip


if __name__ == "__main__":
    main()
