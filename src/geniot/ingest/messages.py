"""Parse readings from MQTT messages and JSON bodies, rejecting bad ones with a reason.

MQTT topics are hierarchical, ``<site>/<area>/<asset>/<signal>`` carrying
``{"ts": ..., "value": ...}``, or ``<site>/<area>/<asset>`` carrying a per-asset object
``{"ts": ..., "values": {"<signal>": ..., ...}}`` (as ThingsBoard, Node-RED and Telegraf send).
The asset is the topic level above the signal (or the last level for a per-asset object).

``ts`` is an ISO-8601 string (a zone is converted to UTC; none means UTC) or a Unix time in
seconds (milliseconds when above 1e11). ``quality`` (0..1) is optional. Anything else is an
error that names the problem: bad JSON, unknown or missing fields, wrong types, NaN or inf,
a timestamp too far in the future, an oversize payload.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MAX_PAYLOAD_BYTES = 64 * 1024
FUTURE_TOLERANCE = timedelta(minutes=5)
_NAME = re.compile(r"^[A-Za-z0-9_.\-: ]{1,128}$")
_SINGLE_FIELDS = {"ts", "value", "quality"}
_MULTI_FIELDS = {"ts", "values", "quality"}


class IngestError(ValueError):
    """A message or record that cannot become readings; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Reading:
    ts: datetime  # naive UTC
    asset: str
    signal: str
    value: float
    quality: float = 1.0


def _reject_constant(token: str):
    raise IngestError(f"{token} is not a number JSON allows")


def _loads(payload: bytes | str, limit: int) -> object:
    size = len(payload.encode() if isinstance(payload, str) else payload)
    if size > limit:
        raise IngestError(f"payload of {size} bytes is over the {limit}-byte limit")
    try:
        return json.loads(payload, parse_constant=_reject_constant)
    except IngestError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"not valid JSON: {exc}") from None


def parse_ts(value, *, now: datetime | None = None, field: str = "ts") -> datetime:
    if isinstance(value, bool) or value is None:
        raise IngestError(f"{field} must be an ISO-8601 string or a Unix time, got {value!r}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise IngestError(f"{field} is not finite")
        seconds = value / 1000.0 if value > 1e11 else float(value)
        try:
            stamp = datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError):
            raise IngestError(f"{field} {value!r} is out of range") from None
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00") if value.strip().endswith("Z") else value.strip()
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            raise IngestError(f"{field} {value!r} is not an ISO-8601 time") from None
        stamp = stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)
    else:
        raise IngestError(f"{field} must be an ISO-8601 string or a Unix time, got {type(value).__name__}")
    now = now or datetime.now(UTC)
    if stamp > now + FUTURE_TOLERANCE:
        raise IngestError(f"{field} {stamp.isoformat()} is in the future (now {now.isoformat(timespec='seconds')})")
    return stamp.replace(tzinfo=None)


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IngestError(f"{what} must be a number, got {type(value).__name__} {value!r}"[:200])
    if not math.isfinite(value):
        raise IngestError(f"{what} is not finite")
    return float(value)


def _name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise IngestError(f"{what} {value[:64]!r} is not a valid name (letters, digits, _ . - : space; at most 128)")
    return value


def _quality(obj: dict) -> float:
    if "quality" not in obj:
        return 1.0
    q = _number(obj["quality"], "quality")
    if not 0.0 <= q <= 1.0:
        raise IngestError(f"quality must be between 0 and 1, got {q}")
    return q


def parse_record(obj: object, asset: str, signal: str | None, *, now: datetime | None = None) -> list[Reading]:
    """Readings from one object: ``{"ts", "value"}`` for ``signal``, or ``{"ts", "values"}``."""
    if not isinstance(obj, dict):
        raise IngestError(f"expected a JSON object, got {type(obj).__name__}")
    if "values" in obj and signal is not None and "value" not in obj:
        signal = None  # a per-asset object on a deeper topic: the last level is the asset
    allowed = _SINGLE_FIELDS if signal is not None else _MULTI_FIELDS
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise IngestError(f"unknown field(s) {unknown}; allowed: {sorted(allowed)}")
    if "ts" not in obj:
        raise IngestError("missing field 'ts'")
    ts = parse_ts(obj["ts"], now=now)
    quality = _quality(obj)
    if signal is not None:
        if "value" not in obj:
            raise IngestError("missing field 'value'")
        return [Reading(ts, asset, _name(signal, "signal"), _number(obj["value"], "value"), quality)]
    values = obj.get("values")
    if not isinstance(values, dict) or not values:
        raise IngestError("'values' must be a non-empty object of signal: number")
    return [Reading(ts, asset, _name(str(k), "signal"), _number(v, f"values.{k}"), quality) for k, v in values.items()]


def parse_mqtt_message(
    topic: str, payload: bytes, *, now: datetime | None = None, limit: int = MAX_PAYLOAD_BYTES
) -> list[Reading]:
    """Readings from one MQTT message, or :class:`IngestError` with the reason."""
    obj = _loads(payload, limit)
    levels = [level for level in topic.split("/") if level]
    if not levels:
        raise IngestError(f"topic {topic!r} names no asset")
    is_multi = isinstance(obj, dict) and "values" in obj and "value" not in obj
    if is_multi:
        return parse_record(obj, _name(levels[-1], "asset"), None, now=now)
    if len(levels) < 2:
        raise IngestError(f"topic {topic!r} needs <asset>/<signal> for a single value")
    return parse_record(obj, _name(levels[-2], "asset"), levels[-1], now=now)


def parse_json_batch(body: object, *, now: datetime | None = None) -> tuple[list[Reading], list[tuple[int, str]]]:
    """An HTTP batch: a list of ``{"asset", "signal", "ts", "value"}`` or ``{"asset", "ts",
    "values"}`` records. Returns the readings of good records and (index, reason) of bad ones."""
    if not isinstance(body, list):
        raise IngestError("the body must be a JSON array of records")
    good: list[Reading] = []
    bad: list[tuple[int, str]] = []
    for i, rec in enumerate(body):
        try:
            if not isinstance(rec, dict):
                raise IngestError(f"expected an object, got {type(rec).__name__}")
            asset = rec.get("asset")
            if not isinstance(asset, str):
                raise IngestError("missing or non-text field 'asset'")
            rest = {k: v for k, v in rec.items() if k not in ("asset", "signal")}
            signal = rec.get("signal")
            if signal is not None and not isinstance(signal, str):
                raise IngestError("field 'signal' must be text")
            good.extend(parse_record(rest, _name(asset, "asset"), signal, now=now))
        except IngestError as exc:
            bad.append((i, exc.reason))
    return good, bad
