"""Event records to export, oldest first: from a store, or from an events CSV file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.store import SensorStore


def stored_events(store: SensorStore, *, asset: str | None = None, since=None) -> list[dict]:
    """Every stored event (of ``asset``, still running at or after ``since``), oldest first."""
    frame = store.events(asset, start=since, limit=max(store.count_events(), 1))
    return frame.iloc[::-1].to_dict("records")


def file_events(path: Path) -> list[dict]:
    """The rows of an events CSV (one event a row, as `geniot security detect --out` writes),
    empty cells as missing, each with its 1-based ``row`` for error messages."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"cannot read events: {exc}", file=str(path)) from None
    has = set(frame.columns)
    missing = [name for name, options in (("asset", {"asset"}), ("start", {"start", "start_ts"}), ("end", {"end", "end_ts"}))
               if not has & options]  # fmt: skip
    if missing:
        raise DataError(f"an events file needs the columns asset, start and end; missing {', '.join(missing)}", file=str(path))
    return [{k: (None if v == "" else v) for k, v in row.items()} | {"row": i + 1} for i, row in enumerate(frame.to_dict("records"))]
