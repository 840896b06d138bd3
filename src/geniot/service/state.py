"""The running plant service: store, ingest, live scoring, jobs. Created once per app."""

from __future__ import annotations

import json
import threading
import time
import traceback

from geniot.core.settings import Settings
from geniot.data.store import SensorStore
from geniot.ingest.writer import BatchWriter
from geniot.service.jobs import Job, JobRunner
from geniot.service.live import LiveMonitor
from geniot.tasks import AnomalyDetector
from geniot.tasks._series import model_channels
from geniot.workflows.history import store_events


class PlantService:
    def __init__(self, settings: Settings, *, simulate: bool = False, sim_assets: int = 3, auto_train: bool | None = None) -> None:
        self.settings = settings
        self.simulate = simulate
        self.sim_assets = sim_assets
        self.auto_train = simulate if auto_train is None else auto_train
        self.running = False
        self.mqtt = None
        self._alert_client = None
        self.feed = None
        self._assistant = None
        self._assistant_lock = threading.Lock()

    def _open(self) -> None:
        """Open the store and the in-process parts (again after a stop: the app may be restarted)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self.store = SensorStore(self.settings.store_path)
        self.live = LiveMonitor(self.store, publish=self._publish_alert)
        self.writer = BatchWriter(self.store, on_stored=self.live.on_stored)
        self.jobs = JobRunner(self.store, self.settings.models_dir, on_done=self._job_done)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._open()
        self.running = True
        self._activate_saved_models()
        if self.settings.mqtt_url:
            from geniot.ingest.mqtt import MQTTIngest, make_client, parse_url

            topics = tuple(t.strip() for t in self.settings.mqtt_topics.split(",") if t.strip())
            self.mqtt = MQTTIngest(self.settings.mqtt_url, self.writer, topics=topics)
            self.mqtt.start()
            host, port = parse_url(self.settings.mqtt_url)
            self._alert_client = make_client(f"geniot-alerts-{int(self.started)}", clean=True)
            self._alert_client.connect_async(host, port)
            self._alert_client.loop_start()
        if self.simulate:
            from geniot.service.feed import SimulatorFeed

            self.feed = SimulatorFeed(self.writer, assets=self.sim_assets)
            self.feed.start()
            if self.auto_train:
                threading.Thread(target=self._train_when_ready, daemon=True).start()

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self._alert_client is not None:
            self._alert_client.disconnect()
            self._alert_client.loop_stop()
        self.writer.close()
        self.store.close()
        self.running = False
        self.mqtt = self._alert_client = self.feed = None

    # ------------------------------------------------------------ models
    def _activate_saved_models(self) -> None:
        for info in self.jobs.list_models():
            if info.get("detector") and info.get("asset"):
                try:
                    self.live.activate(info["asset"], AnomalyDetector.load(self.jobs.model_dir(info["name"])), info["name"])
                except Exception:  # a broken model folder must not stop the service
                    continue

    def _job_done(self, job: Job, detector: AnomalyDetector) -> None:
        self.live.activate(job.asset, detector, job.model)
        self._scan_history(job.asset, detector)

    def _scan_history(self, asset: str, detector: AnomalyDetector) -> None:
        """Events for the history stored before the asset's detector was live (what `ask` and
        the events list show for "yesterday"); live scoring takes over from here."""
        try:
            store_events(self.store, asset, self.store.read_wide(asset, signals=model_channels(detector.generator_)), detector)
        except Exception:  # history too short or channels changed: live scoring still runs
            traceback.print_exc()

    def assistant(self):
        """The question answerer over this store (the language model loads on first use)."""
        from geniot.ask import PlantAssistant, PlantView

        with self._assistant_lock:
            if self._assistant is None or self._assistant.plant.store is not self.store:
                plant = PlantView(self.store, models_dir=self.settings.models_dir, out_dir=self.settings.home / "answers")
                self._assistant = PlantAssistant(plant)
            else:
                self._assistant.refresh()
            return self._assistant

    def _train_when_ready(self) -> None:
        """With the simulator: train a quick detector per asset once its history is stored."""
        deadline = time.time() + 120
        while time.time() < deadline and len(self.store.assets()) < self.sim_assets:
            time.sleep(0.5)
        self.writer.flush()
        active = self.live.status()
        for asset in self.store.assets():
            if asset in active:
                self._scan_history(asset, self.live.detector(asset))
            else:
                self.jobs.submit(model=f"{asset}-gaussian", asset=asset, generator="gaussian", window=16)

    # ------------------------------------------------------------ alerts
    def _publish_alert(self, asset: str, message: dict) -> None:
        if self._alert_client is not None:
            self._alert_client.publish(f"{self.settings.alert_prefix}/{asset}", json.dumps(message), qos=1)

    def health(self) -> dict:
        s = self.writer.stats
        return {
            "status": "ok",
            "uptime_s": round(time.time() - self.started, 1),
            "readings": self.store.count(),
            "assets": len(self.store.assets()),
            "ingest": {"received": s.received, "stored": s.stored, "duplicates": s.duplicates,
                       "rejected": s.rejected, "batches": s.batches, "last_error": s.last_error,
                       "reasons": s.reasons},  # fmt: skip
            "mqtt": None if self.mqtt is None else {"url": self.settings.mqtt_url, "connected": self.mqtt.connected.is_set()},
            "simulator": None if self.feed is None else {"sent": self.feed.sent},
            "live": self.live.status(),
        }
