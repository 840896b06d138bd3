"""Batched, acknowledged writes of readings into the store, and the dead-letter table.

Producers (the MQTT client, HTTP handlers, the in-process simulator) ``submit`` readings with an
optional callback; one writer thread collects them for up to ``max_delay_s`` or ``batch_size``
readings, stores the batch in one transaction, and only then calls the callbacks. The MQTT
client acknowledges a QoS 1 message in its callback, so a reading the broker considers delivered
is always already in the store.

Containment: ``submit`` passes every reading through :class:`~geniot.ingest.checks.ReadingChecks`
(a bad one becomes a dead letter with its reason); a batch the store refuses is retried one
submission at a time, so one bad submission fails alone (its callbacks are not called: MQTT
redelivers it, HTTP answers 503); an error of ``on_stored`` (live scoring) is counted and never
stops the thread; and a thread that died anyway is restarted by :meth:`BatchWriter.ensure_running`
(the service's supervisor calls it) with the batch it held. Rejection reasons are counted by a
fixed category, so the counters stay small whatever the input.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from geniot.data.store import SensorStore
from geniot.ingest.checks import REASON_KINDS, ReadingChecks, reason_kind
from geniot.ingest.messages import Reading

STALL_AFTER_S = 30.0  # something waiting this long to be written means ingest has stalled


@dataclass
class IngestStats:
    received: int = 0  # readings accepted by parsing
    stored: int = 0  # new rows in the store (duplicates are stored once)
    duplicates: int = 0
    rejected: int = 0  # messages or records that went to the dead-letter table
    batches: int = 0
    write_errors: int = 0  # store calls that failed (the batch is retried per submission)
    not_stored: int = 0  # readings whose submission the store refused even alone
    on_stored_errors: int = 0  # failures of the after-store hook (live scoring)
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)  # keys: REASON_KINDS only

    def count_reason(self, reason: str) -> None:
        kind = reason_kind(reason)
        if kind not in REASON_KINDS:  # never a key made of user text
            kind = "other"
        self.reasons[kind] = self.reasons.get(kind, 0) + 1


@dataclass
class _Batch:
    readings: list[Reading] = field(default_factory=list)
    parts: list[tuple[list[Reading], Callable[[], None] | None]] = field(default_factory=list)
    dead: list[tuple] = field(default_factory=list)
    flushes: list[threading.Event] = field(default_factory=list)
    since: float | None = None  # monotonic time its oldest item was submitted
    stop: bool = False

    def empty(self) -> bool:
        return not (self.readings or self.parts or self.dead or self.flushes)


class BatchWriter:
    def __init__(
        self,
        store: SensorStore,
        *,
        batch_size: int = 20_000,
        max_delay_s: float = 0.05,
        on_stored: Callable[[list[Reading]], None] | None = None,
        checks: ReadingChecks | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.on_stored = on_stored
        self.checks = checks if checks is not None else ReadingChecks()
        self.stats = IngestStats()
        self.restarts = 0
        self.last_restart: float | None = None  # time.time() of the last restart
        self.thread_error: str | None = None  # why the thread last died
        self._restarting = False
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._held: _Batch | None = None  # a batch collected but not yet stored (kept for a restarted thread)
        self._current: _Batch | None = None  # the batch the thread works on
        self._lock = threading.Lock()
        self._thread = self._new_thread()
        self._thread.start()

    # ------------------------------------------------------------ producers
    def submit(self, readings: list[Reading], done: Callable[[], None] | None = None, *, source: str = "ingest") -> int:
        """Queue readings to store; ``done`` is called once they (and the dead letters of the
        ones refused here) are stored. Returns how many readings passed the checks."""
        good, bad = self.checks.split(readings) if readings else ([], [])
        for r, problem in bad:
            self.reject(source, f"{r.asset}/{r.signal}"[:300], f"{r.asset}/{r.signal}: {problem}", _reading_json(r))
        self._queue.put(("readings", good, done, time.monotonic()))
        return len(good)

    def reject(self, source: str, topic: str | None, reason: str, payload: bytes | str | None) -> None:
        """Keep a rejected message with its reason (the payload is cut at 2 kB)."""
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else (payload or "")
        self.stats.rejected += 1
        self.stats.count_reason(reason)
        row = (datetime.now(UTC).replace(tzinfo=None), source, topic, reason[:500], text[:2048])
        self._queue.put(("dead", row, None, time.monotonic()))

    def store_now(self, readings: list[Reading], *, timeout: float = 10.0, source: str = "http") -> tuple[int, str | None]:
        """Submit and wait until stored: (readings that passed the checks, None) or (n, why not)."""
        if not self.alive:
            return 0, self.problem() or "the writer is not running"
        stored = threading.Event()
        n = self.submit(readings, stored.set, source=source)
        if not self.flush(timeout) and not stored.is_set():
            return n, f"the writer did not store the readings within {timeout:g} s ({self.problem() or 'busy'}); resending is safe"
        if not stored.is_set():
            return n, f"the store refused the readings: {self.stats.last_error or 'unknown error'}; resending is safe"
        return n, None

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything submitted so far is written; False if that took over ``timeout``."""
        event = threading.Event()
        self._queue.put(("flush", event, None, time.monotonic()))
        return event.wait(timeout)

    def close(self, stall_s: float = STALL_AFTER_S) -> int:
        """Write everything submitted so far, then stop the thread. Returns how many queued items
        were left unwritten (0 unless the writer made no progress for ``stall_s``; then it is said).

        Draining has no fixed deadline: after a flood the queue may take minutes to write, and
        stopping early would drop readings that were already accepted. It waits as long as
        batches keep being written, restarts a thread that died on the way, and gives up only on
        a writer that stands still.
        """
        if self._stop.is_set():
            return 0  # closed already
        self._queue.put(("stop", None, None, time.monotonic()))  # behind everything already queued
        last, still_since = self._progress(), time.monotonic()
        while True:
            self._thread.join(timeout=min(0.5, stall_s))
            if not self.alive:
                if self._stopped_cleanly():
                    break
                self.ensure_running()  # it died on the way: what it held and what is queued go on
                time.sleep(0.05)
                continue
            now = self._progress()
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since > stall_s:
                break
        self._stop.set()
        left = self.queued() + (0 if self._held is None else 1)
        if left:
            self.stats.last_error = f"closed with {left} item(s) not written: the writer made no progress for {stall_s:g} s"
            print(f"geniot: {self.stats.last_error}", flush=True)
        return left

    def _progress(self) -> tuple[int, int, int, int]:
        s = self.stats
        return (s.batches, s.write_errors, s.on_stored_errors, self.queued())

    def _stopped_cleanly(self) -> bool:
        """The thread ended on the stop item (not by dying)."""
        return self.queued() == 0 and self._held is None

    # ------------------------------------------------------------ supervision
    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def state(self) -> str:
        if self.alive:
            return "running"
        return "restarting" if self._restarting else "dead"

    def ensure_running(self) -> bool:
        """Restart the thread if it died (not when closed). True if it had to be restarted."""
        with self._lock:
            if self._stop.is_set() or self._thread.is_alive():
                return False
            self._restarting = True
            self.restarts += 1
            self.last_restart = time.time()
            self._thread = self._new_thread()
            self._thread.start()
            self._restarting = False
            return True

    def lag_s(self) -> float:
        """Age of the oldest submitted item not yet written (0 when idle)."""
        oldest = None
        held = self._held
        if held is not None and held.since is not None:
            oldest = held.since
        with self._queue.mutex:
            if self._queue.queue:
                head = self._queue.queue[0][3]
                oldest = head if oldest is None else min(oldest, head)
        return 0.0 if oldest is None else max(0.0, time.monotonic() - oldest)

    def queued(self) -> int:
        return self._queue.qsize()

    def problem(self) -> str | None:
        """Why ingest is not working now (dead thread or a stall), or None."""
        if not self.alive and not self._stop.is_set():
            return f"the writer thread is dead ({self.thread_error or 'unknown cause'})"
        lag = self.lag_s()
        if lag > STALL_AFTER_S:
            return f"ingest has stalled: the oldest waiting item is {lag:.0f} s old ({self.stats.last_error or 'no error'})"
        return None

    def _new_thread(self) -> threading.Thread:
        return threading.Thread(target=self._main, name="geniot-writer", daemon=True)

    def _main(self) -> None:
        try:
            self._run()
        except BaseException as exc:  # the supervisor sees it; a batch not yet stored is kept for the restart
            self.thread_error = f"{type(exc).__name__}: {exc}"[:500]
            self.stats.last_error = self.thread_error
            traceback.print_exc()
            current = self._current
            if current is not None:  # whoever waits on a flush looks at its own callback and says why
                for event in current.flushes:
                    event.set()
            raise

    # ------------------------------------------------------------ the thread
    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._held if self._held is not None else self._collect()
            self._held = self._current = batch
            try:
                self._write(batch)
            except Exception as exc:  # noqa: BLE001 - whatever happens, the thread goes on
                self.stats.last_error = f"{type(exc).__name__}: {exc}"[:500]
                traceback.print_exc()
            self._held = None
            for event in batch.flushes:
                event.set()
            if batch.stop:
                return

    def _collect(self) -> _Batch:
        batch = _Batch()
        deadline = None
        while len(batch.readings) < self.batch_size:
            timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
            try:
                kind, item, extra, submitted = self._queue.get(timeout=timeout)
            except queue.Empty:
                break
            if batch.since is None:
                batch.since = submitted
                self._held = batch
            if kind == "stop":
                batch.stop = True
                break
            if kind == "flush":
                batch.flushes.append(item)
                break
            if kind == "dead":
                batch.dead.append(item)
            else:
                batch.readings.extend(item)
                batch.parts.append((item, extra))
            if deadline is None:
                deadline = time.monotonic() + self.max_delay_s
        return batch

    def _write(self, batch: _Batch) -> None:
        if batch.empty():
            return
        try:
            self._store(batch.readings, batch.dead)
        except Exception as exc:  # noqa: BLE001 - retry one submission at a time
            self.stats.write_errors += 1
            self.stats.last_error = f"store: {type(exc).__name__}: {exc}"[:500]
            self._write_parts(batch)
            return
        self._held = None  # stored: a restarted thread must not run its hooks again
        self._after(batch.readings, [cb for _, cb in batch.parts])

    def _write_parts(self, batch: _Batch) -> None:
        """After a failed batch: each submission (and the dead letters) alone, so that one bad
        submission fails alone; its callbacks are not called (MQTT redelivers, HTTP says 503)."""
        if batch.dead:
            try:
                self.store.add_dead_letters(batch.dead)
            except Exception as exc:  # noqa: BLE001
                self.stats.write_errors += 1
                self.stats.last_error = f"store (dead letters): {type(exc).__name__}: {exc}"[:500]
                return  # the readings' callbacks wait too: their dead letters are not kept
        stored: list[Reading] = []
        callbacks = []
        for readings, cb in batch.parts:
            try:
                self._store(readings, [])
            except Exception as exc:  # noqa: BLE001
                self.stats.write_errors += 1
                self.stats.not_stored += len(readings)
                self.stats.last_error = f"store: {type(exc).__name__}: {exc}"[:500]
                continue
            stored.extend(readings)
            callbacks.append(cb)
        self._held = None
        self._after(stored, callbacks)

    def _store(self, readings: list[Reading], dead: list[tuple]) -> None:
        if dead:
            self.store.add_dead_letters(dead)
        if not readings:
            return
        frame = pd.DataFrame(
            {
                "ts": pd.to_datetime([r.ts for r in readings]),
                "asset": [r.asset for r in readings],
                "signal": [r.signal for r in readings],
                "value": [r.value for r in readings],
                "quality": [r.quality for r in readings],
            }
        )
        new = self.store.append_rows(frame)
        self.stats.received += len(readings)
        self.stats.stored += new
        self.stats.duplicates += len(readings) - new
        self.stats.batches += 1

    def _after(self, readings: list[Reading], callbacks) -> None:
        for cb in callbacks:
            if cb is None:
                continue
            try:
                cb()
            except Exception as exc:  # noqa: BLE001 - e.g. an ack on a closed connection
                self.stats.last_error = f"callback: {type(exc).__name__}: {exc}"[:500]
        if readings and self.on_stored is not None:
            try:
                self.on_stored(readings)
            except Exception as exc:  # noqa: BLE001 - scoring never stops ingest
                self.stats.on_stored_errors += 1
                self.stats.last_error = f"after store: {type(exc).__name__}: {exc}"[:500]


def _reading_json(r: Reading) -> str:
    value = r.value if r.value == r.value and abs(r.value) != float("inf") else str(r.value)
    return json.dumps({"ts": r.ts.isoformat(), "asset": r.asset, "signal": r.signal, "value": value, "quality": r.quality})
