"""Bearing fault classification on CWRU (12 kHz drive end), leakage-safe split by load.

Protocol (../shared/design/BENCHMARKS.md, section 5): train on the 0, 1 and 2 HP recordings,
test on the 3 HP recordings (no recording on both sides); accuracy and macro-F1. The 9 fault
classes of the 12 kHz set (IR, ball, OR@6 x 0.007/0.014/0.021 in); "normal" exists only at
48 kHz, 0 HP, so it cannot be tested at 3 HP and is left out. Windows of 2,048 samples (50%
overlap in training, none in test). Few-shot: k training windows per class drawn per seed,
with and without augmentation (50 synthetic feature vectors per class): class-conditional
Gaussian (generative) and SMOTE-style interpolation (the non-generative peer).

    .venv/bin/python benchmarks/faults.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.cwru import labelled_windows, load_recordings
from geniot.predictors.faults import FaultClassifier

CWRU = ROOT.parent / "shared" / "data" / "cwru"
LENGTH = 2048


def windows(recs, loads, stride):
    return labelled_windows(recs, loads, LENGTH, stride)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--shots", type=int, nargs="+", default=[5, 1])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    recs = load_recordings(CWRU)
    x_train, y_train = windows(recs, (0, 1, 2), LENGTH // 2)
    x_test, y_test = windows(recs, (3,), LENGTH)
    print(f"{len(x_train)} training windows (0-2 HP), {len(x_test)} test windows (3 HP), {len(np.unique(y_train))} classes", file=sys.stderr)
    rows = []
    for seed in args.seeds:
        settings = [("all", None, None)] + [(k, a, a) for k in args.shots for a in (None, "gaussian", "smote")]
        for shots, augment, _ in settings:
            if shots == "all":
                idx = np.arange(len(y_train))
            else:
                rng = np.random.default_rng(seed)
                idx = np.concatenate([rng.choice(np.flatnonzero(y_train == c), shots, replace=False) for c in np.unique(y_train)])
            clf = FaultClassifier(augment=augment, random_state=seed).fit(x_train[idx], y_train[idx])
            pred = clf.predict(x_test)
            row = {"seed": seed, "shots": shots, "augment": augment or "none", "accuracy": float(np.mean(pred == y_test)),
                   "macro_f1": float(f1_score(y_test, pred, average="macro"))}  # fmt: skip
            rows.append(row)
            print(json.dumps(row), file=sys.stderr)
            if args.out:
                with args.out.open("a") as fh:
                    fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    print("| training windows per class | augmentation | accuracy | macro-F1 |\n|---|---|---|---|")
    for key in dict.fromkeys((r["shots"], r["augment"]) for r in rows):
        rs = [r for r in rows if (r["shots"], r["augment"]) == key]
        acc = np.array([r["accuracy"] for r in rs])
        f1 = np.array([r["macro_f1"] for r in rs])
        sd = lambda a: a.std(ddof=1) if len(a) > 1 else 0.0  # noqa: E731
        print(f"| {key[0]} | {key[1]} | {100 * acc.mean():.1f} ± {100 * sd(acc):.1f} % | {f1.mean():.3f} ± {sd(f1):.3f} |")


if __name__ == "__main__":
    main()
