"""`geniot fleet train|score`: one anomaly model per asset, serially or on Ray workers."""

from __future__ import annotations

import time
from pathlib import Path

import typer

from geniot.cli.progress import console, progress_bar, user_errors
from geniot.cli.task_cmds import _threshold
from geniot.core.exceptions import DataError
from geniot.scale import ENGINES, load_fleet_index, make_engine, score_fleet, train_fleet
from geniot.scale.scoring import DEFAULT_CHUNK_STEPS
from geniot.scale.sources import first_rows, fleet_from_file, fleet_from_store, simulated_fleet
from geniot.tasks import AnomalyDetector
from geniot.workflows.detection import write_scores
from geniot.workflows.gap_filling import in_model_order
from geniot.workflows.training import build_model, parse_params

fleet_app = typer.Typer(
    help="Train and score one anomaly model per asset of a fleet, serially or on Ray (local or a cluster).",
    no_args_is_help=True,
)

_ENGINE_HELP = f"where tasks run: {' or '.join(ENGINES)} (Ray: GENIOT_RAY_ADDRESS or --address, else a local Ray)"


def _engine(name: str, address: str | None, workers: int | None, object_store_mb: int):
    return make_engine(name, address=address, num_cpus=workers, object_store_memory=object_store_mb * 2**20)


def _load_fleet(data: Path | None, store: Path | None, simulate: int | None, days: float, seed: int):
    given = [x for x in (data, store, simulate) if x is not None]
    if len(given) != 1:
        raise DataError("pass exactly one of DATA, --store FILE or --simulate N")
    if data is not None:
        return fleet_from_file(data)
    if store is not None:
        return fleet_from_store(store)
    return simulated_fleet(int(simulate), days=days, seed=seed)


@fleet_app.command("train")
def train(
    data: Path | None = typer.Argument(None, help="CSV or Parquet file holding the fleet (one series per asset)"),
    store: Path | None = typer.Option(None, "--store", help="train on every asset of this DuckDB store file"),
    simulate: int | None = typer.Option(None, "--simulate", help="train on a simulated fleet of N pumps"),
    days: float = typer.Option(2.0, "--days", help="with --simulate: simulated days per pump"),
    out: Path = typer.Option(..., "--out", help="folder for one model folder per asset and fleet.json"),
    model: str = typer.Option("gaussian", "--model", help="generator with a likelihood: gaussian, vae or diffusion"),
    params: str | None = typer.Option(None, "--params", help="model parameters as JSON, e.g. '{\"epochs\": 20}'"),
    window: int = typer.Option(24, "--window", help="steps per window"),
    train_rows: int | None = typer.Option(None, "--train-rows", help="train on the first K rows of each asset only"),
    threshold: str = typer.Option("pot", "--threshold", help="'pot' (peaks over threshold), 'quantile' or a number"),
    risk: float = typer.Option(1e-3, "--risk", help="with pot: exceedance probability per window"),
    engine: str = typer.Option("serial", "--engine", help=_ENGINE_HELP),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (overrides GENIOT_RAY_ADDRESS)"),
    workers: int | None = typer.Option(None, "--workers", help="CPUs of a local Ray (default: all)"),
    object_store_mb: int = typer.Option(512, "--object-store-mb", help="object store of a local Ray, in MiB"),
    max_minutes: float = typer.Option(0.0, "--max-minutes", help="training budget per asset in minutes (0 = none; a budget makes results depend on load)"),
    seed: int = typer.Option(0, "--seed", help="fleet seed (each asset's seed derives from it and its name)"),
) -> None:
    """Train one anomaly detector (generator + calibrated threshold) per asset."""
    with user_errors():
        fleet = first_rows(_load_fleet(data, store, simulate, days, seed), train_rows)
        generator = build_model(model, params=parse_params(params), max_minutes=max_minutes or None)
        settings = AnomalyDetector(window=window, threshold=_threshold(threshold), risk=risk)
        console.print(f"training {model} for {len(fleet)} assets on engine {engine}")
        start = time.perf_counter()
        with _engine(engine, address, workers, object_store_mb) as runner, progress_bar("train fleet") as update:
            trained = train_fleet(fleet, generator, engine=runner, detector=settings, seed=seed, out=out, progress=update)
        for item in trained:
            console.print(f"  {item.asset}: threshold {item.detector.threshold_.value:.6g} ({item.seconds:.1f} s)")
        console.print(f"saved {len(trained)} models and fleet.json in {out} ({time.perf_counter() - start:.1f} s)")


@fleet_app.command("score")
def score(
    models_dir: Path = typer.Argument(..., help="folder written by `geniot fleet train`"),
    data: Path | None = typer.Argument(None, help="CSV or Parquet file with the assets' histories"),
    store: Path | None = typer.Option(None, "--store", help="score every asset of this DuckDB store file"),
    out: Path = typer.Option(..., "--out", help="scores file (.csv or .parquet): asset, timestamp, score, flag, top_sensors, reason"),
    engine: str = typer.Option("serial", "--engine", help=_ENGINE_HELP),
    address: str | None = typer.Option(None, "--address", help="Ray cluster address (overrides GENIOT_RAY_ADDRESS)"),
    workers: int | None = typer.Option(None, "--workers", help="CPUs of a local Ray (default: all)"),
    object_store_mb: int = typer.Option(512, "--object-store-mb", help="object store of a local Ray, in MiB"),
    chunk_steps: int = typer.Option(DEFAULT_CHUNK_STEPS, "--chunk-steps", help="steps per scoring task (long histories are cut into chunks)"),
) -> None:
    """Score every asset's history with its own model (chunks of long histories in parallel)."""
    with user_errors():
        fleet = _load_fleet(data, store, None, 0.0, 0)
        folders = load_fleet_index(models_dir)
        missing = sorted(set(fleet) - set(folders))
        if missing:
            raise DataError(f"no model for asset(s) {missing} in {models_dir}; it has {sorted(folders)}")
        detectors = {asset: AnomalyDetector.load(folders[asset]) for asset in fleet}
        fleet = {asset: in_model_order(series, detectors[asset].generator_) for asset, series in fleet.items()}
        with _engine(engine, address, workers, object_store_mb) as runner, progress_bar("score fleet") as update:
            detections = score_fleet(detectors, fleet, engine=runner, chunk_steps=chunk_steps, progress=update)
        results = {asset: (fleet[asset], detections[asset]) for asset in fleet}
        write_scores(results, out)
        for asset, det in detections.items():
            console.print(f"  {asset}: {int(det.flags.sum())} flagged steps, {len(det.events)} events")
        console.print(f"wrote {out}")
