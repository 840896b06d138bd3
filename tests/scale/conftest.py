"""Shared fixtures of the scale-out tests: a small simulated fleet and a tiny local Ray."""

from __future__ import annotations

import pytest

from geniot.scale import RayEngine
from geniot.scale.sources import simulated_fleet


@pytest.fixture(scope="module")
def fleet():
    return simulated_fleet(3, days=0.5, seed=3)


@pytest.fixture(scope="module")
def ray_engine():
    """One local Ray per test module: 2 CPUs, a small object store, shut down at the end."""
    with RayEngine(num_cpus=2, object_store_memory=80 * 2**20) as engine:
        yield engine
    import ray

    assert not ray.is_initialized()
