from __future__ import annotations

from pathlib import Path

import pytest

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.workflows.history import scan_history


@pytest.fixture(scope="session")
def router():
    from geniot.ask.embedder import embed
    from geniot.ask.router import IntentRouter

    return IntentRouter().fit(embed)


@pytest.fixture(scope="session")
def small_plant(tmp_path_factory):
    """Two pumps, two days from Monday 2026-01-05, with a detector scan: (store path, plant)."""
    folder = tmp_path_factory.mktemp("askplant")
    plant = simulate_plant(PlantConfig(n_assets=2, days=2, seed=3, start="2026-01-05T00:00:00", fault_rate=3.0))
    path = folder / "plant.duckdb"
    with SensorStore(path) as store:
        store.append(plant.readings)
        scan_history(store, folder / "models")
    return Path(path), plant


@pytest.fixture()
def assistant(small_plant, router, tmp_path):
    from geniot.ask import PlantAssistant, PlantView

    path, _ = small_plant
    store = SensorStore(path, read_only=True)
    yield PlantAssistant(PlantView(store, models_dir=path.parent / "models", out_dir=tmp_path / "answers"), router=router)
    store.close()
