"""Background training jobs: train a detector for an asset from stored readings, with progress."""

from __future__ import annotations

import shutil
import threading
import time
import traceback
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path

from geniot.core.exceptions import DataError
from geniot.core.names import check_name, path_under
from geniot.data.store import SensorStore
from geniot.models.loading import load_generator
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import save_asset_detector, train_asset_detector
from geniot.workflows.training import build_model


@dataclass
class Job:
    id: str
    model: str
    asset: str
    generator: str
    status: str = "queued"  # queued, running, done, failed, cancelled (the service stopped before it began)
    progress: float = 0.0
    message: str = ""
    created: float = field(default_factory=time.time)
    finished: float | None = None

    def to_dict(self) -> dict:
        return asdict(self)


class JobRunner:
    """Runs training jobs one at a time in a background thread. ``stop`` (the service's shutdown)
    keeps every job away from the store from then on: a queued job is cancelled, a running one
    still saves its model (it becomes live at the next start) but does not activate it, which
    would read the store's history after the store has closed."""

    def __init__(self, store: SensorStore, models_dir: Path, on_done=None) -> None:
        self.store = store
        self.models_dir = Path(models_dir)
        self.models_dir.mkdir(parents=True, exist_ok=True)
        self.on_done = on_done
        self.jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._sem = threading.Semaphore(1)
        self._stopping = threading.Event()
        self._store_use = threading.Lock()  # held while a job reads the store or activates its model

    def stop(self, timeout: float = 10.0) -> bool:
        """No job touches the store after this returns True; False (said) when one still held it
        after ``timeout`` seconds."""
        self._stopping.set()
        if not self._store_use.acquire(timeout=timeout):
            print(f"geniot: a training job still used the store {timeout:.0f} s after shutdown began", flush=True)
            return False
        self._store_use.release()
        return True

    def model_dir(self, name: str) -> Path:
        """``models_dir/<name>`` for a valid model name; never a path outside ``models_dir``."""
        return path_under(self.models_dir, name, what="model name")

    def submit(self, *, model: str, asset: str, generator: str = "gaussian", window: int = 16,
               max_minutes: float = 2.0, params: dict | None = None, days: float | None = None) -> Job:  # fmt: skip
        self.model_dir(model)
        check_name(asset, "asset")
        if self._stopping.is_set():
            raise DataError("the service is stopping; no new training job is started")
        if asset not in self.store.assets():
            raise DataError(f"unknown asset {asset!r}; the store has {self.store.assets()}")
        build_model(generator, params=params)  # fail now on a bad name or parameter, not in the thread
        job = Job(id=uuid.uuid4().hex[:12], model=model, asset=asset, generator=generator)
        with self._lock:
            self.jobs[job.id] = job
        args = (job, window, max_minutes, params or {}, days)
        threading.Thread(target=self._run, args=args, name=f"geniot-job-{job.id}", daemon=True).start()
        return job

    def _run(self, job: Job, window: int, max_minutes: float, params: dict, days: float | None) -> None:
        with self._sem:
            try:
                with self._store_use:
                    if self._stopping.is_set():
                        job.status, job.message = "cancelled", "the service stopped before the job began"
                        return
                    job.status = "running"
                    series = self.store.read_wide(job.asset)
                if days is not None:
                    end = series.timestamps[-1]
                    series = series.slice_time(end - _days(days), None)
                epochs = max(1, int(getattr(build_model(job.generator, params=params), "epochs", 1)))

                def progress(event: dict) -> None:
                    job.progress = min(0.95, float(event.get("epoch", 0)) / float(event.get("epochs", epochs)))
                    job.message = f"epoch {event.get('epoch')}"

                detector = train_asset_detector(
                    series, job.asset, generator=job.generator, params=params, detector=AnomalyDetector(window=window), seed=0,
                    max_minutes=max_minutes, progress=progress,
                )  # fmt: skip
                save_asset_detector(detector, self.model_dir(job.model))
                job.progress, job.status = 1.0, "done"
                job.message = detector.thresholds_text()
                with self._store_use:
                    if self._stopping.is_set():
                        job.message += "; saved, and live from the next start (the service stopped while it trained)"
                    elif self.on_done is not None:
                        self.on_done(job, detector)
            except Exception as exc:  # a failed job is reported, never kills the service
                job.status = "failed"
                job.message = f"{type(exc).__name__}: {exc}"
                traceback.print_exc()
            finally:
                job.finished = time.time()

    def list_models(self) -> list[dict]:
        out = []
        for folder in sorted(p for p in self.models_dir.iterdir() if p.is_dir() and not p.name.endswith(".tmp")):
            try:
                gen = load_generator(folder)
            except Exception as exc:  # a broken folder is listed with its problem
                out.append({"name": folder.name, "error": str(exc)})
                continue
            out.append({"name": folder.name, "generator": gen.registry_name, "asset": gen.training_.asset,
                        "channels": gen.channel_names_ and list(gen.channel_names_), "window": gen.n_steps_,
                        "detector": (folder / "detector.json").is_file()})  # fmt: skip
        return out

    def delete(self, name: str) -> bool:
        """Remove one model's folder: a real folder directly inside ``models_dir`` (a symlink is
        refused, not followed), holding a saved model. False if there is no such model."""
        folder = self.model_dir(name)
        if folder.is_symlink():
            raise DataError(f"model {name!r} is a symbolic link, not a model folder; remove it by hand")
        if not folder.is_dir():
            return False
        if folder.resolve().parent != self.models_dir.resolve():
            raise DataError(f"model {name!r} resolves outside {self.models_dir}")
        if not (folder / "spec.json").is_file():
            raise DataError(f"{folder} holds no saved model (no spec.json); not removed")
        shutil.rmtree(folder)
        return True


def _days(days: float):
    import numpy as np

    return np.timedelta64(int(days * 86400), "s")
