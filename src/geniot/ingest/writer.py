"""Batched, acknowledged writes of readings into the store, and the dead-letter table.

Producers (the MQTT client, HTTP handlers, the in-process simulator) ``submit`` readings with an
optional callback; one writer thread collects them for up to ``max_delay_s`` or ``batch_size``
readings, stores the batch in one transaction, and only then calls the callbacks. The MQTT
client acknowledges a QoS 1 message in its callback, so a reading the broker considers delivered
is always already in the store.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pandas as pd

from geniot.data.store import SensorStore
from geniot.ingest.messages import Reading


@dataclass
class IngestStats:
    received: int = 0  # readings accepted by parsing
    stored: int = 0  # new rows in the store (duplicates are stored once)
    duplicates: int = 0
    rejected: int = 0  # messages or records that went to the dead-letter table
    batches: int = 0
    last_error: str | None = None
    reasons: dict[str, int] = field(default_factory=dict)


class BatchWriter:
    def __init__(
        self,
        store: SensorStore,
        *,
        batch_size: int = 20_000,
        max_delay_s: float = 0.05,
        on_stored: Callable[[list[Reading]], None] | None = None,
    ) -> None:
        self.store = store
        self.batch_size = batch_size
        self.max_delay_s = max_delay_s
        self.on_stored = on_stored
        self.stats = IngestStats()
        self._queue: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="geniot-writer", daemon=True)
        self._thread.start()

    def submit(self, readings: list[Reading], done: Callable[[], None] | None = None) -> None:
        self._queue.put((readings, done))

    def reject(self, source: str, topic: str | None, reason: str, payload: bytes | str | None) -> None:
        """Keep a rejected message with its reason (the payload is cut at 2 kB)."""
        text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else (payload or "")
        self.stats.rejected += 1
        key = reason.split(":")[0][:60]
        self.stats.reasons[key] = self.stats.reasons.get(key, 0) + 1
        self._queue.put(("dead", (datetime.now(UTC).replace(tzinfo=None), source, topic, reason[:500], text[:2048])))

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything submitted so far is stored."""
        event = threading.Event()
        self._queue.put(("flush", event))
        event.wait(timeout)

    def close(self) -> None:
        self.flush()
        self._stop.set()
        self._queue.put(("stop", None))
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.is_set():
            readings: list[Reading] = []
            callbacks: list[Callable[[], None]] = []
            dead: list[tuple] = []
            flushes: list[threading.Event] = []
            deadline = None
            while len(readings) < self.batch_size:
                timeout = None if deadline is None else max(0.0, deadline - time.monotonic())
                try:
                    item, extra = self._queue.get(timeout=timeout)
                except queue.Empty:
                    break
                if item == "stop":
                    break
                if item == "flush":
                    flushes.append(extra)
                    break
                if item == "dead":
                    dead.append(extra)
                else:
                    readings.extend(item)
                    if extra is not None:
                        callbacks.append(extra)
                if deadline is None:
                    deadline = time.monotonic() + self.max_delay_s
            self._write(readings, callbacks, dead)
            for event in flushes:
                event.set()

    def _write(self, readings: list[Reading], callbacks, dead) -> None:
        try:
            if dead:
                self.store.add_dead_letters(dead)
            if readings:
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
        except Exception as exc:  # keep serving; the callbacks are not called, so MQTT redelivers
            self.stats.last_error = f"{type(exc).__name__}: {exc}"
            return
        for cb in callbacks:
            cb()
        if readings and self.on_stored is not None:
            self.on_stored(readings)
