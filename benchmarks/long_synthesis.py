"""Long synthesis benchmark: continuous synthetic series beside the two baselines.

Run by hand (never by CI), from the project root, e.g.:

    .venv/bin/python benchmarks/long_synthesis.py --datasets ett skab fleet \
        --models gaussian diffusion vae --seeds 0 1 2 --minutes 15

For each dataset, generator and seed the generator is fitted on windows of the real series (a
wall-clock budget of ``--minutes``), ``geniot synthesize`` makes one continuous series (ETTh1: a
month of hours; SKAB anomaly-free: 2,000 s; the simulator fleet: 7 days at 5 minutes with
faults), and :func:`geniot.metrics.long_series.long_series_metrics` scores it beside
independent model windows concatenated, a block bootstrap of the real series and real stretches
of the same length. The fleet also places every learned fault type on demand (``--faults``
episodes each) and reports how many a detector trained on real normal data flags, and its
false alarms on synthetic normal rows against real normal rows. The GAN cannot impute, so it
cannot continue a series: it is listed as such. Results go to a JSON-lines file and a
markdown table on stdout.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from geniot.core.exceptions import CapabilityError
from geniot.data.io import read_table
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.metrics.long_series import long_series_metrics
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector
from geniot.tasks.flatline import FlatlineDetector
from geniot.tasks.long_synthesis import (
    check_can_continue,
    episode_features,
    fault_episodes,
    independent_windows,
)
from geniot.workflows.datasets import windows_from_file
from geniot.workflows.synthesis import FaultRequest, model_conditions, model_profiles, synthesize
from geniot.workflows.training import build_model, train_and_save

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
WINDOW = 24
KEYS = (
    "acf_week_distance",
    "acf_day_distance",
    "spectrum_distance",
    "xcorr_distance",
    "seam_step_ratio",
    "seam_worst_step_ratio",
    "seam_inside_ratio",
    "window_acf_distance",
)


def dataset(name: str, tmp: Path) -> dict:
    """Path of the real series, its labels (or None), and the synthetic length in steps."""
    if name == "ett":
        return {"path": DATA / "ett" / "ETTh1.csv", "labels": None, "steps": 30 * 24}
    if name == "skab":
        return {"path": DATA / "skab" / "anomaly-free" / "anomaly-free.csv", "labels": None, "steps": 2000}
    if name == "fleet":
        plant = simulate_plant(
            PlantConfig(n_assets=3, days=7, interval_s=300, seed=0, fault_rate=6, degrading_fraction=0,
                        faults=("cavitation", "bearing_wear", "sensor_drift", "stuck_sensor"))
        )  # fmt: skip
        path, labels = tmp / "fleet.csv", tmp / "fleet_labels.csv"
        plant.write(path, layout="long")
        plant.labels.to_csv(labels, index=False)
        return {"path": path, "labels": labels, "steps": 7 * 288}
    raise SystemExit(f"unknown dataset {name!r}; choose ett, skab or fleet")


def normal_stretches(path: Path, labels: Path | None, channels: list[str]) -> list[np.ndarray]:
    """The real series' normal stretches (between labelled faults), per asset."""
    table = read_table(path)
    if labels is None:
        return [s.select(channels).values for s in table.values()]
    lab = pd.read_csv(labels)
    out = []
    for asset, s in table.items():
        x = s.select(channels).values
        rows = lab[lab["asset"] == asset].reset_index(drop=True)
        prev = 0
        for _, lo, hi in fault_episodes(rows["fault"]):
            if lo - prev > 4 * WINDOW:
                out.append(x[prev:lo])
            prev = hi
        if len(x) - prev > 4 * WINDOW:
            out.append(x[prev:])
    return out


def real_episodes(path: Path, labels: Path, channels: list[str]) -> list[tuple[str, np.ndarray, np.ndarray, int, int]]:
    """(fault type, series, normal rows, start, stop) of every labelled real fault episode."""
    table = read_table(path)
    lab = pd.read_csv(labels)
    out = []
    for asset, s in table.items():
        x = s.select(channels).values
        rows = lab[lab["asset"] == asset].reset_index(drop=True)
        normal = (rows["fault"].fillna("normal") == "normal").to_numpy()
        out += [(f, x, normal, lo, hi) for f, lo, hi in fault_episodes(rows["fault"])]
    return out


