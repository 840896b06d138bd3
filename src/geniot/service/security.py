"""The plant's security detector in the running service: which one is active, its live feed, its
events in the store.

A detector is a folder written by ``geniot security fit`` placed in ``<home>/security/<name>``;
an admin activates it by name (``POST /api/security/activate``). Messages are checked on a
thread of their own, in arrival order (MQTT's network thread only stamps and queues them, so a
slow check neither delays ingest nor skews the arrival times the traffic model sees). The active name is kept in
``<home>/security/active.json``, so a restart activates it again. Its events are stored in the
store's events table (kind integrity | traffic, attack type, reason, source), from where the SIEM
forwarder and ``/api/events`` take them, and each is published on MQTT as
``<alert prefix>/security/<asset>``. Loading never unpickles: the folder holds JSON, an
``allow_pickle=False`` array file and generator folders.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
from pathlib import Path

import pandas as pd

from geniot.core.exceptions import ArtifactError, DataError
from geniot.core.names import check_name, path_under
from geniot.data.store import SensorStore
from geniot.ingest.messages import Reading
from geniot.security import SecurityDetector, SecurityEvent
from geniot.security.detector import STATE_FILE
from geniot.service.security_feed import SecurityFeed

ACTIVE_FILE = "active.json"
QUEUE_LIMIT = 200_000  # messages waiting for detection; beyond that they are counted as not checked


def _ts(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(round(seconds * 1e6), unit="us")


def event_id(ev: SecurityEvent) -> str:
    """One stored row per security event: its asset (or stream), start and attack type."""
    who = ev.asset or ev.source or "unknown"
    return f"{who}@{_ts(ev.start).isoformat()}/{ev.attack}"


def store_record(ev: SecurityEvent) -> dict:
    """A security event as the store's events table and the SIEM forwarder take it."""
    return {
        "id": event_id(ev), "asset": ev.asset or "", "start_ts": _ts(ev.start).to_pydatetime(),
        "end_ts": _ts(max(ev.end, ev.start)).to_pydatetime(), "peak_ts": _ts(ev.start).to_pydatetime(),
        "peak_score": None, "threshold": None, "top_sensors": ev.signal or "", "is_open": False,
        "kind": ev.kind, "attack": ev.attack, "reason": ev.reason, "source": ev.source or "",
        "detected_at": _ts(ev.detected_at).to_pydatetime(),
    }  # fmt: skip


