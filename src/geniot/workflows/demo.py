"""The demo: simulate a small plant into the store, train, sample, synthesize a day of the
fleet, evaluate, report (and the day for the dashboard)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.data.series import SensorSeries
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.report.fleet_day import fleet_day_payload, fleet_day_section
from geniot.workflows.datasets import pool_windows
from geniot.workflows.evaluation import evaluate, write_evaluation_report
from geniot.workflows.history import scan_history
from geniot.workflows.synthesis import SynthesisResult, model_interval, synthesize
from geniot.workflows.training import build_model, train_and_save
from geniot.workflows.windows_io import write_windows


@dataclass
class DemoResult:
    store: Path
    artifact: Path
    samples: Path
    report: Path
    metrics: dict[str, Any]
    n_windows: int
    #: the synthetic day of the fleet (long CSV) and its JSON for the dashboard
    synthetic_day: Path | None = None
    dashboard_day: Path | None = None

#: file under the demo's home the dashboard reads the synthetic day from
DAY_FILE = "synthetic_day.json"


def run_demo(
    home: Path,
    *,
    model: str = "diffusion",
    minutes: float = 3.0,
    assets: int = 4,
    days: float = 3.0,
    window: int = 24,
    stride: int = 2,
    seed: int = 0,
    holdout_split: str = "blocks",
    say: Callable[[str], None] = print,
    progress: Callable[[dict], None] | None = None,
) -> DemoResult:
    """Run the whole path on the embedded default (DuckDB file, built-in simulator)."""
    home = Path(home)
    home.mkdir(parents=True, exist_ok=True)
    store_path = home / "plant.duckdb"

    plant = simulate_plant(PlantConfig(n_assets=assets, days=days, seed=seed))
    with SensorStore(store_path) as store:
        added = store.append(plant.readings)
        say(f"store: {store_path} (+{added} readings, {store.count()} in all)")
        series = {asset: store.read_wide(asset) for asset in store.assets()}
        # A detector per pump over the stored history: events to ask about (`geniot ask`).
        events = scan_history(store, home / "models")
        say(f"anomaly scan: {sum(events.values())} events ({', '.join(f'{a} {n}' for a, n in events.items())}); detectors in {home / 'models'}")
    data = pool_windows(series, window, stride, source=str(store_path))
    say(f"windows: {len(data.windows)} of {window} steps x {len(data.channels)} signals from {len(series)} assets")

    generator = build_model(model, max_minutes=minutes, seed=seed)
    artifact = home / "model"
    train_and_save(data, generator, artifact, window=window, stride=stride, holdout=0.2,
                   holdout_split_by=holdout_split, progress=progress)
    say(f"model: {artifact} ({model}, {len(generator.history_)} epochs)")

    n = min(len(data.windows), 2000)
    synth = generator.sample(n, random_state=seed)
    samples = write_windows(synth, home / "synthetic.npy", data.channels)
    say(f"synthetic: {samples} ({n} windows)")

    day = fleet_day(generator, series, seed=seed)
    day_csv = home / "synthetic_day.csv"
    day.result.frame({"layout": "long"}).to_csv(day_csv, index=False)
    day_json = home / DAY_FILE
    day_json.write_text(json.dumps(day.payload), encoding="utf-8")
    say(
        f"synthetic day: {day_csv} ({len(day.result.values)} pumps, {len(day.result.timestamps)} steps each from "
        f"{day.synth_span[0]}, {len(day.result.seams) + 1} stretches joined by continuation)"
    )

    metrics = evaluate(data.windows, synth, model=generator, fast=True, seed=seed)
    report = write_evaluation_report(
        home / "report.html",
        metrics=metrics,
        real=data.windows,
        synth=synth,
        channels=data.channels,
        model=generator,
        title="geniot demo: synthetic pump-fleet data",
        extra_sections=[("A synthetic day of the fleet", day.section)],
    )
    return DemoResult(store_path, artifact, samples, report, metrics, len(data.windows), day_csv, day_json)


@dataclass
class FleetDay:
    result: SynthesisResult
    real: dict[str, np.ndarray]
    real_span: tuple[str, str]
    synth_span: tuple[str, str]
    payload: dict
    section: str


def fleet_day(generator: BaseGenerator, series: dict[str, SensorSeries], *, seed: int = 0) -> FleetDay:
    """A synthetic day of a fleet as large as the real one (``geniot synthesize`` on the demo's
    model, on the calendar after the training data) beside each real pump's last day; a history
    shorter than a day gives a shorter "day" (two windows at least)."""
    interval = model_interval(generator)
    channels = list(generator.channel_names_)
    n_real = min(s.n_steps for s in series.values())
    n = max(2 * int(generator.n_steps_), min(int(round(86400 / interval)), n_real))
    result = synthesize(generator, duration_s=n * interval, assets=[f"S-{i + 1}" for i in range(len(series))], seed=seed)
    real = {a: s.select(channels).values[-n:] for a, s in series.items()}
    first = next(iter(series.values()))
    stamp = lambda t: str(pd.Timestamp(t))[:19]  # noqa: E731
    real_span = (stamp(first.timestamps[-n]), stamp(first.timestamps[-1]))
    synth_span = (stamp(result.timestamps[0]), stamp(result.timestamps[-1]))
    payload = fleet_day_payload(
        real, result.values, channels, interval, real_start=real_span[0], synth_start=synth_span[0],
        model=generator.registry_name,
    )
    section = fleet_day_section(
        real, result.values, channels, interval, real_span=real_span, synth_span=synth_span,
        model=generator.registry_name, n_seams=len(result.seams),
    )
    return FleetDay(result, real, real_span, synth_span, payload, section)
