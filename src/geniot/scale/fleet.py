"""Train one anomaly detector (a generator plus its calibration) per asset of a fleet.

Each asset is one task: clone the generator, seed it from the asset's name, and fit an
:class:`~geniot.tasks.AnomalyDetector` on the asset's history (training on the first part,
calibrating the threshold on the rest). The task returns the fitted detector and the caller
saves it, so models land on the caller's disk even when the task ran on a cluster node.
A seed taken from the asset's name (not its position) keeps every asset's model the same
whichever engine runs it and whichever other assets are in the fleet.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from geniot import __version__
from geniot.core.base import BaseGenerator
from geniot.core.exceptions import ArtifactError, DataError
from geniot.data.series import SensorSeries
from geniot.scale.engine import Progress, SerialEngine
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import train_asset_detector

FLEET_FILE = "fleet.json"


@dataclass
class TrainedAsset:
    asset: str
    detector: AnomalyDetector
    seed: int | None
    n_steps: int
    seconds: float  # wall-clock time of the task where it ran


def asset_seed(seed: int, asset: str) -> int:
    """A 31-bit seed from the fleet seed and the asset's name."""
    digest = hashlib.sha256(f"{int(seed)}:{asset}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def train_asset(
    asset: str, series: SensorSeries, generator: BaseGenerator, detector: AnomalyDetector, seed: int | None
) -> TrainedAsset:
    """The task: fit one asset's detector (``detector``: the unfitted one whose parameters apply)."""
    start = time.perf_counter()
    fitted = train_asset_detector(series, asset, generator=generator, detector=detector, seed=seed)
    return TrainedAsset(asset, fitted, seed, int(series.n_steps), time.perf_counter() - start)


def train_fleet(
    fleet: Mapping[str, SensorSeries],
    generator: BaseGenerator,
    *,
    engine=None,
    detector: AnomalyDetector | None = None,
    seed: int = 0,
    out: Path | None = None,
    progress: Progress | None = None,
) -> list[TrainedAsset]:
    """One fitted detector per asset (in the fleet's order), saved under ``out`` when given:
    one artifact folder per asset plus ``fleet.json``, the index ``geniot fleet score`` reads."""
    if not fleet:
        raise DataError("the fleet has no assets to train on")
    template = AnomalyDetector() if detector is None else detector
    template.clone().set_params(generator=generator).validate()  # a generator without a likelihood fails here, not in a worker
    engine = engine or SerialEngine()
    shared = engine.share(generator)
    tasks = [(str(a), s, shared, template, asset_seed(seed, str(a))) for a, s in fleet.items()]
    trained = engine.map(train_asset, tasks, progress=progress)
    if out is not None:
        save_fleet(trained, Path(out), generator=generator, detector=template, seed=seed, engine=engine.name)
    return trained


def save_fleet(
    trained: list[TrainedAsset], out: Path, *, generator: BaseGenerator, detector: AnomalyDetector, seed: int, engine: str
) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    folders = _folder_names([t.asset for t in trained])
    assets = {}
    for item, folder in zip(trained, folders, strict=True):
        item.detector.save(out / folder)
        assets[item.asset] = {
            "folder": folder,
            "seed": item.seed,
            "n_steps": item.n_steps,
            "threshold": float(item.detector.threshold_.value),
            "train_seconds": round(item.seconds, 3),
        }
    index = {
        "kind": "geniot-fleet",
        "geniot_version": __version__,
        "model": generator.registry_name,
        "params": generator.get_params(),
        "detector": {k: v for k, v in detector.get_params(deep=False).items() if k not in ("generator", "prefit")},
        "seed": int(seed),
        "engine": engine,
        "assets": assets,
    }
    (out / FLEET_FILE).write_text(json.dumps(index, indent=2, default=str))
    return out


def load_fleet_index(models_dir: Path) -> dict[str, Path]:
    """Asset name -> artifact folder, from ``fleet.json`` (folders must lie inside the index's
    own folder: the index cannot point anywhere else on disk)."""
    models_dir = Path(models_dir)
    file = models_dir / FLEET_FILE
    if not file.is_file():
        raise ArtifactError(f"{models_dir} holds no {FLEET_FILE}; train it with `geniot fleet train --out {models_dir}`")
    try:
        index = json.loads(file.read_text())
        assets = index["assets"]
        folders = {str(a): str(v["folder"]) for a, v in assets.items()}
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ArtifactError(f"{file}: not a fleet index ({exc})") from exc
    out = {}
    for asset, folder in folders.items():
        if not _SAFE.fullmatch(folder) or folder in (".", ".."):
            raise ArtifactError(f"{file}: asset {asset!r} points to {folder!r}, not a folder name inside {models_dir}")
        out[asset] = models_dir / folder
    return out


_SAFE = re.compile(r"[A-Za-z0-9._-]+")


def _folder_names(assets: list[str]) -> list[str]:
    """A file-system-safe, unique folder name per asset."""
    names, seen = [], set()
    for i, asset in enumerate(assets):
        base = re.sub(r"[^A-Za-z0-9._-]+", "_", asset).strip("._") or f"asset_{i}"
        name = base if base not in seen else f"{base}_{i}"
        seen.add(name)
        names.append(name)
    return names
