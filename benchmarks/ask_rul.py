"""The `geniot ask` remaining-life tool against the simulator's failure times.

    python benchmarks/ask_rul.py --seeds 10     # results to benchmarks/results/ask_rul.jsonl

For each seeded 7-day plant (benchmarks/ask_eval/SCHEMA.md's, other seeds) the store is cut 48, 24
and 12 hours before the degrading pump fails; the tool must give that pump a finite remaining life
(time until its speed-corrected vibration reaches the alarm level, which comes before failure) and
give none to the pumps that do not wear out.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import pandas as pd
import torch

from geniot.ask import PlantView
from geniot.ask.evalset import EVAL_PLANT
from geniot.ask.tools_model import remaining_life
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "ask_rul.jsonl")
    args = ap.parse_args()
    torch.set_num_threads(1)
    rows = []
    for seed in range(args.seeds):
        plant = simulate_plant(PlantConfig(**dict(EVAL_PLANT, seed=seed)))
        labels = plant.labels.dropna(subset=["rul_h"])
        for asset, g in labels.groupby("asset"):
            fail = g[g.rul_h == 0].ts.iloc[0]
            for lead in (48, 24, 12):
                with SensorStore(":memory:") as store:
                    store.append(plant.readings[plant.readings.ts <= fail - pd.Timedelta(hours=lead)])
                    res = remaining_life(PlantView(store), assets=None, lang="en").values["assets"]
                for other, v in res.items():
                    rows.append({"seed": seed, "lead_h": lead, "asset": other, "degrading": other == asset, "rul_h": v["rul_hours"]})
    frame = pd.DataFrame(rows)
    summary = {}
    for lead, g in frame.groupby("lead_h"):
        worn, healthy = g[g.degrading], g[~g.degrading]
        summary[int(lead)] = {
            "flagged_degrading": f"{worn.rul_h.notna().sum()}/{len(worn)}",
            "flagged_healthy": f"{healthy.rul_h.notna().sum()}/{len(healthy)}",
            "median_estimate_h": None if worn.rul_h.dropna().empty else float(worn.rul_h.median()),
            "estimate_before_failure": f"{(worn.rul_h.dropna() <= lead).sum()}/{worn.rul_h.notna().sum()}",
        }
    print(json.dumps(summary, indent=1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("a") as f:
        f.write(json.dumps({"benchmark": "ask_rul", "seeds": args.seeds, "by_lead_h": summary, "date": time.strftime("%Y-%m-%d")}) + "\n")


if __name__ == "__main__":
    main()