class PlantSecurity:
    """The active security detector (at most one per plant) and its feed."""

    def __init__(self, store: SensorStore, folder: Path, publish=None) -> None:
        self.store = store
        self.publish = publish  # publish(topic under the alert prefix, message): best effort, as process alerts
        self.folder = Path(folder)
        self.name: str | None = None
        self.feed: SecurityFeed | None = None
        self.activated_at: float | None = None
        self.store_errors = 0
        self.last_store_error: str | None = None
        self.restore_error: str | None = None
        self.not_checked = 0  # messages dropped because the queue was full
        self.worker_errors = 0
        self._lock = threading.Lock()
        self._queue: queue.Queue = queue.Queue(maxsize=QUEUE_LIMIT)
        self._worker: threading.Thread | None = None

    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="geniot-security", daemon=True)
        self._worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop checking; the events still open are closed and stored (call before the store closes)."""
        if self._worker is not None:
            self._queue.put(("stop", None))
            self._worker.join(timeout)
            self._worker = None
        feed = self.feed
        if feed is not None:
            feed.close()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every queued message has been checked (for tests and shutdown)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def _work(self) -> None:
        while True:
            what, args = self._queue.get()
            try:
                if what == "stop":
                    return
                feed = self.feed
                if feed is None:
                    continue
                if what == "message":
                    feed.on_message(*args)
                elif what == "stored":
                    feed.on_stored(args)
                else:
                    feed.tick(args)
            except Exception:  # noqa: BLE001 - the feed contains its own; this thread must not die either
                self.worker_errors += 1
                traceback.print_exc()
            finally:
                self._queue.task_done()

    def _put(self, item) -> None:
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.not_checked += 1

    # ------------------------------------------------------------ which detector
    def available(self) -> list[str]:
        if not self.folder.is_dir():
            return []
        return sorted(p.name for p in self.folder.iterdir() if p.is_dir() and (p / STATE_FILE).is_file())

    def activate(self, name: str) -> dict:
        """Load ``<home>/security/<name>`` and make it the active detector (kept over restarts)."""
        check_name(name, "security detector name")
        path = path_under(self.folder, name, what="security detector name")
        if not (path / STATE_FILE).is_file():
            raise ArtifactError(f"no security detector {name!r}: {path} holds no {STATE_FILE} "
                                f"(write one with `geniot security fit NORMAL --out {path}`)")  # fmt: skip
        detector = SecurityDetector.load(path)
        feed = SecurityFeed(detector, on_event=self._store)
        with self._lock:
            self.name, self.feed, self.activated_at = name, feed, time.time()
            self.restore_error = None
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / ACTIVE_FILE).write_text(json.dumps({"name": name}))
        return self.status()

    def deactivate(self) -> bool:
        with self._lock:
            was = self.feed is not None
            self.name = self.feed = self.activated_at = None
        (self.folder / ACTIVE_FILE).unlink(missing_ok=True)
        return was

    def restore(self) -> None:
        """At start: activate the detector that was active before; a broken one is said in health."""
        file = self.folder / ACTIVE_FILE
        if not file.is_file():
            return
        try:
            name = json.loads(file.read_text())["name"]
            self.activate(str(name))
        except (OSError, ValueError, KeyError, TypeError, DataError, ArtifactError) as exc:
            self.restore_error = f"the security detector named in {file} could not be activated: {type(exc).__name__}: {exc}"[:500]
            print(f"geniot: {self.restore_error}", flush=True)

    # ------------------------------------------------------------ feeding (each contains its failures)
    def on_stored(self, readings: list[Reading]) -> None:
        if self.feed is not None:
            self._put(("stored", list(readings)))

    def on_message(self, topic: str, publisher: str, received_at: float, payload_bytes: int, readings: list[Reading]) -> None:
        if self.feed is not None:
            self._put(("message", (topic, publisher, received_at, payload_bytes, readings)))

    def tick(self, now: float | None = None) -> None:
        if self.feed is not None:
            self._put(("tick", time.time() if now is None else now))

    def _store(self, ev: SecurityEvent) -> None:
        try:
            self.store.upsert_event(store_record(ev))  # the SIEM forwarder listens here
        except Exception as exc:  # noqa: BLE001 - counted and shown in health; the feed keeps the event
            self.store_errors += 1
            self.last_store_error = f"{type(exc).__name__}: {exc}"[:500]
        if self.publish is not None:
            try:  # <alert prefix>/security/<asset>: apart from process alerts, whose "kind" is opened/closed
                self.publish(f"security/{ev.asset or 'unknown'}", {**ev.record(), "id": event_id(ev)})
            except Exception:  # noqa: BLE001 - alerts are best effort; the event is stored either way
                traceback.print_exc()

    # ------------------------------------------------------------ views
    def events(self) -> list[dict]:
        feed = self.feed
        return [] if feed is None else feed.events()

    def status(self) -> dict:
        feed = self.feed
        out = {"active": self.name, "available": self.available(), "queued": self._queue.qsize(), "not_checked": self.not_checked,
               "store_errors": self.store_errors, "last_store_error": self.last_store_error,
               "restore_error": self.restore_error}  # fmt: skip
        if feed is None:
            return {**out, "events": 0, "errors": 0, "last_error": None, "counts": {}}
        st = feed.status()
        counts = {k: v for k, v in st.items() if k not in ("events", "errors", "last_error")}
        by_kind: dict[str, int] = {}
        for e in feed.events():
            by_kind[e["kind"]] = by_kind.get(e["kind"], 0) + 1
        return {**out, "events": st["events"], "errors": st["errors"], "last_error": st["last_error"],
                "counts": counts, "by_kind": by_kind}  # fmt: skip

    def problems(self) -> list[str]:
        st = self.status()
        out = []
        if self.restore_error:
            out.append(self.restore_error)
        if st["errors"]:
            out.append(f"security detection failed {st['errors']} time(s) (last: {st['last_error']}); ingest goes on")
        if self.not_checked:
            out.append(f"{self.not_checked} message(s) were not checked for security: the detection queue was full ({QUEUE_LIMIT})")
        if self.worker_errors:
            out.append(f"the security detection thread failed {self.worker_errors} time(s) (see the service's log)")
        if self.store_errors:
            out.append(f"{self.store_errors} security event(s) could not be stored (last: {self.last_store_error})")
        return out
