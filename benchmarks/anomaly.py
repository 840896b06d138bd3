"""Anomaly detection benchmark on SKAB, geniot's detectors and PyOD peers side by side.

Protocol (../shared/design/BENCHMARKS.md, section 3): each labelled SKAB file on its own; the
first 400 rows are the training part (normal), the rest the test part; counts pooled over the
34 test parts; F1 = TP / (TP + (FP + FN) / 2), FAR and MAR in percent; AUC-PR (average
precision) per file, averaged. geniot: ``AnomalyDetector`` over a generator, fitted on the
training rows only (``--calibration split``: the last quarter of them held out to set the
threshold; ``train``: the generator sees all 400 rows and the threshold is set on the same rows,
as ``geniot fit --train-rows 400`` + ``geniot detect --train-rows 400`` do). Peers: PyOD's MCD
and AutoEncoder on the same flattened windows, in the peer venv, with PyOD's own threshold.

    .venv/bin/python benchmarks/anomaly.py --models gaussian --window 8 --peer mcd autoencoder
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.io import read_labels, read_series
from geniot.metrics import average_precision, detection_counts, detection_scores
from geniot.tasks import AnomalyDetector, debounce
from geniot.workflows.training import build_model, parse_params

SKAB = ROOT.parent / "shared" / "data" / "skab"
PEER_PY = ROOT / "benchmarks" / ".peer-venv" / "bin" / "python"
PEER_SCRIPT = ROOT / "benchmarks" / "peers" / "peer_anomaly.py"
TRAIN_ROWS = 400


def skab_files() -> list[Path]:
    files = [p for d in ("valve1", "valve2", "other") for p in (SKAB / d).glob("*.csv")]
    return sorted(files, key=lambda p: (p.parent.name, int(p.stem)))


def load(path: Path, drop: list[str]) -> tuple[np.ndarray, np.ndarray]:
    series = read_series(path)
    if drop:
        series = series.select([c for c in series.channels if c not in drop])
    labels = read_labels(path)["anomaly"].to_numpy().astype(bool)
    return series.values, labels


def summarise(name: str, per_file: list[tuple[np.ndarray, np.ndarray, np.ndarray]], seconds: float) -> dict:
    counts = detection_counts((y, f) for y, f, _ in per_file)
    aps = [average_precision(y, s) for y, _, s in per_file if y.any() and (~y).any()]
    return {"model": name, **detection_scores(counts), "auc_pr": float(np.mean(aps)), **counts, "seconds": round(seconds, 1)}


def run_geniot(name: str, data, args) -> dict:
    per_file = []
    t0 = time.perf_counter()
    for values, labels in data:
        gen = build_model(name, params=parse_params(args.params), max_minutes=args.minutes, seed=args.seed)
        prefit = args.calibration == "train"
        det = AnomalyDetector(
            generator=gen, window=args.window, threshold=args.threshold, risk=args.risk, smoothing=args.smoothing,
            align=args.align, attribute="none", prefit=prefit, min_event_steps=args.min_event_steps,
            merge_gap=args.merge_gap,
        )  # fmt: skip
        train = values[:TRAIN_ROWS]
        if prefit:
            from geniot.data.windows import make_windows

            gen.fit(make_windows(train, args.window))
        det.fit(train)
        result = det.detect(values)
        per_file.append((labels[TRAIN_ROWS:], result.flags[TRAIN_ROWS:], result.scores[TRAIN_ROWS:]))
    return summarise(name, per_file, time.perf_counter() - t0)


def run_peers(models: list[str], data, args) -> list[dict]:
    if not PEER_PY.exists():
        print(f"peer venv missing ({PEER_PY}); run benchmarks/peers/setup_peer.sh", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for k, (values, _) in enumerate(data):
            np.save(tmp / f"train_{k}.npy", values[:TRAIN_ROWS])
            np.save(tmp / f"full_{k}.npy", values)
        cmd = [str(PEER_PY), str(PEER_SCRIPT), "--data", str(tmp), "--window", str(args.window),
               "--seed", str(args.seed), "--models", *models]  # fmt: skip
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode != 0:
            raise RuntimeError(f"peer failed:\n{proc.stderr[-3000:]}")
        info = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = []
        for name in models:
            per_file = []
            for k, (_, labels) in enumerate(data):
                s = np.load(tmp / f"{name}_scores_{k}.npy", allow_pickle=False)
                f = np.load(tmp / f"{name}_flags_{k}.npy", allow_pickle=False).astype(bool)
                if args.min_event_steps > 1 or args.merge_gap > 0:  # the same clean-up as geniot's
                    f = debounce(f, args.merge_gap, args.min_event_steps)
                per_file.append((labels[TRAIN_ROWS:], f[TRAIN_ROWS:], s[TRAIN_ROWS:]))
            row = summarise(f"peer: PyOD {name} {info['pyod']}", per_file, info["seconds"][name])
            rows.append(row)
        return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["gaussian"], help="geniot generators ('none' for peers only)")
    ap.add_argument("--params", default=None, help="generator parameters as JSON (all models)")
    ap.add_argument("--peer", nargs="*", default=["mcd", "autoencoder"], help="PyOD peers ('none' to skip)")
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--threshold", default="pot")
    ap.add_argument("--risk", type=float, default=1e-3)
    ap.add_argument("--smoothing", type=int, default=1)
    ap.add_argument("--align", default="end")
    ap.add_argument("--min-event-steps", type=int, default=1, help="drop runs of flags shorter than this (all models)")
    ap.add_argument("--merge-gap", type=int, default=0, help="bridge gaps of this many steps (all models)")
    ap.add_argument("--drop-channels", nargs="*", default=[], help="leave these sensors out (all models)")
    ap.add_argument("--calibration", choices=("split", "train"), default="split")
    ap.add_argument("--minutes", type=float, default=0.25, help="training budget per file for torch models")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="append results as JSON lines")
    args = ap.parse_args()
    try:
        args.threshold = float(args.threshold)
    except ValueError:
        pass
    import torch

    torch.set_num_threads(args.threads)
    files = skab_files()
    data = [load(p, args.drop_channels) for p in files]
    test_share = np.mean(np.concatenate([y[TRAIN_ROWS:] for _, y in data]))
    print(f"{len(files)} SKAB files; {test_share:.1%} of test rows are anomalous", file=sys.stderr)
    rows = []
    for name in [m for m in args.models if m != "none"]:
        rows.append(run_geniot(name, data, args))
        print(json.dumps(rows[-1]), file=sys.stderr)
    peers = [p for p in (args.peer or []) if p != "none"]
    if peers:
        rows.extend(run_peers(peers, data, args))
    settings = {k: getattr(args, k) for k in ("window", "threshold", "risk", "smoothing", "align", "calibration", "minutes", "seed", "params",
                                         "min_event_steps", "merge_gap", "drop_channels")}
    print("| model | F1 | FAR % | MAR % | AUC-PR | seconds |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['model']} | {r['f1']:.3f} | {r['far']:.2f} | {r['mar']:.2f} | {r['auc_pr']:.3f} | {r['seconds']} |")
    if args.out:
        with args.out.open("a") as fh:
            for r in rows:
                fh.write(json.dumps({**r, "settings": settings, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
