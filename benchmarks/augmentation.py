"""Generative vs non-generative augmentation, side by side: CWRU few-shot from raw windows.

Protocol (BENCHMARKS section 6 split): train on the 0, 1 and 2 HP recordings of the 12 kHz
drive-end set, test on every 3 HP window (no recording on both sides); 9 fault classes; windows
of 2,048 samples (50% overlap in training, none in test). k windows per class are drawn per seed
from the training loads (the same draw for every arm). Classifier: :class:`RawFaultCNN`, a small
1-D CNN on the raw signal (no spectral features), the same steps and batch size in every arm.
Arms: no augmentation; shift/scale/jitter crops and SMOTE (non-generative peers); a
class-conditional generator per class fitted on sub-windows of the shots (generative).

    nice -n 10 .venv/bin/python benchmarks/augmentation.py --seeds 0 1 2 3 4 --shots 1 5 \
        --arms none jitter smote gaussian jitter+gaussian --n-models 3

Each generative arm is then compared with none and with each peer: the difference of the means,
the larger of the two standard deviations, and the paired difference over seeds.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):  # one BLAS thread: honest CPU s
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import torch  # noqa: E402

from geniot.data.cwru import labelled_windows, load_recordings  # noqa: E402
from geniot.predictors.fault_cnn import RawFaultCNN  # noqa: E402

CWRU = ROOT.parent / "shared" / "data" / "cwru"
LENGTH = 2048


def windows(recs, loads, stride):
    return labelled_windows(recs, loads, LENGTH, stride)


def sd(a) -> float:
    return float(np.std(a, ddof=1)) if len(a) > 1 else 0.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--shots", type=int, nargs="+", default=[1, 5])
    ap.add_argument("--arms", nargs="+", default=["none", "jitter", "smote", "gaussian", "jitter+gaussian"],
                    help="none, jitter, smote (peers), a generator name or jitter+<generator> (generative)")
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--crop", type=int, default=512)
    ap.add_argument("--n-synthetic", type=int, default=200)
    ap.add_argument("--n-models", type=int, default=3, help="nets averaged per fit (same pool)")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(1)
    recs = load_recordings(CWRU)
    x_train, y_train = windows(recs, (0, 1, 2), LENGTH // 2)
    x_test, y_test = windows(recs, (3,), LENGTH)
    print(f"{len(x_train)} training windows (0-2 HP), {len(x_test)} test windows (3 HP), "
          f"{len(np.unique(y_train))} classes", file=sys.stderr)  # fmt: skip
    rows = []
    for shots in args.shots:
        for seed in args.seeds:
            rng = np.random.default_rng(seed)
            idx = np.concatenate([rng.choice(np.flatnonzero(y_train == c), shots, replace=False) for c in np.unique(y_train)])
            for arm in args.arms:
                t0 = time.process_time()
                clf = RawFaultCNN(crop=args.crop, steps=args.steps, n_synthetic=args.n_synthetic, n_models=args.n_models,
                                  augment=None if arm == "none" else arm, random_state=seed)  # fmt: skip
                clf.fit(x_train[idx], y_train[idx])
                pred = clf.predict(x_test)
                row = {"shots": shots, "seed": seed, "arm": arm, "accuracy": float(np.mean(pred == y_test)),
                       "macro_f1": float(f1_score(y_test, pred, average="macro")),
                       "cpu_s": round(time.process_time() - t0, 1), "generator_cpu_s": round(clf.generator_seconds_, 1),
                       "smote_skipped_classes": len(clf.smote_skipped_)}  # fmt: skip
                rows.append(row)
                print(json.dumps(row), file=sys.stderr)
                if args.out:
                    with args.out.open("a") as fh:
                        fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    print("| windows per class | augmentation | accuracy (3 HP) | macro-F1 | CPU s per fit |\n|---|---|---|---|---|")
    for key in dict.fromkeys((r["shots"], r["arm"]) for r in rows):
        rs = [r for r in rows if (r["shots"], r["arm"]) == key]
        acc, f1 = np.array([r["accuracy"] for r in rs]), np.array([r["macro_f1"] for r in rs])
        cpu = np.mean([r["cpu_s"] for r in rs])
        print(f"| {key[0]} | {key[1]} | {100 * acc.mean():.1f} ± {100 * sd(acc):.1f} % | {f1.mean():.3f} ± {sd(f1):.3f} | {cpu:.0f} |")
    # The done-when test of issue 16: a generative arm ahead of none and of every peer by > 1 sd.
    for shots in args.shots:
        acc = {a: np.array([r["accuracy"] for r in rows if r["shots"] == shots and r["arm"] == a]) for a in args.arms}
        for gen in [a for a in args.arms if a not in ("none", "jitter", "smote")]:
            for other in [a for a in args.arms if a in ("none", "jitter", "smote")]:
                d = acc[gen].mean() - acc[other].mean()
                worst_sd = max(sd(acc[gen]), sd(acc[other]))
                paired = acc[gen] - acc[other] if len(acc[gen]) == len(acc[other]) else np.array([np.nan])
                print(f"{shots}-shot {gen} vs {other}: {100 * d:+.1f} points (larger sd {100 * worst_sd:.1f}; paired "
                      f"{100 * paired.mean():+.1f} ± {100 * sd(paired):.1f}) -> {'ahead by > 1 sd' if d > worst_sd else 'not'}")  # fmt: skip


if __name__ == "__main__":
    main()