def fault_check(model, info: dict, seed: int, n_faults: int) -> dict:
    """Place each learned fault ``n_faults`` times: how many a detector trained on real normal
    data flags (likelihood detector, and with the flatline rule), what a classifier trained on
    real fault episodes names them, and false alarms; the same detector on the real faults."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    profiles = model_profiles(model)
    if not profiles:
        return {}
    channels = model.metadata_["channels"]
    normal = normal_stretches(info["path"], info["labels"], channels)
    detector = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(normal)
    flat = FlatlineDetector().fit(normal)
    start = pd.Timestamp("2026-03-01")
    keys: dict[str, list[str]] = {}
    for k in sorted(profiles):
        keys.setdefault(k.split(":")[0], []).append(k)
    types = sorted(keys)
    requests, spacing = [], info["steps"] // (len(types) * n_faults + 1)
    for i in range(len(types) * n_faults):
        t = start + pd.Timedelta(seconds=300 * spacing * (i + 1))
        fault = types[i % len(types)]
        key = keys[fault][(i // len(types)) % len(keys[fault])]
        requests.append(FaultRequest(fault, t, 3 * 3600.0, signal=key.partition(":")[2] or None))
    res = synthesize(model, duration_s=info["steps"] * 300.0, start=start, seed=seed, faults=requests, profiles=profiles)
    x = res.values["synthetic"]
    lik, stuck = detector.detect(x).flags, flat.flags(x)
    lab = res.labels
    synth_normal = (lab["fault"] == "normal").to_numpy()
    # A classifier trained on the real labelled episodes names the synthetic ones.
    real = real_episodes(info["path"], info["labels"], channels)
    feats = [(f, episode_features(xr, nr, lo, hi)) for f, xr, nr, lo, hi in real]
    feats = [(f, v) for f, v in feats if v is not None]
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=2000))
    clf.fit(np.stack([v for _, v in feats]), [f for f, _ in feats])
    found: dict[str, list[tuple[bool, bool, bool]]] = {}
    for fault, lo, hi in fault_episodes(lab["fault"]):
        v = episode_features(x, synth_normal, lo, hi)
        named = v is not None and clf.predict(v[None])[0] == fault
        found.setdefault(fault, []).append((bool(lik[lo:hi].any()), bool((lik | stuck)[lo:hi].any()), bool(named)))
    real_found = {}
    for f, xr, _, lo, hi in real:
        ll = detector.detect(xr).flags
        real_found.setdefault(f, []).append((bool(ll[lo:hi].any()), bool((ll | flat.flags(xr))[lo:hi].any())))
    real_alarms = np.concatenate([detector.detect(s).flags | flat.flags(s) for s in normal])
    every = [v for vs in found.values() for v in vs]
    return {
        "faults_flagged_likelihood": float(np.mean([v[0] for v in every])),
        "faults_flagged": float(np.mean([v[1] for v in every])),
        "faults_named": float(np.mean([v[2] for v in every])),
        "faults_by_type": {k: [float(np.mean([v[i] for v in vs])) for i in range(3)] for k, vs in found.items()},
        "real_faults_flagged_likelihood": float(np.mean([v[0] for vs in real_found.values() for v in vs])),
        "real_faults_flagged": float(np.mean([v[1] for vs in real_found.values() for v in vs])),
        "real_faults_by_type": {k: [float(np.mean([v[i] for v in vs])) for i in range(2)] for k, vs in real_found.items()},
        "false_alarms_synthetic_normal": float((lik | stuck)[synth_normal].mean()),
        "false_alarms_real_normal": float(real_alarms.mean()),
    }


def run_one(name: str, info: dict, model_name: str, seed: int, minutes: float, n_faults: int, calendar: bool) -> dict:
    row = {"dataset": name, "model": model_name + ("+calendar" if calendar else ""), "seed": seed, "minutes": minutes}
    model = build_model(model_name, max_minutes=minutes, seed=seed)
    try:
        check_can_continue(model)
    except CapabilityError as exc:
        return {**row, "skipped": str(exc)}
    windows = windows_from_file(info["path"], WINDOW, labels=info["labels"], calendar=calendar)
    t0 = time.time()
    train_and_save(windows, model, None, window=WINDOW)
    row["fit_s"] = round(time.time() - t0, 1)
    t0 = time.time()
    res = synthesize(model, duration_s=info["steps"] * model.metadata_["timing"]["interval_s"], seed=seed)
    row["synthesize_s"] = round(time.time() - t0, 1)
    (values,) = res.values.values()
    real = [s.select(res.channels).values for s in read_table(info["path"]).values()]
    # The baseline on the same clock: a calendar model draws each window given its own time.
    concat = independent_windows(
        model, info["steps"], conditions=model_conditions(model, res.timestamps), random_state=seed + 1
    )
    row.update(
        long_series_metrics(
            max(real, key=len), values, res.seams, interval_s=res.interval_s, window=WINDOW,
            concatenated=concat, random_state=seed,
        )  # fmt: skip
    )
    row.update(fault_check(model, info, seed, n_faults))
    return row


def table(rows: list[dict]) -> str:
    sets = ("synthetic", "concatenated", "bootstrap", "real_stretch")
    lines = ["| dataset | model | seeds | metric | " + " | ".join(sets) + " |", "|" + "---|" * (4 + len(sets))]
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        if "skipped" not in r:
            groups.setdefault((r["dataset"], r["model"]), []).append(r)
    for (ds, model), rs in groups.items():
        for key in KEYS:
            cells = []
            for s in sets:
                vals = [r.get(f"long_{s}_{key}") for r in rs if r.get(f"long_{s}_{key}") is not None]
                cells.append(f"{np.mean(vals):.3f} ± {np.std(vals):.3f}" if vals else "-")
            lines.append(f"| {ds} | {model} | {len(rs)} | {key} | " + " | ".join(cells) + " |")
        copies = [(r["long_longest_match_synthetic"], r.get("long_longest_match_holdout")) for r in rs]
        lines.append(f"| {ds} | {model} | {len(rs)} | longest match (synthetic, held-out real) | {copies} | | | |")
        if "faults_flagged" in rs[0]:
            mean = lambda key, rs=rs: np.mean([r[key] for r in rs])  # noqa: E731
            lines.append(f"| {ds} | {model} | {len(rs)} | injected faults flagged (likelihood / + flatline) / named | "
                         f"{mean('faults_flagged_likelihood'):.2f} / {mean('faults_flagged'):.2f} / {mean('faults_named'):.2f} | | | |")
            lines.append(f"| {ds} | {model} | {len(rs)} | real faults flagged (likelihood / + flatline) | "
                         f"{mean('real_faults_flagged_likelihood'):.2f} / {mean('real_faults_flagged'):.2f} | | | |")
            lines.append(f"| {ds} | {model} | {len(rs)} | false alarms, synthetic / real normal rows | "
                         f"{mean('false_alarms_synthetic_normal'):.4f} / {mean('false_alarms_real_normal'):.4f} | | | |")
    for r in rows:
        if "skipped" in r:
            lines.append(f"| {r['dataset']} | {r['model']} | - | cannot continue | {r['skipped'][:80]} | | | |")
    return "\n".join(lines)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", nargs="+", default=["ett", "skab", "fleet"])
    ap.add_argument("--models", nargs="+", default=["gaussian", "diffusion", "vae", "gan"])
    ap.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    ap.add_argument("--minutes", type=float, default=15.0, help="training budget per model, wall clock")
    ap.add_argument("--faults", type=int, default=3, help="fleet: episodes of each learned fault type to place")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calendar", action="store_true", help="fit with time of day / day of week as conditions")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "long_synthesis.jsonl")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.datasets:
            info = dataset(name, Path(tmp))
            for model_name in args.models:
                for seed in args.seeds:
                    row = run_one(name, info, model_name, seed, args.minutes, args.faults, args.calendar)
                    row.update(threads=args.threads, machine=platform.processor() or platform.machine())
                    rows.append(row)
                    with args.out.open("a") as fh:
                        fh.write(json.dumps(row, default=str) + "\n")
                    print(json.dumps({k: row.get(k) for k in ("dataset", "model", "seed", "fit_s", "skipped")}),
                          file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main()
