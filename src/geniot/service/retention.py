"""Retention in the running service: a background thread that downsamples old raw readings and
prunes dead letters on a schedule, and runs on demand (``POST /api/admin/retention``).

Contained: an error in a run is caught, counted and shown in :meth:`RetentionWorker.status`
(which the health includes); it never stops ingest, scoring or the thread itself.
"""

from __future__ import annotations

import threading
import time
import traceback
from datetime import UTC, datetime, timedelta

from geniot.core.settings import Settings
from geniot.data.store import SensorStore, interval_seconds

FIRST_RUN_AFTER_S = 60.0  # after a start, let ingest settle before the first run


def _iso(stamp: float | None) -> str | None:
    return None if stamp is None else datetime.fromtimestamp(stamp, UTC).isoformat(timespec="seconds")


def _naive_utc(moment: datetime) -> datetime:
    """Naive UTC, the way the store keeps times (a naive input is taken as UTC already)."""
    return moment if moment.tzinfo is None else moment.astimezone(UTC).replace(tzinfo=None)


class RetentionWorker:
    """Runs :meth:`run_once` every ``settings.retention_every_s`` seconds on its own thread."""

    def __init__(self, store: SensorStore, settings: Settings, *, first_run_after_s: float = FIRST_RUN_AFTER_S) -> None:
        self.store = store
        self.settings = settings
        self.first_run_after_s = first_run_after_s
        self._run_lock = threading.Lock()  # the thread and the admin endpoint never run at once
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._running_since: float | None = None
        self._next_run: float | None = None
        self.runs = 0
        self.failed_runs = 0
        self.last_run: dict | None = None
        self.last_error: str | None = None

    # ------------------------------------------------------------ thread
    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="geniot-retention", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the schedule; a run in progress finishes its current chunk first."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        delay = self.first_run_after_s
        while True:
            self._next_run = time.time() + delay
            if self._stop.wait(delay):
                break
            try:
                self.run_once()
            except BaseException as exc:  # run_once contains its parts; this is the last guard
                self._note_error(f"retention run: {type(exc).__name__}: {exc}")
            delay = self.settings.retention_every_s
        self._next_run = None

    # ------------------------------------------------------------ one run
    def run_once(self, *, now: datetime | None = None) -> dict:
        """Downsample raw readings older than ``retention_raw_days`` and prune dead letters; each
        part is contained (its error is in the result and in :meth:`status`). Returns what it did:
        ``{"started", "finished", "duration_s", "ok", "downsample", "dead_letters", "errors"}``."""
        with self._run_lock:
            self._running_since = time.time()
            started = self._running_since
            now = _naive_utc(now or datetime.now(UTC))
            result: dict = {"started": _iso(started), "ok": True, "errors": []}
            try:
                result["downsample"] = self._contained(result, "downsample", lambda: self._downsample(now))
                result["dead_letters"] = self._contained(result, "dead letters", lambda: self._prune_dead_letters(now))
            finally:
                self._running_since = None
            result["finished"] = _iso(time.time())
            result["duration_s"] = round(time.time() - started, 3)
            self.runs += 1
            if not result["ok"]:
                self.failed_runs += 1
            self.last_run = result
            return result

    def _contained(self, result: dict, part: str, work):
        try:
            return work()
        except Exception as exc:
            message = f"{part}: {type(exc).__name__}: {exc}"
            result["ok"] = False
            result["errors"].append(message)
            self._note_error(message)
            return None

    def _note_error(self, message: str) -> None:
        self.last_error = message
        print(f"geniot retention: {message}")
        traceback.print_exc()

    def _downsample(self, now: datetime) -> dict:
        days = self.settings.retention_raw_days
        if days is None:
            return {"skipped": "retention_raw_days is not set: raw readings are kept"}
        seconds = interval_seconds(self.settings.downsample_interval)
        return self.store.downsample(now - timedelta(days=days), seconds, stop=self._stop)

    def _prune_dead_letters(self, now: datetime) -> dict:
        days, rows = self.settings.dead_letter_days, self.settings.dead_letter_max_rows
        if days is None and rows is None:
            return {"skipped": "dead_letter_days and dead_letter_max_rows are not set: dead letters are kept"}
        older = None if days is None else now - timedelta(days=days)
        deleted = self.store.prune_dead_letters(older_than=older, max_rows=rows)
        return {"deleted": deleted, "older_than": None if older is None else older.isoformat(), "max_rows": rows}

    # ------------------------------------------------------------ health
    def status(self) -> dict:
        """For the health: whether the thread lives, the schedule, the last run and error."""
        alive = self._thread is not None and self._thread.is_alive()
        if self._running_since is not None:
            state = "running"
        elif alive:
            state = "idle"
        else:
            state = "stopped" if self._stop.is_set() or self._thread is None else "dead"
        return {
            "state": state,
            "alive": alive,
            "raw_days": self.settings.retention_raw_days,
            "downsample_interval": self.settings.downsample_interval,
            "dead_letter_days": self.settings.dead_letter_days,
            "dead_letter_max_rows": self.settings.dead_letter_max_rows,
            "every_s": self.settings.retention_every_s,
            "next_run": _iso(self._next_run),
            "runs": self.runs,
            "failed_runs": self.failed_runs,
            "last_run": self.last_run,
            "last_error": self.last_error,
        }
