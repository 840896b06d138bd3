"""Federated intrusion/anomaly detection on the TON_IoT telemetry: raw rows stay at each site.

A generative detector (geniot's ``AnomalyDetector`` over a generator of normal behaviour) is
trained on normal rows only and flags attack rows as anomalies. Compared, with the same rows,
model settings and threshold rule (pooled peaks-over-threshold):

* centralized: one detector fitted on every site's normal training rows pooled in one place;
* federated: the same model trained by ``geniot.federated`` in Flower's simulation engine, each
  site a ClientApp that reads only its own file (the Gaussian baseline exactly from summed
  statistics; a torch generator by FedAvg rounds);
* local-only: each site fits its own detector on its own rows and scores its own test rows.

Sites: one federation per device type, its rows dealt at random among equal-sized files
and the files among sites of unequal size (``--chunks``, default 6, 3 and 1 files: the small
site has a tenth of the normal data). The devices cannot be the sites of one model, because each
device has its own feature columns.
Rows are prepared leak-free (``geniot.data.ton_iot``: text normalised, no date/time, exact
duplicates dropped) and every distinct feature vector is one group: a group lies at one site and
on one side of the train/test split. Each file holds the same number of normal training rows (first, in file order;
the few beyond the smallest file's count are left out and counted), then its test rows, normal
and attack, in file order, with an ``anomaly`` column (1 = attack); windows never cross files. Windows are ``--window`` consecutive rows (2: the smallest a federation takes).
Scores are pooled over all sites' test rows: F1 = TP / (TP + (FP + FN) / 2), FAR and MAR in %.

    .venv/bin/python benchmarks/security_federated.py --devices weather gps_tracker thermostat modbus \
        --seeds 0 1 2 3 4 --out benchmarks/results/security_federated.jsonl

``--simulated``: the security detector on the simulated attacks of ``benchmarks/security.py``
(same plant, protocol and independent scorer), sites = pumps. Its sequential FDI tests are
trained local-only (each pump alone, the default), federated (each pump sends the moment
statistics of its own standardised normal windows, ``geniot.federated.security_fleet``) or
centralized (every pump's windows pooled in one place); calibration, the consistency model,
replay memory and traffic profiles stay per pump in all three. Detection rate per attack type,
kind right, false alarms in attacked and in clean data, mean ± sd over the seeds:

    .venv/bin/python benchmarks/security_federated.py --simulated --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from geniot.data.ton_iot import DEVICES, DeviceTable, group_split, load_device
from geniot.federated.plan import FederatedPlan
from geniot.federated.simulation import simulate
from geniot.federated.sites import SiteData, load_site
from geniot.metrics import average_precision, detection_counts, detection_scores
from geniot.tasks import AnomalyDetector
from geniot.workflows.training import build_model, parse_params

TON_IOT = ROOT.parent / "shared" / "data" / "iiot-ids" / "ton_iot_telemetry"
CALIBRATION_FRACTION = 0.25


def write_sites(table: DeviceTable, chunks: list[int], seed: int, folder: Path) -> tuple[list[Path], int, int]:
    """One folder per site holding ``chunks[k]`` files; every file has the same number of normal
    training rows (first, in file order), then its test rows. Groups go to files in random order.
    Returns the site folders, the normal training rows per file and the normal training rows
    left out to make the files equal (they are used nowhere)."""
    train, test = group_split(table, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    n_files = sum(chunks)
    is_train = np.zeros(len(table.X), dtype=bool)
    is_train[train] = True
    # Groups dealt in a random order, round-robin: normal training groups first, so that every
    # file gets (almost) the same number of normal training rows; then all other groups.
    learns = set(table.groups[is_train & (table.label == 0)].tolist())
    group_ids = rng.permutation(np.unique(table.groups))
    ordered = [g for g in group_ids.tolist() if g in learns] + [g for g in group_ids.tolist() if g not in learns]
    file_of_group = {g: i % n_files for i, g in enumerate(ordered)}
    file_of_row = np.array([file_of_group[g] for g in table.groups.tolist()])
    normal_train = [np.flatnonzero((file_of_row == f) & is_train & (table.label == 0)) for f in range(n_files)]
    per_file = min(len(rows) for rows in normal_train)
    left_out = sum(len(rows) - per_file for rows in normal_train)
    sites, f = [], 0
    for k, n in enumerate(chunks):
        site = folder / f"site{k}"
        site.mkdir()
        for _ in range(n):
            kept = normal_train[f][np.argsort(table.file_rows[normal_train[f]])][:per_file]
            tested = np.flatnonzero((file_of_row == f) & ~is_train)
            order = np.concatenate([kept, tested[np.argsort(table.file_rows[tested])]])
            frame = pd.DataFrame(table.X[order], columns=list(table.features))
            frame["anomaly"] = table.label[order]
            frame.to_csv(site / f"part{f:02d}.csv", index=False)
            f += 1
        sites.append(site)
    return sites, per_file, left_out


def detector(args, seed: int) -> AnomalyDetector:
    params = parse_params(args.params) if args.model != "gaussian" else {}
    if args.model != "gaussian":
        params.setdefault("epochs", args.rounds * args.local_epochs)
    gen = build_model(args.model, params=params, seed=seed)
    return AnomalyDetector(generator=gen, window=args.window, threshold="pot", risk=args.risk, calibration_fraction=CALIBRATION_FRACTION, attribute="none")


def score(det_for_site, sites: list[SiteData]) -> dict:
    """Pooled counts at the threshold, and the threshold-free ranking quality of the scores
    (ROC-AUC, average precision; a step without a whole window yet scores lowest)."""
    per_site, labels, scores = [], [], []
    for k, data in enumerate(sites):
        det = det_for_site(k)
        pairs = []
        for s in data.series:
            found = det.detect(s.values)
            pairs.append((s.labels[s.normal_rows :], found.flags[s.normal_rows :]))
            labels.append(s.labels[s.normal_rows :])
            scores.append(found.scores[s.normal_rows :])
        per_site.append(detection_counts(pairs))
    total = {key: sum(c[key] for c in per_site) for key in ("tp", "fp", "fn", "tn")}
    y, z = np.concatenate(labels), np.concatenate(scores)
    z = np.where(np.isfinite(z), z, np.nanmin(z) - 1.0)
    return {
        **detection_scores(total), **total, "roc_auc": float(roc_auc_score(y, z)), "average_precision": float(average_precision(y, z)),
        "attack_share": float(y.mean()), "per_site_f1": [round(detection_scores(c)["f1"], 4) for c in per_site],
    }  # fmt: skip


def normal_parts(data: SiteData) -> list[np.ndarray]:
    return [s.values[: s.normal_rows] for s in data.series]


def run_device(args, table: DeviceTable, seed: int) -> list[dict]:
    rows = []
    with tempfile.TemporaryDirectory(prefix=f"geniot-fl-{table.device}-") as tmp:
        paths, per_file, left_out = write_sites(table, args.chunks, seed, Path(tmp))
        sites = [load_site(p, window=args.window, train_rows=per_file, calibration_fraction=CALIBRATION_FRACTION) for p in paths]
        base = {"device": table.device, "seed": seed, "model": args.model, "normal_training_rows_per_file": per_file,
                "normal_training_rows_left_out": left_out,
                "test_rows_per_site": [sum(len(s.values) - s.normal_rows for s in d.series) for d in sites]}  # fmt: skip

        t0 = time.perf_counter()
        central = detector(args, seed).fit([part for d in sites for part in normal_parts(d)])
        rows.append({**base, "method": "centralized", **score(lambda k: central, sites), "seconds": round(time.perf_counter() - t0, 1)})

        t0 = time.perf_counter()
        local = [detector(args, seed).fit(normal_parts(d)) for d in sites]
        rows.append({**base, "method": "local-only", **score(local.__getitem__, sites), "seconds": round(time.perf_counter() - t0, 1)})

        params = parse_params(args.params) if args.model != "gaussian" else {}
        if args.model != "gaussian":
            params["random_state"] = seed
        plan = FederatedPlan(
            model=args.model, params=params, window=args.window, rounds=args.rounds, local_epochs=args.local_epochs,
            train_rows=per_file, calibration_fraction=CALIBRATION_FRACTION, risk=args.risk, seed=seed,
        )  # fmt: skip
        t0 = time.perf_counter()
        outcome = simulate(plan, [str(p) for p in paths], num_cpus=args.cpus)
        det = outcome.model
        det.attribute = "none"
        row = score(lambda k: det, sites)
        if abs(row["f1"] - outcome.final.get("f1", row["f1"])) > 1e-9:  # the federation's own evaluation must agree
            raise SystemExit(f"{table.device} seed {seed}: federation F1 {outcome.final['f1']} != offline F1 {row['f1']}")
        rows.append({**base, "method": "federated", **row, "seconds": round(time.perf_counter() - t0, 1)})
    for r in rows:
        print(f"{r['device']} seed {seed} {r['method']}: F1 {r['f1']:.3f} FAR {r['far']:.2f} % MAR {r['mar']:.2f} % "
              f"ROC-AUC {r['roc_auc']:.3f} per site {r['per_site_f1']} ({r['seconds']} s)", file=sys.stderr)  # fmt: skip
    return rows


def fmt(values) -> str:
    a = np.asarray(values, dtype=float)
    sd = a.std(ddof=1) if len(a) > 1 else 0.0
    return f"{a.mean():.3f} ± {sd:.3f}"


def print_table(rows: list[dict], chunks: list[int]) -> None:
    print("| device | method | seeds | F1 | FAR % | MAR % | ROC-AUC | average precision (attack share) | F1 per site (" + " / ".join(f"{c} files" for c in chunks) + ") | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for dev in dict.fromkeys(r["device"] for r in rows):
        for method in ("centralized", "federated", "local-only"):
            rs = [r for r in rows if r["device"] == dev and r["method"] == method]
            if not rs:
                continue
            per = " / ".join(f"{np.mean([r['per_site_f1'][k] for r in rs]):.3f}" for k in range(len(chunks)))
            print(f"| {dev} | {method} | {len(rs)} | {fmt([r['f1'] for r in rs])} | {fmt([r['far'] for r in rs])} | "
                  f"{fmt([r['mar'] for r in rs])} | {fmt([r['roc_auc'] for r in rs])} | "
                  f"{fmt([r['average_precision'] for r in rs])} ({np.mean([r['attack_share'] for r in rs]):.2f}) | {per} | {np.mean([r['seconds'] for r in rs]):.0f} |")  # fmt: skip


def run_simulated(args) -> list[dict]:
    """One row per seed and fleet mode on the simulated attacks (see the module docstring)."""
    import importlib.util

    from geniot.data.simulate import simulate_attacked
    from geniot.federated.security_fleet import MODES, fit_fleet
    from geniot.security import SecurityDetector, events_frame, messages_from_frame

    spec = importlib.util.spec_from_file_location("security_benchmark", ROOT / "benchmarks" / "security.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    tol = pd.Timedelta(minutes=10.0)
    rows = []
    for seed in args.seeds:
        _, attacked, history = simulate_attacked(n_assets=args.assets, days=2.0, seed=seed, history_days=2.0, attacks=bench.ATTACKS, per_type=1)
        _, clean, _ = simulate_attacked(n_assets=args.assets, days=2.0, seed=seed, history_days=2.0, attacks=(), fault_rate=0.0)
        normal, msgs, clean_msgs = (messages_from_frame(f)[0] for f in (history.messages, attacked.messages, clean.messages))
        found = {}
        for mode in MODES:
            t0 = time.process_time()
            det = fit_fleet(SecurityDetector(), normal, mode)
            events = found[mode] = events_frame(det.detect(msgs))
            clean_events = events_frame(det.detect(clean_msgs))
            labels, false_alarms, single, right = bench.score(attacked.labels, events, tol)
            row = {"seed": seed, "method": mode, "false_alarms": false_alarms, "single": single, "right": right,
                   "clean_events": len(clean_events), "clean_integrity": int((clean_events["kind"] == "integrity").sum()),
                   "cpu_s": round(time.process_time() - t0, 1)}  # fmt: skip
            for typ, g in labels.groupby("type"):
                row[f"n:{typ}"], row[f"hit:{typ}"] = len(g), int(g["detected"].sum())
            for fdi_mode, g in labels[labels["type"] == "fdi"].groupby("mode"):
                row[f"n:fdi-{fdi_mode}"], row[f"hit:fdi-{fdi_mode}"] = len(g), int(g["detected"].sum())
            rows.append(row)
            print(f"seed {seed} {mode}: fdi {row.get('hit:fdi', 0)}/{row.get('n:fdi', 0)}, kind right {right}/{single}, "
                  f"false alarms {false_alarms}, clean {row['clean_events']} ({row['clean_integrity']} integrity), {row['cpu_s']} s CPU", file=sys.stderr)  # fmt: skip
        cols = ["asset", "start", "end", "kind", "attack", "signal"]
        same = found["federated"][cols].reset_index(drop=True).equals(found["centralized"][cols].reset_index(drop=True))
        for r in rows[-len(MODES) :]:
            r["events_equal_centralized"] = bool(same) if r["method"] == "federated" else None
    return rows


def print_simulated(rows: list[dict]) -> None:
    types = sorted({k[2:] for r in rows for k in r if k.startswith("n:")})
    print("| method | seeds | " + " | ".join(types) + " | kind right | false alarms (attacked) | clean events (integrity) |")
    print("|---|---|" + "---|" * len(types) + "---|---|---|")
    for method in dict.fromkeys(r["method"] for r in rows):
        rs = [r for r in rows if r["method"] == method]
        cells = []
        for t in types:
            hit, n = sum(r.get(f"hit:{t}", 0) for r in rs), sum(r.get(f"n:{t}", 0) for r in rs)
            rates = [r[f"hit:{t}"] / r[f"n:{t}"] for r in rs if r.get(f"n:{t}")]
            cells.append(f"{hit}/{n} ({fmt(rates)})")
        right, single = sum(r["right"] for r in rs), sum(r["single"] for r in rs)
        print(f"| {method} | {len(rs)} | " + " | ".join(cells) + f" | {right}/{single} = {right / max(single, 1):.0%} | "
              f"{fmt([r['false_alarms'] for r in rs])} | {fmt([r['clean_events'] for r in rs])} ({fmt([r['clean_integrity'] for r in rs])}) |")  # fmt: skip
    same = [r["events_equal_centralized"] for r in rows if r["method"] == "federated"]
    print(f"\nfederated events identical to centralized: {sum(same)}/{len(same)} seeds")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=TON_IOT)
    ap.add_argument("--devices", nargs="+", default=["weather", "gps_tracker", "thermostat", "modbus"], choices=list(DEVICES))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--chunks", type=int, nargs="+", default=[6, 3, 1], help="files per site (site sizes)")
    ap.add_argument("--model", default="gaussian")
    ap.add_argument("--params", default=None, help="torch model parameters as JSON")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--local-epochs", type=int, default=2)
    ap.add_argument("--window", type=int, default=2)
    ap.add_argument("--risk", type=float, default=1e-3)
    ap.add_argument("--cpus", type=int, default=1, help="Ray CPUs for the simulated sites")
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--simulated", action="store_true", help="the security detector on the simulated attacks, sites = pumps")
    ap.add_argument("--assets", type=int, default=3, help="--simulated: pumps (sites)")
    args = ap.parse_args()
    if len(args.chunks) < 2 or min(args.chunks) < 1:
        ap.error("--chunks needs at least two sites of at least one file each")
    import torch

    torch.set_num_threads(1)
    if args.simulated:
        rows = run_simulated(args)
        if args.out:
            with args.out.open("a") as fh:
                for r in rows:
                    fh.write(json.dumps({**r, "command": " ".join(sys.argv)}) + "\n")
        print_simulated(rows)
        return
    rows = []
    for dev in args.devices:
        table = load_device(args.data, dev)
        for seed in args.seeds:
            rows.extend(run_device(args, table, seed))
    if args.out:
        with args.out.open("a") as fh:
            for r in rows:
                fh.write(json.dumps({**r, "command": " ".join(sys.argv)}) + "\n")
    print_table(rows, args.chunks)


if __name__ == "__main__":
    main()
