"""Events of a scored file as JSON (``geniot detect --events``): the same records, ids
``asset@start``, that live scoring stores and ``geniot-edge --print-events`` prints."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path


def event_rows(results) -> list[dict]:
    """One JSON-ready dict per event of ``{asset: (series, Detection)}``, in time order per asset."""
    rows = []
    for asset, (_series, detection) in results.items():
        for event in detection.events:
            message = dataclasses.replace(event, asset=asset).message(detection.threshold, "open" if event.is_open else "closed")
            rows.append(message | {"reason": detection.event_reason(event)})
    return rows


def write_events(results, out: Path) -> Path:
    out = Path(out)
    out.write_text(json.dumps(event_rows(results), indent=1))
    return out
