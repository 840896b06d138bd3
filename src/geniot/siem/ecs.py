"""One event as an Elastic Common Schema (ECS) document, written as one JSON line.

ECS fields where ECS has them (``@timestamp``, ``event.*``, ``host.name`` for the asset the
event is about, ``observer.*`` for the geniot host that raised it, ``message``); everything
geniot adds lives under ``geniot.*``. ``event.category`` uses ECS's allowed values: a process
(physical) anomaly is ``host`` (ECS's ``process`` means an operating-system process), a
data-integrity attack ``intrusion_detection``, a traffic anomaly ``network`` +
``intrusion_detection``.
"""

from __future__ import annotations

import json
import math
from datetime import datetime

from geniot import __version__
from geniot.siem.record import EventRecord, severity_of

ECS_VERSION = "8.11.0"
CATEGORIES = {"process": ["host"], "integrity": ["intrusion_detection"], "traffic": ["network", "intrusion_detection"]}


def ecs_document(record: EventRecord, *, observer: str) -> dict:
    """The ECS document of one event; ``observer`` is the host name of the geniot that raised it."""
    event = {
        "kind": "alert",
        "category": CATEGORIES.get(record.kind, ["intrusion_detection"]),
        "type": ["info"],
        "action": f"{record.kind}-{record.state}",
        "id": record.id,
        "start": _iso(record.start),
        "end": _iso(record.end),
        "module": "geniot",
        "dataset": "geniot.events",
    }
    severity = severity_of(record)
    if severity is not None:
        event["severity"] = severity
    if record.reason:
        event["reason"] = record.reason
    return {
        "@timestamp": _iso(record.time),
        "message": f"{record.title} {record.state} on {record.asset}" + (f": {record.reason}" if record.reason else ""),
        "ecs": {"version": ECS_VERSION},
        "event": event,
        "host": {"name": record.asset},
        "observer": {"hostname": observer, "product": "geniot", "vendor": "geniot", "version": __version__},
        "geniot": {
            "event": {
                "id": record.id, "asset": record.asset, "kind": record.kind, "state": record.state,
                "attack": record.attack, "sensors": list(record.sensors),
                "peak": None if record.peak is None else _iso(record.peak),
                "peak_score": _finite(record.peak_score), "threshold": _finite(record.threshold),
                "unscorable": record.peak_score is not None and math.isinf(record.peak_score),
                "source": record.source, "detected": None if record.detected is None else _iso(record.detected),
            }
        },
    }  # fmt: skip


def ecs_line(record: EventRecord, *, observer: str) -> str:
    """The document as one line of JSON (UTF-8 text as is; no NaN or Infinity, which JSON lacks)."""
    return json.dumps(ecs_document(record, observer=observer), ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _iso(value: datetime) -> str:
    return value.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
