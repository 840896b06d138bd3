"""RUL augmentation side by side on C-MAPSS, scarce regime (issue 16, scope 4).

Protocol as in ``benchmarks/rul.py`` (section 5): train on a share (20%) of the training units of
train_FD00x, drawn per seed with the same draw as ``rul.py``; predict the RUL at the last cycle of
every test unit; truth from RUL_FD00x; RUL capped at 125; RMSE over all test units and PHM08.
Model: the stop-24 ``RULEstimator`` (ensemble of ``--n-models`` CNNs, early stopping on whole
held-out units, window 30). Every arm of one seed sees the same units, nets and seeds; each net's
extra windows are drawn from its own training units only (never its held-out units), as many
as there are real ones (``--n-synthetic``). Arms:

* ``none``;
* ``jitter`` (non-generative peer, ``RULEstimator(augment="jitter")``): copies of real windows,
  each sensor rescaled by N(1, 0.05) and white noise of sd 0.05 (standardised units) added;
* ``smote`` (non-generative peer): SMOTE for regression within 20 RUL bins
  (``geniot.predictors.augmentation_rul.smote_rul``);
* ``gaussian`` (generative, ``RULEstimator(augment="gaussian")``): one joint normal over
  (window, RUL), sampled at drawn RULs: linear in the RUL;
* ``gaussian-bins`` (generative): one registry Gaussian per RUL bin (8 quantile bins),
  conditioned on the RUL inside its bin;
* ``gaussian-rbf`` (generative): one registry Gaussian conditioned on RBF bumps of the RUL;
* ``<model>-bins`` / ``<model>-rbf`` with any registry generator (``vae-rbf``, ``flow-rbf``,
  ``diffusion-rbf``; generative, learned): as above (``--gen-minutes`` wall cap per fit).

CPU time is process time (one torch and one BLAS thread).

    nice -n 10 .venv/bin/python benchmarks/augmentation_cmapss.py --subsets FD001 --seeds 0 1 2 3 4 \
        --arms none jitter smote gaussian gaussian-bins --out benchmarks/results/augmentation-cmapss.jsonl
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # a multi-threaded BLAS spins on a loaded machine

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.cmapss import SETTINGS, read_cmapss, read_rul  # noqa: E402
from geniot.metrics import phm08_score  # noqa: E402
from geniot.predictors.augmentation_rul import augment_rul, is_sampler_arm  # noqa: E402
from geniot.predictors.rul import RULEstimator  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "cmapss"
CAP = 125.0
BUILT_IN = {"none": None, "jitter": "jitter", "gaussian": "gaussian"}


def generative(arm: str) -> bool:
    """``gaussian`` (built in) or ``<registry name>-bins`` / ``<registry name>-rbf``."""
    return arm == "gaussian" or (is_sampler_arm(arm) and arm != "smote")


class ArmRUL(RULEstimator):
    """The RUL ensemble with the extra windows of one arm of this benchmark."""

    arm = "none"
    gen_minutes = 1.0
    stats: list

    def _augmented(self, windows, y, seed):
        if self.arm in BUILT_IN:
            return super()._augmented(windows, y, seed)
        # The estimator's own path (RULEstimator(augment=arm)), with this benchmark's budget for
        # learned generators.
        rng = np.random.default_rng(seed)
        n = int(round(float(self.n_synthetic) * len(windows)))
        extra, labels, fit_cpu_s = augment_rul(windows, y, self.arm, n, rng, minutes=self.gen_minutes, seed=seed)
        self.stats.append({"gen_fit_cpu_s": round(fit_cpu_s, 2)})
        return (np.concatenate([windows, extra.astype(np.float32)]),
                np.concatenate([y, labels.astype(np.float32)]))  # fmt: skip


def scarce_units(train, fraction: float, seed: int):
    """The same draw of units as ``benchmarks/rul.py``."""
    units = np.unique(train["unit"])
    keep = np.random.default_rng(seed).choice(
        units, max(2, int(round(fraction * len(units)))), replace=False
    )
    return train[train["unit"].isin(keep)]


def run(fd: str, seed: int, arm: str, args) -> dict:
    train = scarce_units(read_cmapss(DATA / f"train_{fd}.txt"), args.fraction, seed)
    test = read_cmapss(DATA / f"test_{fd}.txt")
    truth = np.minimum(read_rul(DATA / f"RUL_{fd}.txt"), CAP)
    est = ArmRUL(cap=CAP, max_minutes=args.minutes, augment=BUILT_IN.get(arm), random_state=seed,
                 condition_columns=list(SETTINGS), n_models=args.n_models, window=args.window,
                 patience=args.patience, n_synthetic=args.n_synthetic)  # fmt: skip
    est.arm, est.gen_minutes, est.stats = arm, args.gen_minutes, []
    t0, c0 = time.perf_counter(), time.process_time()
    est.fit(train)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    pred = est.predict(test)
    d = pred["rul"].to_numpy() - truth
    return {"subset": fd, "seed": seed, "fraction": args.fraction, "arm": arm, "n_models": args.n_models,
            "n_synthetic": args.n_synthetic, "rmse": float(np.sqrt(np.mean(d**2))), "phm08": phm08_score(pred["rul"], truth),
            "coverage_10_90": float(np.mean((truth >= pred["lower"]) & (truth <= pred["upper"]))),
            "train_cpu_s": round(cpu, 1), "train_s": round(seconds, 1), "epochs": sum(len(h) for h in est.histories_),
            "gen_fit_cpu_s": round(sum(s["gen_fit_cpu_s"] for s in est.stats), 1),
            "train_units": int(train["unit"].nunique()), "training_windows": est.n_training_windows_}  # fmt: skip


def _sd(v) -> float:
    return float(np.std(v, ddof=1)) if len(v) > 1 else 0.0


def summarise(rows: list[dict]) -> None:
    print(
        "| subset | augmentation | RMSE ↓ | PHM08 ↓ | 10-90% covers | epochs (all nets) | train CPU s | seeds |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for fd in dict.fromkeys(r["subset"] for r in rows):
        arms = list(dict.fromkeys(r["arm"] for r in rows if r["subset"] == fd))
        by = {
            a: sorted(
                (r for r in rows if (r["subset"], r["arm"]) == (fd, a)), key=lambda r: r["seed"]
            )
            for a in arms
        }
        for a, rs in by.items():
            rmse, phm = [r["rmse"] for r in rs], [r["phm08"] for r in rs]
            print(f"| {fd} | {a} | {np.mean(rmse):.2f} ± {_sd(rmse):.2f} | {np.mean(phm):.0f} ± {_sd(phm):.0f} | "
                  f"{np.mean([r['coverage_10_90'] for r in rs]):.2f} | {np.mean([r['epochs'] for r in rs]):.0f} | "
                  f"{np.mean([r['train_cpu_s'] for r in rs]):.0f} | {len(rs)} |")  # fmt: skip
        peers = [a for a in arms if not generative(a)]
        for g in (a for a in arms if generative(a)):
            words = []
            ahead_all = True
            for p in peers:
                common = sorted({r["seed"] for r in by[g]} & {r["seed"] for r in by[p]})
                gv = np.array([r["rmse"] for r in by[g] if r["seed"] in common])
                pv = np.array([r["rmse"] for r in by[p] if r["seed"] in common])
                if not len(common):
                    continue
                gap, sd = pv.mean() - gv.mean(), max(_sd(gv), _sd(pv))
                ahead = gap > sd
                ahead_all &= ahead
                words.append(f"vs {p}: {gap:+.2f} RMSE lower ({100 * gap / pv.mean():+.1f}%; sds {_sd(gv):.2f} / {_sd(pv):.2f}; "
                             f"paired {np.mean(pv - gv):+.2f} ± {_sd(pv - gv):.2f}){' > 1 sd' if ahead else ''}")  # fmt: skip
            print(
                f"{fd} {g}: "
                + "; ".join(words)
                + f" -> ahead of every peer by > 1 sd: {'yes' if ahead_all and words else 'no'}"
            )


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--subsets", nargs="+", default=["FD001"])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument(
        "--arms", nargs="+", default=["none", "jitter", "smote", "gaussian", "gaussian-bins"]
    )
    ap.add_argument(
        "--fraction", type=float, default=0.2, help="share of training units (scarce regime)"
    )
    ap.add_argument("--n-models", type=int, default=5)
    ap.add_argument("--n-synthetic", type=float, default=1.0, help="extra windows per real window")
    ap.add_argument("--window", type=int, default=30)
    ap.add_argument("--patience", type=int, default=30)
    ap.add_argument(
        "--minutes", type=float, default=15.0, help="wall cap per RUL fit (a safety net)"
    )
    ap.add_argument(
        "--gen-minutes", type=float, default=1.0, help="wall cap per learned generator fit"
    )
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument(
        "--summarise", type=Path, default=None, help="only print the tables of a results file"
    )
    args = ap.parse_args()
    if args.summarise:
        summarise(
            [json.loads(line) for line in args.summarise.read_text().splitlines() if line.strip()]
        )
        return
    from geniot.models.registry import generator_names

    names = set(generator_names())
    bad = [
        a
        for a in args.arms
        if not (
            a in BUILT_IN or (is_sampler_arm(a) and (a == "smote" or a.rsplit("-", 1)[0] in names))
        )
    ]
    if bad:
        raise SystemExit(
            f"unknown arm(s) {bad}; known: none, jitter, smote, gaussian, <model>-bins, <model>-rbf "
            f"with <model> one of {sorted(names)}"
        )
    import torch

    torch.set_num_threads(1)
    rows = []
    for fd in args.subsets:
        for seed in args.seeds:  # seed-major: an interrupted run still has every arm of its seeds
            for arm in args.arms:
                row = run(fd, seed, arm, args)
                rows.append(row)
                print(json.dumps(row), file=sys.stderr, flush=True)
                if args.out:
                    with args.out.open("a") as fh:
                        fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    summarise(rows)


if __name__ == "__main__":
    main()
