"""Messages of the data channel, read from a message log or built as they arrive.

A message log is the long readings layout (``ts, asset, signal, value[, quality]``) plus the
traffic columns :data:`TRAFFIC_COLUMNS` (``message`` numbers the rows of one message; ``topic``
and ``publisher`` name its MQTT topic and client; ``received_at`` is when the broker got it;
``payload_bytes`` its size). A plain readings file (no traffic columns) is read as one message
per asset and time step with no traffic side, and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.io import normalize_long

TRAFFIC_COLUMNS = ("message", "topic", "publisher", "received_at", "payload_bytes")
_NS = 1e-9


@dataclass
class Message:
    """One message: readings of one asset at one time (``ts``, Unix seconds, the sender's clock),
    and its traffic side (``received_at``: the receiver's clock; None when not known)."""

    asset: str
    ts: float
    values: dict[str, float]
    topic: str = ""
    publisher: str = ""
    received_at: float | None = None
    payload_bytes: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def arrival(self) -> float:
        return self.ts if self.received_at is None else self.received_at


def _seconds(values) -> np.ndarray:
    return pd.DatetimeIndex(values).as_unit("ns").asi8 * _NS  # a log's column may parse at microseconds


def read_message_log(path: str | Path) -> tuple[list[Message], list[str]]:
    """Messages of a CSV or Parquet file (message log or plain long readings), in arrival order,
    and notes on what was read (e.g. "no traffic columns")."""
    path = Path(path)
    if not path.is_file():
        raise DataError("the file does not exist", file=str(path))
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame = pd.read_parquet(path)
    elif suffix in (".csv", ".gz"):
        frame = pd.read_csv(path, low_memory=False)
    else:
        raise DataError("unsupported file type; use .csv or .parquet", file=str(path))
    return messages_from_frame(frame, source=str(path))


def messages_from_frame(frame: pd.DataFrame, *, source: str | None = None) -> tuple[list[Message], list[str]]:
    """Messages of a long frame (see the module text); errors name the file, row and column."""
    if len(frame) == 0:
        raise DataError("there are no data rows", file=source)
    frame = frame.rename(columns=lambda c: str(c).strip())
    long = normalize_long(frame, source=source)
    lower = {c.lower(): c for c in frame.columns}
    present = [c for c in TRAFFIC_COLUMNS if c in lower]
    notes = []
    if present and len(present) < len(TRAFFIC_COLUMNS):
        missing = [c for c in TRAFFIC_COLUMNS if c not in lower]
        raise DataError(f"a message log needs all of {', '.join(TRAFFIC_COLUMNS)}; missing {', '.join(missing)}", file=source)
    if not present:
        notes.append("no traffic columns (message, topic, publisher, received_at, payload_bytes): "
                     "only the physical consistency and replay checks run")  # fmt: skip
        long["_msg"] = pd.factorize(pd.MultiIndex.from_arrays([long["asset"], long["ts"]]))[0]
        return _group(long, None), notes
    traffic = pd.DataFrame({c: frame[lower[c]].to_numpy() for c in TRAFFIC_COLUMNS})
    received = pd.to_datetime(traffic["received_at"], errors="coerce", utc=True, format="mixed")
    bad = received.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataError(f"received_at {traffic['received_at'].iloc[i]!r} is not a time", file=source, column=lower["received_at"], row=i + 2)
    for col in ("message", "payload_bytes"):
        num = pd.to_numeric(traffic[col], errors="coerce")
        if num.isna().any():
            i = int(np.flatnonzero(num.isna().to_numpy())[0])
            raise DataError(f"{col} {traffic[col].iloc[i]!r} is not a number", file=source, column=lower[col], row=i + 2)
        traffic[col] = num.astype(np.int64)
    long["_msg"] = traffic["message"].to_numpy()
    long["_recv"] = received.dt.tz_localize(None).to_numpy()
    long["_topic"] = traffic["topic"].astype(str).to_numpy()
    long["_pub"] = traffic["publisher"].fillna("").astype(str).to_numpy()
    long["_bytes"] = traffic["payload_bytes"].to_numpy()
    return _group(long, "traffic"), notes


def _group(long: pd.DataFrame, traffic: str | None) -> list[Message]:
    long = long.sort_values("_msg", kind="stable")
    msg = long["_msg"].to_numpy()
    cuts = np.flatnonzero(np.diff(msg)) + 1
    starts = np.concatenate([[0], cuts])
    ends = np.concatenate([cuts, [len(msg)]])
    ts = _seconds(long["ts"])
    assets = long["asset"].to_numpy()
    signals = long["signal"].to_numpy()
    values = long["value"].to_numpy(dtype=np.float64)
    if traffic:
        recv = _seconds(long["_recv"])
        topics, pubs, size = long["_topic"].to_numpy(), long["_pub"].to_numpy(), long["_bytes"].to_numpy()
    out = []
    for s, e in zip(starts, ends, strict=True):
        vals = dict(zip(signals[s:e].tolist(), values[s:e].tolist(), strict=True))
        if traffic:
            out.append(Message(str(assets[s]), float(ts[s]), vals, str(topics[s]), str(pubs[s]), float(recv[s]), int(size[s])))
        else:
            out.append(Message(str(assets[s]), float(ts[s]), vals))
    out.sort(key=lambda m: m.arrival)
    return out
