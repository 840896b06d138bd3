"""Gap filling as a plant user meets it: outages of two signals in a simulated pump's day.

The simulator's pump (``geniot.data.simulate``, one asset, 1-minute readings, its own dropped
readings) gives a training part (``--train-days``) and a test day. In the test day ``--outages``
outages of ``--outage`` steps of two signals (``--signals``) are hidden, far enough apart that
each is filled on its own, and, separately, 10% of the points at random. Each way of filling is
scored on the hidden values only: MAE per signal in its own unit, and the share of hidden values
inside the 90% interval. Ways: the generator through ``GapImputer`` as ``geniot impute`` used it
(``--draws`` draws, median), straight-line interpolation, and ``SelectingImputer`` (the default
of ``geniot impute`` now: held-out check on the file, conformal interval).

    .venv/bin/python benchmarks/imputation_plant.py --model diffusion --minutes 3 --seeds 0 1 2
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

from geniot.data.simulate import SIGNALS, simulate_plant
from geniot.data.windows import make_windows
from geniot.tasks import GapImputer
from geniot.tasks.imputer_selection import SelectingImputer, linear_fill
from geniot.workflows.training import build_model, parse_params

WINDOW = 24


def plant_days(seed: int, train_days: float):
    plant = simulate_plant(n_assets=1, days=train_days + 1, seed=seed, fault_rate=0.0, outage_rate=0.0)
    values = plant.wide("P-1")[list(SIGNALS)].to_numpy(np.float64)
    cut = int(train_days * 1440)
    return values[:cut], values[cut:]


def outages(test: np.ndarray, channels: list[int], length: int, count: int, rng) -> np.ndarray:
    """A bool mask of ``count`` outages of ``length`` steps in ``channels``, 2 windows apart."""
    hide = np.zeros(test.shape, dtype=bool)
    gap = length + 2 * WINDOW
    slots = np.arange(WINDOW, len(test) - length - WINDOW, gap)
    for s in rng.choice(slots, size=min(count, len(slots)), replace=False):
        hide[s : s + length, channels] = True
    return hide & ~np.isnan(test)


def score(test, hide, point, lower, upper) -> dict:
    err = np.abs(point - test)
    out = {"mae": {SIGNALS[j]: float(err[hide[:, j], j].mean()) for j in range(test.shape[1]) if hide[:, j].any()}}
    out["mae_sd"] = float((err / np.nanstd(test, axis=0))[hide].mean())
    inside = (test >= lower) & (test <= upper)
    out["coverage"] = float(inside[hide].mean()) if lower is not None else float("nan")
    return out


def run_seed(seed: int, args) -> list[dict]:
    train, test = plant_days(seed, args.train_days)
    rng = np.random.default_rng(seed)
    cases = {
        f"outage {args.outage} steps x {len(args.signals)}": outages(test, [SIGNALS.index(s) for s in args.signals], args.outage, args.outages, rng),
        "10% points": (rng.random(test.shape) < 0.1) & ~np.isnan(test),
    }
    gen = build_model(args.model, params=parse_params(args.params), max_minutes=args.minutes, seed=seed)
    windows = make_windows(train, WINDOW, 1)
    t0 = time.perf_counter()
    gen.fit(windows, mask=~np.isnan(windows))
    train_s = time.perf_counter() - t0
    rows = []
    for case, hide in cases.items():
        holed = np.where(hide, np.nan, test)
        base = {"seed": seed, "case": case, "model": args.model, "train_s": round(train_s, 1), "epochs": len(gen.history_)}
        t1 = time.perf_counter()
        point, lower, upper = GapImputer(generator=gen, prefit=True, n_draws=args.draws, random_state=seed).transform(holed, return_interval=True)
        rows.append({**base, "way": f"{args.model} (GapImputer, {args.draws} draws)", **score(test, hide, point, lower, upper), "s": round(time.perf_counter() - t1, 1)})
        lin = linear_fill(holed)
        rows.append({**base, "way": "linear interpolation", **score(test, hide, lin, lin, lin)})
        t1 = time.perf_counter()
        point, lower, upper, sel = SelectingImputer(generator=gen, n_draws=args.draws, random_state=seed).transform(holed)
        rows.append({**base, "way": "auto (SelectingImputer)", "chosen": sel.chosen, "reason": sel.reason,
                     **score(test, hide, point, lower, upper), "s": round(time.perf_counter() - t1, 1)})  # fmt: skip
        for r in rows[-3:]:
            print(json.dumps(r), file=sys.stderr)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="diffusion")
    ap.add_argument("--params", default=None, help="generator parameters as JSON")
    ap.add_argument("--minutes", type=float, default=3.0, help="training budget")
    ap.add_argument("--train-days", type=float, default=2.0)
    ap.add_argument("--outage", type=int, default=30, help="steps per outage")
    ap.add_argument("--outages", type=int, default=8, help="outages in the test day")
    ap.add_argument("--signals", nargs="+", default=["flow_m3h", "pressure_bar"])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="append results as JSON lines")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    rows = [r for seed in args.seeds for r in run_seed(seed, args)]
    print("| case | way | MAE (sd) | MAE per signal | 90% interval covers | chosen |")
    print("|---|---|---|---|---|---|")
    for case in dict.fromkeys(r["case"] for r in rows):
        for way in dict.fromkeys(r["way"] for r in rows if r["case"] == case):
            sub = [r for r in rows if r["case"] == case and r["way"] == way]
            mae = np.array([r["mae_sd"] for r in sub])
            cov = np.array([r["coverage"] for r in sub])
            per = {k: np.mean([r["mae"][k] for r in sub]) for k in sub[0]["mae"]}
            per_txt = ", ".join(f"{k} {v:.3g}" for k, v in per.items()) if len(per) <= 3 else f"{len(per)} signals"
            chosen = ", ".join(r.get("chosen", "") for r in sub)
            print(f"| {case} | {way} | {mae.mean():.3f} ± {mae.std():.3f} | {per_txt} | {np.nanmean(cov):.0%} | {chosen} |")
    if args.out:
        with args.out.open("a") as fh:
            for r in rows:
                fh.write(json.dumps({**r, "minutes": args.minutes, "command": " ".join(sys.argv)}) + "\n")


if __name__ == "__main__":
    main()
