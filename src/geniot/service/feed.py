"""The built-in plant simulator feeding the service in-process (``geniot serve --simulate``).

It first writes ``history_days`` of simulated history ending now (so a model can be trained at
once), then keeps sending one reading per signal per asset every ``interval_s`` seconds of wall
clock, stamped with the current time, through the same batched writer as MQTT and HTTP ingest.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.ingest.messages import Reading
from geniot.ingest.writer import BatchWriter


class SimulatorFeed:
    def __init__(
        self,
        writer: BatchWriter,
        *,
        assets: int = 3,
        history_days: float = 1.0,
        live_days: float = 2.0,
        interval_s: float = 1.0,
        seed: int = 0,
        fault_rate: float = 3.0,
    ) -> None:
        self.writer = writer
        self.interval_s = interval_s
        cfg = PlantConfig(n_assets=assets, days=history_days + live_days, seed=seed, fault_rate=fault_rate)
        plant = simulate_plant(cfg)
        self.frames = {a: plant.wide(a) for a in plant.assets()}
        self.n_history = int(history_days * 86400 / cfg.interval_s)
        self.sim_interval = pd.Timedelta(seconds=cfg.interval_s)
        self.sent = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="geniot-simulator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @staticmethod
    def _readings(asset: str, row: pd.Series, ts: datetime) -> list[Reading]:
        return [
            Reading(ts, asset, str(k), float(v))
            for k, v in row.items()
            if k != "timestamp" and np.isfinite(v)
        ]

    def _run(self) -> None:
        now = datetime.now(UTC).replace(tzinfo=None)
        start = now - self.n_history * self.sim_interval.to_pytimedelta()
        for asset, frame in self.frames.items():  # history ending now: one batch per asset
            batch = []
            for i in range(min(self.n_history, len(frame))):
                batch.extend(self._readings(asset, frame.iloc[i], start + i * self.sim_interval.to_pytimedelta()))
            self.writer.submit(batch)
            self.sent += len(batch)
        i = self.n_history
        while not self._stop.is_set():
            ts = datetime.now(UTC).replace(tzinfo=None)
            for asset, frame in self.frames.items():
                row = frame.iloc[i % len(frame)]
                batch = self._readings(asset, row, ts)
                self.writer.submit(batch)
                self.sent += len(batch)
            i += 1
            self._stop.wait(self.interval_s)
            if self._stop.is_set():
                break
        time.sleep(0)
