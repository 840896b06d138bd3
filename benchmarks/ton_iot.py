"""Rare-attack augmentation on the TON_IoT telemetry, leak-free (../shared/data/iiot-ids/SOURCE.md).

Protocol (../shared/design/BENCHMARKS.md, section 9), per device: text normalised, date/time not
used, exact duplicates of (vector, type) dropped, every distinct feature vector one group and a
group on one side of a random 80/20 split only (``geniot.data.ton_iot``). Before any score, the
script prints how far the vectors alone *can* separate the classes: vectors that carry several
classes and the best accuracy any classifier can reach on the deduplicated rows.

Arms, all with the same classifier (HistGradientBoosting, default settings, seeded) and split:

* ``none``: the training rows as they are;
* ``smote``: imbalanced-learn's SMOTE (5 neighbours) for the rare classes;
* ``gaussian`` / ``flow`` / ...: a geniot generator from the registry fitted per rare class on
  that class's training rows (a row as a one-step window of the device's features) and sampled.

A class is rare when it has fewer than ``--rare-share`` (0.25) times the training rows of the
largest class; every arm brings each rare class up to the median size of the other attack
classes. Synthetic values of discrete features (at most 10 distinct training values) are
snapped to the nearest value seen in that class, in every arm alike. The binary task (attack vs
normal) uses the same synthetic rows, labelled attack, and reports the detection rate per type.

    .venv/bin/python benchmarks/ton_iot.py --seeds 0 1 2 3 4 --arms none smote gaussian flow \
        --out benchmarks/results/ton_iot.jsonl
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")  # one core per benchmark on a shared machine

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.metrics import f1_score, recall_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.core.exceptions import DataError
from geniot.data.ton_iot import DEVICES, DeviceTable, group_split, load_device
from geniot.workflows.training import build_model

TON_IOT = ROOT.parent / "shared" / "data" / "iiot-ids" / "ton_iot_telemetry"
DISCRETE_MAX_VALUES = 10
GENERATOR_PARAMS = {"flow": {"epochs": 80, "batch_size": 128, "patience": 15}, "vae": {"epochs": 80, "batch_size": 128}}


def rare_targets(y: np.ndarray, share: float) -> dict[str, int]:
    """Rare class -> the size to bring it up to (median of the other attack classes)."""
    names, counts = np.unique(y, return_counts=True)
    sizes = dict(zip(names.tolist(), counts.tolist(), strict=True))
    largest = max(sizes.values())
    rare = [c for c, n in sizes.items() if n < share * largest and c != "normal"]
    others = [n for c, n in sizes.items() if c not in rare and c != "normal"]
    if not rare or not others:
        return {}
    target = int(np.median(others))
    return {c: target for c in rare if sizes[c] < target}


def snap_discrete(synthetic: np.ndarray, real_class: np.ndarray, discrete: list[int]) -> np.ndarray:
    out = synthetic.copy()
    for j in discrete:
        values = np.unique(real_class[:, j])
        out[:, j] = values[np.abs(synthetic[:, j, None] - values[None, :]).argmin(axis=1)]
    return out


def synthetic_rows(arm: str, x: np.ndarray, y: np.ndarray, targets: dict[str, int], seed: int) -> dict[str, np.ndarray]:
    """Rare class -> synthetic feature rows from ``arm`` (empty for ``none``)."""
    if arm == "none" or not targets:
        return {}
    discrete = [j for j in range(x.shape[1]) if len(np.unique(x[:, j])) <= DISCRETE_MAX_VALUES]
    out = {}
    if arm == "smote":
        from imblearn.over_sampling import SMOTE

        k = min(5, min(int(np.sum(y == c)) for c in targets) - 1)
        x_res, y_res = SMOTE(sampling_strategy=targets, k_neighbors=k, random_state=seed).fit_resample(x, y)
        new_x, new_y = x_res[len(x) :], y_res[len(x) :]
        for c in targets:
            out[c] = snap_discrete(new_x[new_y == c], x[y == c], discrete)
        return out
    rng = np.random.default_rng(seed)
    for c, target in targets.items():
        xc = x[y == c]
        gen = build_model(arm, params=dict(GENERATOR_PARAMS.get(arm, {})), seed=seed)
        gen.fit(xc[:, None, :])  # a row is a one-step window of the device's features
        sample = gen.sample(target - len(xc), random_state=int(rng.integers(2**31)))[:, 0, :]
        out[c] = snap_discrete(sample, xc, discrete)
    return out


def classifier(seed: int) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(random_state=seed)


def evaluate(table: DeviceTable, train, test, extra: dict[str, np.ndarray], seed: int) -> dict:
    x_train, t_train = table.X[train], table.type[train]
    x_syn = np.concatenate([extra[c] for c in extra]) if extra else np.empty((0, table.X.shape[1]))
    t_syn = np.concatenate([np.full(len(extra[c]), c) for c in extra]) if extra else np.empty(0, dtype=str)
    x_fit = np.concatenate([x_train, x_syn])
    x_test, t_test = table.X[test], table.type[test]
    classes = sorted(set(t_test.tolist()) | set(t_train.tolist()))

    multi = classifier(seed).fit(x_fit, np.concatenate([t_train, t_syn]))
    pred = multi.predict(x_test)
    per_class = f1_score(t_test, pred, labels=classes, average=None, zero_division=0)
    result = {
        "multiclass": {
            "macro_f1": float(f1_score(t_test, pred, labels=classes, average="macro", zero_division=0)),
            "accuracy": float(np.mean(pred == t_test)),
            "per_class_f1": dict(zip(classes, map(float, per_class), strict=True)),
        }
    }
    binary = classifier(seed).fit(x_fit, np.concatenate([table.label[train], np.ones(len(x_syn), dtype=int)]))
    bpred = binary.predict(x_test)
    y_test = table.label[test]
    detected = {c: float(np.mean(bpred[t_test == c] == 1)) for c in classes if c != "normal" and np.any(t_test == c)}
    result["binary"] = {
        "macro_f1": float(f1_score(y_test, bpred, average="macro", zero_division=0)),
        "attack_f1": float(f1_score(y_test, bpred, zero_division=0)),
        "false_alarm_rate": float(np.mean(bpred[y_test == 0] == 1)),
        "recall_attack": float(recall_score(y_test, bpred, zero_division=0)),
        "detection_rate_per_type": detected,
    }
    return result


def separability(table: DeviceTable) -> dict:
    return {task: table.ambiguity(task) for task in ("multiclass", "binary")}


def fmt(values) -> str:
    a = np.asarray(values, dtype=float)
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():.3f} ± {sd:.3f}"


def print_tables(rows: list[dict], limits: dict) -> None:
    print("\n### Separability after normalising and deduplicating\n")
    print("| device | rows read | duplicates dropped | rows left | distinct vectors | vectors with >1 type (rows) | best possible accuracy, multiclass | best possible accuracy, binary |")
    print("|---|---|---|---|---|---|---|---|")
    for dev, lim in limits.items():
        m, b = lim["multiclass"], lim["binary"]
        print(f"| {dev} | {lim['rows_read']:,} | {lim['duplicates_dropped']:,} | {m['rows']:,} | {m['vectors']:,} | "
              f"{m['mixed_vectors']:,} ({m['rows_in_mixed_vectors']:,}) | {m['best_accuracy']:.3f} | {b['best_accuracy']:.3f} |")  # fmt: skip
    devices = list(dict.fromkeys(r["device"] for r in rows))
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    print("\n### Multiclass: macro-F1 and rare-class F1 (mean ± sd over seeds)\n")
    for dev in devices:
        rs = [r for r in rows if r["device"] == dev]
        rare = sorted({c for r in rs for c in r["rare"]})
        print(f"\n**{dev}** (rare: {', '.join(rare) or 'none'}; {len({r['seed'] for r in rs})} seeds)\n")
        classes = sorted(rs[0]["multiclass"]["per_class_f1"])
        print("| arm | macro-F1 | accuracy | " + " | ".join(f"F1 {c}" for c in classes) + " |")
        print("|---|---|---|" + "---|" * len(classes))
        for arm in arms:
            ra = [r for r in rs if r["arm"] == arm]
            if not ra:
                continue
            cells = [fmt([r["multiclass"]["per_class_f1"][c] for r in ra]) for c in classes]
            cells = [f"**{v}**" if c in rare else v for c, v in zip(classes, cells, strict=True)]
            print(f"| {arm} | {fmt([r['multiclass']['macro_f1'] for r in ra])} | {fmt([r['multiclass']['accuracy'] for r in ra])} | " + " | ".join(cells) + " |")
    print("\n### Binary (attack vs normal): macro-F1, false alarms, detection rate of the rare types\n")
    print("| device | arm | macro-F1 | false-alarm rate | detection rate per rare type |")
    print("|---|---|---|---|---|")
    for dev in devices:
        for arm in arms:
            ra = [r for r in rows if r["device"] == dev and r["arm"] == arm]
            if not ra:
                continue
            rare = sorted({c for r in ra for c in r["rare"]})
            det = ", ".join(f"{c} {fmt([r['binary']['detection_rate_per_type'].get(c, np.nan) for r in ra])}" for c in rare)
            print(f"| {dev} | {arm} | {fmt([r['binary']['macro_f1'] for r in ra])} | {fmt([r['binary']['false_alarm_rate'] for r in ra])} | {det or '-'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=TON_IOT)
    ap.add_argument("--devices", nargs="+", default=list(DEVICES), choices=list(DEVICES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--arms", nargs="+", default=["none", "smote", "gaussian", "flow"])
    ap.add_argument("--rare-share", type=float, default=0.25)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    rows, limits = [], {}
    for dev in args.devices:
        table = load_device(args.data, dev)
        limits[dev] = {"rows_read": table.rows_read, "duplicates_dropped": table.duplicates_dropped, **separability(table)}
        print(f"{dev}: {json.dumps(limits[dev])}", file=sys.stderr)
        for seed in args.seeds:
            try:
                train, test = group_split(table, seed=seed)
            except DataError as exc:
                print(f"{dev}: not benchmarked: {exc.reason}", file=sys.stderr)
                limits[dev]["skipped"] = exc.reason
                break
            targets = rare_targets(table.type[train], args.rare_share)
            for arm in args.arms:
                t0 = time.perf_counter()
                extra = synthetic_rows(arm, table.X[train], table.type[train], targets, seed)
                row = {"device": dev, "seed": seed, "arm": arm, "rare": targets, "n_train": len(train), "n_test": len(test),
                       **evaluate(table, train, test, extra, seed), "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
                rows.append(row)
                print(f"{dev} seed {seed} {arm}: multiclass macro-F1 {row['multiclass']['macro_f1']:.3f}, "
                      f"binary macro-F1 {row['binary']['macro_f1']:.3f} ({row['seconds']} s)", file=sys.stderr)  # fmt: skip
                if args.out:
                    with args.out.open("a") as fh:
                        fh.write(json.dumps({**row, "command": " ".join(sys.argv)}) + "\n")
    print_tables(rows, limits)


if __name__ == "__main__":
    main()
