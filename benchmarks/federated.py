"""Federated anomaly detection on SKAB split into sites by experiment family (non-IID).

Sites: ``valve1`` (16 experiments), ``valve2`` (4) and ``other`` (14), each a folder that only its
own client reads. Per file, the SKAB protocol of benchmarks/anomaly.py: the first 400 rows are
normal (the first 300 train, the last 100 calibrate), the rest is the test part; counts pooled
over the 34 test parts; F1 = TP / (TP + (FP + FN) / 2), FAR and MAR in percent.

Compared, with the same data split, model settings and training epochs:
* centralized: one detector fitted on every site's training rows pooled in one place;
* federated: the same model trained by ``geniot.federated`` in Flower's simulation engine (the
  Gaussian baseline exactly from summed statistics; torch models by FedAvg and FedProx for
  ``rounds`` x ``local_epochs`` epochs), threshold by pooled peaks-over-threshold;
* local-only: each site fits its own detector on its own rows and scores its own test parts.

``--normalize series`` standardises every file by its own 400 normal rows (SKAB's per-file
scaler; the statistics stay at the site). Each model is scored with the pooled threshold and,
``threshold_scope=series``, with a per-file threshold calibrated on that file's own 100 rows.

    .venv/bin/python benchmarks/federated.py --models gaussian vae --normalize series \
        --rounds 10 --local-epochs 2 --out benchmarks/results/federated.jsonl
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

from geniot.federated.plan import FederatedPlan
from geniot.federated.simulation import simulate
from geniot.federated.sites import SiteData, load_site
from geniot.metrics import detection_counts, detection_scores
from geniot.tasks import AnomalyDetector
from geniot.workflows.training import build_model, parse_params

SKAB = ROOT.parent / "shared" / "data" / "skab"
FAMILIES = ("valve1", "valve2", "other")
TRAIN_ROWS = 400
SCOPES = ("pooled", "series")


def detector_settings(args) -> dict:
    return {"window": args.window, "threshold": "pot", "risk": args.risk, "min_event_steps": args.min_event_steps, "attribute": "none"}


def generator(args, name: str, epochs: int | None):
    params = parse_params(args.params) if name != "gaussian" else {}
    if epochs is not None:
        params["epochs"] = epochs
    return build_model(name, params=params, seed=args.seed)


def fit_detector(args, name: str, series, epochs: int | None) -> AnomalyDetector:
    det = AnomalyDetector(generator=generator(args, name, epochs), calibration_fraction=0.25, **detector_settings(args))
    return det.fit([s.values[: s.normal_rows] for s in series])


def flags_of(args, det: AnomalyDetector, s, scope: str) -> np.ndarray:
    if scope == "series":  # the file's own 100 calibration rows set its threshold
        det = AnomalyDetector(generator=det.generator_, prefit=True, **detector_settings(args)).fit(s.calibration_part)
    return det.detect(s.values).flags


def held_out_loss(det_for_site, sites: dict[str, SiteData]) -> float:
    """Mean anomaly score (minus log-likelihood or its bound) of the calibration windows."""
    scores = [det_for_site(fam).window_scores(w) for fam, d in sites.items() for w in d.calibration_windows()]
    return float(np.nanmean(np.concatenate(scores)))


def score(args, det_for_site, sites: dict[str, SiteData], scope: str) -> dict:
    per_site = {}
    for fam, data in sites.items():
        det = det_for_site(fam)
        pairs = [(s.labels[s.normal_rows :], flags_of(args, det, s, scope)[s.normal_rows :]) for s in data.series]
        per_site[fam] = detection_counts(pairs)
    total = {k: sum(c[k] for c in per_site.values()) for k in ("tp", "fp", "fn", "tn")}
    return {
        **detection_scores(total), **total, "loss": held_out_loss(det_for_site, sites),
        "per_site": {fam: round(detection_scores(c)["f1"], 4) for fam, c in per_site.items()},
    }  # fmt: skip


def score_elsewhere(args, local: dict, sites: dict[str, SiteData], scope: str) -> dict:
    """Each site's local model scored on the other sites' test parts, counts pooled; per site: how
    the site's data is served by the other sites' models."""
    per_site = {}
    for fam, data in sites.items():
        pairs = [
            (s.labels[s.normal_rows :], flags_of(args, local[other], s, scope)[s.normal_rows :])
            for other in sites if other != fam for s in data.series
        ]  # fmt: skip
        per_site[fam] = detection_counts(pairs)
    total = {k: sum(c[k] for c in per_site.values()) for k in ("tp", "fp", "fn", "tn")}
    loss = np.mean([held_out_loss(lambda f, o=other: local[o], {fam: d}) for fam, d in sites.items() for other in sites if other != fam])
    return {
        **detection_scores(total), **total, "loss": float(loss),
        "per_site": {f: round(detection_scores(c)["f1"], 4) for f, c in per_site.items()},
    }  # fmt: skip


def run_model(args, name: str, sites: dict[str, SiteData]) -> list[dict]:
    rows = []
    epochs = None if name == "gaussian" else args.rounds * args.local_epochs
    all_series = [s for d in sites.values() for s in d.series]

    t0 = time.perf_counter()
    central = fit_detector(args, name, all_series, epochs)
    seconds = time.perf_counter() - t0
    for scope in SCOPES:
        rows.append({"model": name, "method": "centralized", "threshold_scope": scope, **score(args, lambda f: central, sites, scope), "seconds": round(seconds, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)

    t0 = time.perf_counter()
    local = {fam: fit_detector(args, name, list(d.series), epochs) for fam, d in sites.items()}
    seconds = time.perf_counter() - t0
    for scope in SCOPES:
        rows.append({"model": name, "method": "local-only", "threshold_scope": scope, **score(args, local.__getitem__, sites, scope), "seconds": round(seconds, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)
    for scope in SCOPES:  # a site's own model at the other sites (a new site with no history of its own)
        rows.append({"model": name, "method": "local-only at other sites", "threshold_scope": scope, **score_elsewhere(args, local, sites, scope), "seconds": round(seconds, 1)})
        print(json.dumps(rows[-1]), file=sys.stderr)

    strategies = ["exact"] if name == "gaussian" else args.strategies
    for strategy in strategies:
        params = parse_params(args.params) if name != "gaussian" else {}
        plan = FederatedPlan(
            model=name, params={**params, **({"random_state": args.seed} if name != "gaussian" else {})},
            window=args.window, rounds=args.rounds, local_epochs=args.local_epochs,
            strategy="fedavg" if strategy == "exact" else strategy, proximal_mu=args.mu, train_rows=TRAIN_ROWS,
            risk=args.risk, min_event_steps=args.min_event_steps, normalize=args.normalize, seed=args.seed,
        )  # fmt: skip
        t0 = time.perf_counter()
        outcome = simulate(plan, [str(SKAB / fam) for fam in sites], progress=lambda e, s=strategy: _show(name, s, e))
        seconds = time.perf_counter() - t0
        det = outcome.model
        det.attribute = "none"
        for scope in SCOPES:
            row = score(args, lambda f, d=det: d, sites, scope)
            if scope == "pooled":  # the federation's own evaluation must agree with this offline one
                assert abs(row["f1"] - outcome.final["f1"]) < 1e-9, (row["f1"], outcome.final["f1"])
            rows.append({
                "model": name, "method": f"federated {strategy}", "threshold_scope": scope, **row,
                "rounds": [{k: r[k] for k in ("round", "loss", "f1") if k in r} for r in outcome.rounds],
                "seconds": round(seconds, 1),
            })  # fmt: skip
            print(json.dumps(rows[-1]), file=sys.stderr)
    return rows


def print_table(rows: list[dict]) -> None:
    """Mean (± sd over seeds where there are several) per model, method and threshold scope."""
    print("| model | method | threshold | seeds | F1 | FAR % | MAR % | held-out loss | F1 per site (valve1 / valve2 / other) | seconds |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["model"], r["method"], r["threshold_scope"]), []).append(r)
    for (model, method, scope), rs in groups.items():
        f1 = np.array([r["f1"] for r in rs])
        f1_text = f"{f1.mean():.3f}" + (f" ± {f1.std(ddof=1):.3f}" if len(rs) > 1 else "")
        per = " / ".join(f"{np.mean([r['per_site'][f] for r in rs]):.3f}" for f in FAMILIES)
        far, mar, loss, sec = (np.mean([r[k] for r in rs]) for k in ("far", "mar", "loss", "seconds"))
        print(f"| {model} | {method} | {scope} | {len(rs)} | {f1_text} | {far:.2f} | {mar:.2f} | {loss:.2f} | {per} | {sec:.0f} |")


def _show(name: str, strategy: str, event: dict) -> None:
    if event.get("phase") == "round":
        print(f"  {name} {strategy} round {event['round']}/{event['rounds']}: loss {event['loss']:.4g} F1 {event.get('f1', float('nan')):.3f}", file=sys.stderr)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=["gaussian", "vae"])
    ap.add_argument("--params", default=None, help="torch model parameters as JSON")
    ap.add_argument("--strategies", nargs="+", default=["fedavg", "fedprox"])
    ap.add_argument("--rounds", type=int, default=10)
    ap.add_argument("--local-epochs", type=int, default=2)
    ap.add_argument("--mu", type=float, default=0.1, help="FedProx proximal weight")
    ap.add_argument("--window", type=int, default=8)
    ap.add_argument("--risk", type=float, default=1e-3)
    ap.add_argument("--min-event-steps", type=int, default=1)
    ap.add_argument("--normalize", choices=("none", "series"), default="series")
    ap.add_argument("--seeds", type=int, nargs="+", default=[0], help="seeds (torch models; the Gaussian fit has no randomness)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="append results as JSON lines")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    sites = {
        fam: load_site(SKAB / fam, window=args.window, train_rows=TRAIN_ROWS, calibration_fraction=0.25, normalize=args.normalize)
        for fam in FAMILIES
    }
    print(" ".join(f"{fam}: {len(d.series)} files" for fam, d in sites.items()), file=sys.stderr)
    rows = []
    for name in args.models:
        for seed in args.seeds if name != "gaussian" else args.seeds[:1]:
            args.seed = seed
            rows.extend({**r, "seed": seed} for r in run_model(args, name, sites))
    settings = {k: getattr(args, k) for k in ("window", "risk", "min_event_steps", "normalize", "rounds", "local_epochs", "mu", "params")}
    if args.out:
        with args.out.open("a") as fh:
            for r in rows:
                fh.write(json.dumps({**r, "settings": settings, "command": " ".join(sys.argv)}) + "\n")
    print_table(rows)


if __name__ == "__main__":
    main()
