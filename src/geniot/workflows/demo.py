"""The demo: simulate a small plant into the store, train, sample, evaluate, report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.workflows.datasets import pool_windows
from geniot.workflows.evaluation import evaluate, write_evaluation_report
from geniot.workflows.history import scan_history
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
    train_and_save(data, generator, artifact, window=window, stride=stride, holdout=0.2, progress=progress)
    say(f"model: {artifact} ({model}, {len(generator.history_)} epochs)")

    n = min(len(data.windows), 2000)
    synth = generator.sample(n, random_state=seed)
    samples = write_windows(synth, home / "synthetic.npy", data.channels)
    say(f"synthetic: {samples} ({n} windows)")

    metrics = evaluate(data.windows, synth, model=generator, fast=True, seed=seed)
    report = write_evaluation_report(
        home / "report.html",
        metrics=metrics,
        real=data.windows,
        synth=synth,
        channels=data.channels,
        model=generator,
        title="geniot demo: synthetic pump-fleet data",
    )
    return DemoResult(store_path, artifact, samples, report, metrics, len(data.windows))
