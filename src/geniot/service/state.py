"""The running plant service: store, ingest, live scoring, jobs. Created once per app."""

from __future__ import annotations

import json
import threading
import time
import traceback

from geniot.core.settings import Settings
from geniot.data.store import SensorStore
from geniot.ingest.checks import ReadingChecks
from geniot.ingest.writer import BatchWriter
from geniot.service.jobs import Job, JobRunner
from geniot.service.live import LiveMonitor
from geniot.service.retention import RetentionWorker
from geniot.service.security import PlantSecurity
from geniot.service.siem_feed import start_siem_feed
from geniot.tasks import AnomalyDetector

SUPERVISE_EVERY_S = 1.0  # how often a dead writer thread is looked for
RECENT_RESTART_S = 300.0  # a writer restart keeps health "degraded" this long


class PlantService:
    def __init__(self, settings: Settings, *, simulate: bool = False, sim_assets: int = 3, auto_train: bool | None = None,
                 publisher_prefix: str | None = None) -> None:  # fmt: skip
        self.settings = settings
        # MQTT topics <prefix>/<user>/... name their publisher (the broker's ACL guards the level)
        self.publisher_prefix = publisher_prefix
        self.simulate = simulate
        self.sim_assets = sim_assets
        self.auto_train = simulate if auto_train is None else auto_train
        self.running = False
        self.mqtt = None
        self._alert_client = None
        self.feed = None
        self.siem = None
        self._trainer: threading.Thread | None = None
        self._assistant = None
        self._assistant_lock = threading.Lock()

    def _open(self) -> None:
        """Open the store and the in-process parts (again after a stop: the app may be restarted)."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self.store = SensorStore(self.settings.store_path)
        self.live = LiveMonitor(self.store, publish=self._publish_alert)
        self.writer = BatchWriter(self.store, on_stored=self.live.on_stored, checks=ReadingChecks.from_settings(self.settings))
        self._supervisor_stop = threading.Event()
        self._supervisor = threading.Thread(target=self._supervise, name="geniot-supervisor", daemon=True)
        self.jobs = JobRunner(self.store, self.settings.models_dir, on_done=self._job_done)
        self.retention = RetentionWorker(self.store, self.settings)
        self.security = PlantSecurity(self.store, self.settings.home / "security", publish=self._publish_alert)

    # ------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._open()
        self.siem = start_siem_feed(self.settings, self.store)  # GENIOT_SYSLOG: stored events leave as CEF
        self.running = True
        self._activate_saved_models()
        self.security.restore()
        self.security.start()
        if not self.settings.mqtt_url:  # without MQTT the stored readings are all there is (no traffic side)
            self.live.security = self.security
        self._supervisor.start()
        self.retention.start()
        if self.settings.mqtt_url:
            from geniot.ingest.mqtt import MQTTIngest, alert_client, target_from_settings

            target = target_from_settings(self.settings)  # credentials and TLS; the password is never shown
            topics = tuple(t.strip() for t in self.settings.mqtt_topics.split(",") if t.strip())
            self.mqtt = MQTTIngest(target, self.writer, topics=topics, publisher_prefix=self.publisher_prefix,
                                   on_traffic=self.security.on_message)  # fmt: skip
            self.mqtt.start()
            self._alert_client = alert_client(target, f"geniot-alerts-{int(self.started)}")
        if self.simulate:
            from geniot.service.feed import SimulatorFeed

            self.feed = SimulatorFeed(self.writer, assets=self.sim_assets)
            self.feed.start()
            if self.auto_train:
                self._trainer = threading.Thread(target=self._train_when_ready, name="geniot-auto-train", daemon=True)
                self._trainer.start()

    def stop(self) -> None:
        if self.feed is not None:
            self.feed.stop()
        if self.mqtt is not None:
            self.mqtt.stop()
        if self._alert_client is not None:
            self._alert_client.disconnect()
            self._alert_client.loop_stop()
        self.retention.stop()
        self._supervisor_stop.set()  # also ends the wait of the simulator's first training
        self._supervisor.join(timeout=5)
        if self._trainer is not None:
            self._trainer.join(timeout=5)
            self._trainer = None
        self.jobs.stop(timeout=10)  # no training job reads the store or activates a model from here on
        self.writer.close()  # writes all that was accepted before the store closes (says what it could not)
        self.security.drain(timeout=5)
        self.security.stop()
        if self.siem is not None:
            self.siem.stop()
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
        self.live.activate(job.asset, detector, job.model)  # scans the stored history's events too

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
            if self._supervisor_stop.wait(0.5):
                return  # the service stopped first
        self.writer.flush()
        if self._supervisor_stop.is_set():
            return
        active = self.live.status()
        for asset in self.store.assets():
            if asset not in active:  # an active detector scanned the history when it was activated
                self.jobs.submit(model=f"{asset}-gaussian", asset=asset, generator="gaussian", window=16)

    # ------------------------------------------------------------ alerts
    def _publish_alert(self, asset: str, message: dict) -> None:
        if self._alert_client is not None:
            self._alert_client.publish(f"{self.settings.alert_prefix}/{asset}", json.dumps(message), qos=1)

    # ------------------------------------------------------------ supervision and health
    def _supervise(self) -> None:
        """Restart a writer thread that died (its held batch is written again, duplicates once);
        tick security detection (silences are found on a tick, not on a message)."""
        while not self._supervisor_stop.wait(SUPERVISE_EVERY_S):
            try:
                if self.writer.ensure_running():
                    print(f"geniot: the writer thread died ({self.writer.thread_error}); restarted it", flush=True)
            except Exception:  # noqa: BLE001 - the supervisor itself must not die
                traceback.print_exc()
            self.security.tick()  # contains its own failures (counted in its status)

    def health(self) -> dict:
        """What is really running: status "ok", "degraded" (an asset's scoring paused, MQTT not
        connected, a recent writer restart) or "failing" (the writer is dead or ingest stalls),
        with the problems in words and each component's state."""
        failing: list[str] = []
        degraded: list[str] = []
        w, s = self.writer, self.writer.stats
        problem = w.problem() if self.running else "the service is not running"
        if problem:
            failing.append(problem)
        if w.last_restart is not None and time.time() - w.last_restart < RECENT_RESTART_S:
            degraded.append(f"the writer thread was restarted {w.restarts} time(s), last {time.time() - w.last_restart:.0f} s ago ({w.thread_error})")
        writer = {"state": w.state, "alive": w.alive, "queue": w.queued(), "lag_s": round(w.lag_s(), 3),
                  "last_error": s.last_error, "restarts": w.restarts}  # fmt: skip
        mqtt = None
        if self.mqtt is not None:
            mqtt = {**self.mqtt.status()} if hasattr(self.mqtt, "status") else {"url": self.settings.mqtt_url}
            connected = self.mqtt.connected.is_set()
            mqtt.setdefault("state", "connected" if connected else "disconnected")
            mqtt.setdefault("last_error", None)
            mqtt.setdefault("broker_dropped", None)
            mqtt["connected"] = connected
            if mqtt["state"] != "connected":
                degraded.append(f"MQTT ingest is {mqtt['state']}" + (f": {mqtt['last_error']}" if mqtt["last_error"] else ""))
            degraded.extend(p for p in mqtt.get("problems", []) if not p.startswith("MQTT ingest is"))
        siem = None if self.siem is None else self.siem.status()
        if self.siem is not None:
            degraded.extend(self.siem.problems())
        security = self.security.status()
        degraded.extend(self.security.problems())
        scoring = self.live.scoring()
        for asset, error in scoring["paused"].items():
            degraded.append(f"live scoring of {asset!r} is paused: {error}")
        try:
            readings, assets = self.store.count(), len(self.store.assets())
        except Exception as exc:  # noqa: BLE001 - a store that cannot be read is a failure, said here
            readings = assets = None
            failing.append(f"the store cannot be read: {type(exc).__name__}: {exc}")
        status = "failing" if failing else "degraded" if degraded else "ok"
        return {
            "status": status,
            "problems": failing + degraded,
            "uptime_s": round(time.time() - self.started, 1),
            "readings": readings,
            "assets": assets,
            "components": {"writer": writer, "mqtt": mqtt, "scoring": scoring, "siem": siem, "security": security},
            "ingest": {"received": s.received, "stored": s.stored, "duplicates": s.duplicates,
                       "rejected": s.rejected, "batches": s.batches, "write_errors": s.write_errors,
                       "not_stored": s.not_stored, "on_stored_errors": s.on_stored_errors,
                       "last_error": s.last_error, "reasons": dict(s.reasons)},  # fmt: skip
            "mqtt": mqtt,
            "simulator": None if self.feed is None else {"sent": self.feed.sent},
            "live": self.live.status(),
        }

    def ready(self) -> tuple[bool, list[str]]:
        """Whether the service can take and store readings now, and if not why (for /api/ready)."""
        if not self.running:
            return False, ["the service is not running"]
        health = self.health()
        return health["status"] != "failing", health["problems"]
