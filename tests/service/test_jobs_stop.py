"""Training jobs at the service's shutdown: none touches the store once ``JobRunner.stop`` has
returned (the store closes right after it), a queued one is cancelled and says so, a running one
still saves its model, and no new job starts."""

from __future__ import annotations

import threading
import time

import pytest

from geniot.core.exceptions import DataError
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.data.store import SensorStore
from geniot.service.jobs import JobRunner


@pytest.fixture()
def store(tmp_path):
    plant = simulate_plant(PlantConfig(n_assets=1, days=1, seed=5, fault_rate=0.0))
    s = SensorStore(tmp_path / "plant.duckdb")
    s.append(plant.readings)
    yield s
    s.close()


def _thread_of(job) -> threading.Thread:
    return next(t for t in threading.enumerate() if t.name == f"geniot-job-{job.id}")


def test_a_running_job_never_reads_the_store_after_stop(store, tmp_path):
    asset = store.assets()[0]
    activated: list[float] = []

    def on_done(job, detector):  # the service's activation reads the stored history
        store.read_wide(job.asset)
        activated.append(time.monotonic())

    runner = JobRunner(store, tmp_path / "models", on_done=on_done)
    first = runner.submit(model="m1", asset=asset, window=8)
    deadline = time.monotonic() + 60
    while first.status == "queued" and time.monotonic() < deadline:
        time.sleep(0.01)
    thread = _thread_of(first)
    assert runner.stop(timeout=60)
    stopped = time.monotonic()
    store.close()  # what the service does next
    thread.join(timeout=120)
    assert first.status == "done", first.message  # it did not fail on the closed store
    assert (tmp_path / "models" / "m1" / "detector.json").is_file()  # saved: live at the next start
    assert all(t < stopped for t in activated)  # activated before stop returned, or not at all
    if not activated:
        assert "next start" in first.message
    with pytest.raises(DataError, match="stopping"):
        runner.submit(model="m3", asset=asset)


def test_a_queued_job_is_cancelled_and_says_so(store, tmp_path):
    asset = store.assets()[0]
    activated = []
    runner = JobRunner(store, tmp_path / "models", on_done=lambda job, detector: activated.append(job))
    runner._sem.acquire()  # the one training slot is busy: the job waits in the queue
    queued = runner.submit(model="m2", asset=asset, window=8)
    thread = _thread_of(queued)
    assert runner.stop(timeout=10)
    runner._sem.release()
    thread.join(timeout=60)
    assert queued.status == "cancelled" and "stopped" in queued.message
    assert not (tmp_path / "models" / "m2").exists() and not activated
