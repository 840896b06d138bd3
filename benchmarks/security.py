"""Simulated attacks on the data channel: does geniot's security detector find them, and tell
them from process faults?

Protocol, per seed: a plant of ``--assets`` pumps runs ``--history-days`` of normal operation
(the security detector and, for comparison, the process detector are fitted on it; no fault
episodes) and then ``--days`` under attack: every attack type once per asset
(``--per-type``) at a random, seeded time, beside the plant's own fault episodes. Scoring is
independent of ``geniot.security``: it reads only the labels (asset, kind, type, start, end) and
the events table (asset, start, end, kind, detected_at). A label is detected when an event of the
same asset overlaps its span widened by ``--tolerance-min``; time to detect is the first such
event's ``detected_at`` minus the label's start. "Raised during it" counts only events raised
(``detected_at``) no earlier than the label's start minus the tolerance: an event already running
(a false alarm or a fault's event) that the episode falls into is not a detection of it, and its
time to detect is not 0. (An event's start may be earlier than its detection: where its evidence began.) An event overlapping no label is a false alarm.
"Kind right": of the events overlapping exactly one label, the share whose kind matches
(an attack label wants integrity or traffic, a fault label process). Clean data: the same seed
with no attacks and no faults; every event there is a false alarm, for the security detector and
for the process detector (``AnomalyDetector`` over the same Gaussian window model, default POT
threshold), both per asset-day.

    .venv/bin/python benchmarks/security.py --seeds 0 1 2 3 4
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

ATTACKS = ("fdi", "replay", "flood", "silence", "spoof", "stale")


def score(labels: pd.DataFrame, events: pd.DataFrame, tol: pd.Timedelta) -> tuple[pd.DataFrame, int, int, int]:
    """(per-label rows: detected, ttd_s; false alarms; events with one label; of them kind right)."""
    rows, used = [], np.zeros(len(events), dtype=bool)
    ev_start = pd.to_datetime(events["start"]).to_numpy() if len(events) else np.array([], "datetime64[ns]")
    ev_end = pd.to_datetime(events["end"]).to_numpy() if len(events) else ev_start
    ev_asset = events["asset"].to_numpy() if len(events) else np.array([])
    ev_detected = pd.to_datetime(events["detected_at"]).to_numpy() if len(events) else ev_start
    hits_per_event = np.zeros(len(events), dtype=int)
    kind_of_hit: list[list[str]] = [[] for _ in range(len(events))]
    for lab in labels.itertuples():
        lo, hi = np.datetime64(pd.Timestamp(lab.start) - tol), np.datetime64(pd.Timestamp(lab.end) + tol)
        hit = (ev_asset == lab.asset) & (ev_start <= hi) & (ev_end >= lo)
        used |= hit
        hits_per_event += hit
        for i in np.flatnonzero(hit):
            kind_of_hit[i].append(lab.kind)
        # An event raised (detected_at) before the episode began was already running: it did not find
        # it. Its start may lie earlier than its detection (where the evidence began), so that is not the test.
        raised = hit & (ev_detected >= lo)
        ttd = ttd_raised = np.nan
        if hit.any():
            first = pd.to_datetime(events["detected_at"]).to_numpy()[hit].min()
            ttd = max(0.0, (pd.Timestamp(first) - pd.Timestamp(lab.start)).total_seconds())
        if raised.any():
            first = pd.to_datetime(events["detected_at"]).to_numpy()[raised].min()
            ttd_raised = max(0.0, (pd.Timestamp(first) - pd.Timestamp(lab.start)).total_seconds())
        rows.append({"asset": lab.asset, "kind": lab.kind, "type": lab.type, "mode": lab.mode, "detected": bool(hit.any()), "ttd_s": ttd,
                     "raised": bool(raised.any()), "ttd_raised_s": ttd_raised})  # fmt: skip
    single = np.flatnonzero(hits_per_event == 1)
    right = sum((kind_of_hit[i][0] == "attack") == (events["kind"].iloc[i] != "process") for i in single)
    return pd.DataFrame(rows), int((~used).sum()), len(single), int(right)


def run_seed(seed: int, args) -> dict:
    from geniot.data.simulate import SIGNALS, simulate_attacked
    from geniot.models.gaussian import GaussianBaseline
    from geniot.security import SecurityDetector, events_frame, messages_from_frame
    from geniot.tasks import AnomalyDetector

    t0 = time.perf_counter()
    plant, attacked, history = simulate_attacked(n_assets=args.assets, days=args.days, seed=seed, history_days=args.history_days,
                                                 attacks=ATTACKS, per_type=args.per_type)  # fmt: skip
    normal, _ = messages_from_frame(history.messages)
    det = SecurityDetector(sequential=args.sequential, sequential_margin=args.sequential_margin, level_margin=args.level_margin).fit(normal)
    t_fit = time.perf_counter() - t0
    msgs, _ = messages_from_frame(attacked.messages)
    t1 = time.perf_counter()
    events = events_frame(det.detect(msgs))
    t_detect = time.perf_counter() - t1
    per_label, false_alarms, single, right = score(attacked.labels, events, pd.Timedelta(minutes=args.tolerance_min))
    # clean: same seed, no attacks, no faults
    clean_plant, clean, clean_hist = simulate_attacked(n_assets=args.assets, days=args.days, seed=seed, history_days=args.history_days,
                                                       attacks=(), fault_rate=0.0)  # fmt: skip
    clean_msgs, _ = messages_from_frame(clean.messages)
    clean_events = events_frame(det.detect(clean_msgs))
    first = int(round(args.history_days * 86400 / 60))
    proc_events = 0
    for asset in clean_plant.assets():
        wide = clean_plant.wide(asset)[list(SIGNALS)].to_numpy()
        pdet = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(wide[:first])
        proc_events += len(pdet.detect(wide[first:]).events)
    asset_days = args.assets * args.days
    return {
        "seed": seed, "labels": per_label, "false_alarms": false_alarms, "single": single, "right": right,
        "clean_security": len(clean_events), "clean_security_kinds": clean_events["kind"].value_counts().to_dict(),
        "clean_process": proc_events, "asset_days": asset_days, "fit_s": t_fit, "detect_s": t_detect,
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--assets", type=int, default=3)
    ap.add_argument("--days", type=float, default=2.0)
    ap.add_argument("--history-days", type=float, default=2.0)
    ap.add_argument("--per-type", type=int, default=1)
    ap.add_argument("--tolerance-min", type=float, default=10.0)
    ap.add_argument("--no-sequential", dest="sequential", action="store_false",
                    help="SecurityDetector(sequential=False): the consistency model alone, without the per-sensor sequential FDI tests")
    ap.add_argument("--sequential-margin", type=float, default=1.0, help="SecurityDetector(sequential_margin=...): dynamics tests")
    ap.add_argument("--level-margin", type=float, default=6.0, help="SecurityDetector(level_margin=...): level test")
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(1)
    results = []
    for seed in args.seeds:
        r = run_seed(seed, args)
        results.append(r)
        lab = r["labels"]
        print(f"seed {seed}: {int(lab['detected'].sum())}/{len(lab)} labels detected, {r['false_alarms']} false alarms, "
              f"clean: security {r['clean_security']} vs process {r['clean_process']} events; fit {r['fit_s']:.0f} s, detect {r['detect_s']:.0f} s", flush=True)  # fmt: skip
    labels = pd.concat([r["labels"] for r in results], ignore_index=True)
    asset_days = sum(r["asset_days"] for r in results)
    print("\n| attack / fault | episodes | detected | rate | median time to detect | raised during it | median time to detect |")
    print("|---|---|---|---|---|---|---|")
    table = {}

    def minutes(v: float) -> str:
        return "-" if np.isnan(v) else f"{v / 60:.1f} min"

    for (kind, typ), g in labels.groupby(["kind", "type"]):
        rate = g["detected"].mean()
        ttd = g.loc[g["detected"], "ttd_s"].median()
        ttd_raised = g.loc[g["raised"], "ttd_raised_s"].median()
        table[f"{kind}:{typ}"] = {"n": len(g), "detected": int(g["detected"].sum()), "rate": float(rate), "median_ttd_s": None if np.isnan(ttd) else float(ttd),
                                  "raised": int(g["raised"].sum()), "median_ttd_raised_s": None if np.isnan(ttd_raised) else float(ttd_raised)}  # fmt: skip
        print(f"| {typ} ({kind}) | {len(g)} | {int(g['detected'].sum())} | {rate:.0%} | {minutes(ttd)} | {int(g['raised'].sum())} | {minutes(ttd_raised)} |")
    fdi = labels[labels["type"] == "fdi"]
    for mode, g in fdi.groupby("mode"):
        print(f"  fdi {mode}: {int(g['detected'].sum())}/{len(g)} (raised during it: {int(g['raised'].sum())})")
    single, right = sum(r["single"] for r in results), sum(r["right"] for r in results)
    fa = sum(r["false_alarms"] for r in results)
    cs, cp = sum(r["clean_security"] for r in results), sum(r["clean_process"] for r in results)
    kinds: dict[str, int] = {}
    for r in results:
        for k, v in r["clean_security_kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    print(f"\nkind right (attack vs process fault): {right}/{single} = {right / max(single, 1):.0%} of the events that overlap one label")
    print(f"false alarms in attacked data: {fa} events overlapping no label ({fa / asset_days:.2f} per asset-day)")
    print(f"clean data (no attacks, no faults): security detector {cs} events ({cs / asset_days:.2f} per asset-day; {kinds}), "
          f"process detector {cp} events ({cp / asset_days:.2f} per asset-day)")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"table": table, "kind_right": [right, single], "false_alarms_attacked": fa,
                                         "clean_security": cs, "clean_process": cp, "asset_days": asset_days, "seeds": args.seeds}, indent=2))  # fmt: skip


if __name__ == "__main__":
    main()
