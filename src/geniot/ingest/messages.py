"""Parse readings from MQTT messages and JSON bodies, rejecting bad ones with a reason.

MQTT topics are hierarchical, ``<site>/<area>/<asset>/<signal>`` carrying
``{"ts": ..., "value": ...}``, or ``<site>/<area>/<asset>`` carrying a per-asset object
``{"ts": ..., "values": {"<signal>": ..., ...}}`` (as ThingsBoard, Node-RED and Telegraf send).
The asset is the topic level above the signal (or the last level for a per-asset object).

``ts`` is an ISO-8601 string (a zone is converted to UTC; none means UTC) or a Unix time in
seconds (milliseconds when above 1e11). ``quality`` (0..1) is optional. Anything else is an
error that names the problem: bad JSON, unknown or missing fields, wrong types, NaN or inf,
a timestamp before 1970 or too far in the future, an oversize or too deeply nested payload.
Names go through :func:`geniot.core.names.check_name`; timestamps and (given ``checks``) value
ranges through :mod:`geniot.ingest.checks`, the checks every ingest path shares.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from geniot.ingest.checks import FUTURE_TOLERANCE, ReadingChecks, name_problem, ts_problem

MAX_PAYLOAD_BYTES = 64 * 1024
MAX_SIGNALS_PER_RECORD = 1000  # one machine's readings at one time; more is a flood, not a reading
MAX_DEPTH = 16  # a reading needs 3 levels (batch, record, values); more is an attack or a mistake
_STRUCTURE = re.compile(rb'[\[\]{}"\\]')
__all__ = ["FUTURE_TOLERANCE", "MAX_DEPTH", "MAX_PAYLOAD_BYTES", "IngestError", "Reading", "nesting_over",
           "loads_body", "parse_json_batch", "parse_mqtt_message", "parse_record", "parse_ts"]  # fmt: skip
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


def nesting_over(data: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether JSON text nests arrays/objects deeper than ``limit`` (brackets inside strings do
    not count). Cheap: a payload with at most ``limit`` brackets is never scanned, and the scan
    stops at the first level too deep."""
    if data.count(b"[") + data.count(b"{") <= limit:
        return False
    depth, in_string, skip = 0, False, -1
    for m in _STRUCTURE.finditer(data):
        pos = m.start()
        if pos == skip:
            continue  # the character after a backslash
        c = data[pos]
        if c == 0x5C:  # backslash
            skip = pos + 1
        elif c == 0x22:  # quote
            in_string = not in_string
        elif in_string:
            continue
        elif c in (0x5B, 0x7B):
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _loads(payload: bytes | str, limit: int) -> object:
    data = payload.encode("utf-8", "surrogatepass") if isinstance(payload, str) else bytes(payload)
    if len(data) > limit:
        raise IngestError(f"payload of {len(data)} bytes is over the {limit}-byte limit")
    if nesting_over(data):
        raise IngestError(f"payload is nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(data, parse_constant=_reject_constant)
    except IngestError:
        raise
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise IngestError(f"not valid JSON: {exc}") from None
    except RecursionError:  # the depth scan makes this unreachable; kept as the last line of defence
        raise IngestError("payload is too deeply nested") from None


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
    naive = stamp.astimezone(UTC).replace(tzinfo=None)
    now_naive = None if now is None else (now.astimezone(UTC).replace(tzinfo=None) if now.tzinfo else now)
    problem = ts_problem(naive, now_naive, field=field)
    if problem is not None:
        raise IngestError(problem)
    return naive


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise IngestError(f"{what} must be a number, got {type(value).__name__} {value!r}"[:200])
    if not math.isfinite(value):
        raise IngestError(f"{what} is not finite")
    return float(value)


def _name(value: str, what: str) -> str:
    problem = name_problem(value, what)
    if problem is not None:
        raise IngestError(problem)
    return value


def _value(checks: ReadingChecks | None, signal: str, value: object, what: str) -> float:
    number = _number(value, what)
    if checks is not None:
        problem = checks.value_problem(signal, number, what=what)
        if problem is not None:
            raise IngestError(problem)
    return number


def _quality(obj: dict) -> float:
    if "quality" not in obj:
        return 1.0
    q = _number(obj["quality"], "quality")
    if not 0.0 <= q <= 1.0:
        raise IngestError(f"quality must be between 0 and 1, got {q}")
    return q


def parse_record(
    obj: object, asset: str, signal: str | None, *, now: datetime | None = None, checks: ReadingChecks | None = None
) -> list[Reading]:
    """Readings from one object: ``{"ts", "value"}`` for ``signal``, or ``{"ts", "values"}``.
    With ``checks``, a value outside its signal's physical range is an error too."""
    if not isinstance(obj, dict):
        raise IngestError(f"expected a JSON object, got {type(obj).__name__}")
    if "values" in obj and signal is not None and "value" not in obj:
        signal = None  # a per-asset object on a deeper topic: the last level is the asset
    allowed = _SINGLE_FIELDS if signal is not None else _MULTI_FIELDS
    unknown = sorted(set(obj) - allowed)
    if unknown:
        raise IngestError(f"unknown field(s) {[str(u)[:64] for u in unknown[:10]]}; allowed: {sorted(allowed)}")
    if "ts" not in obj:
        raise IngestError("missing field 'ts'")
    ts = parse_ts(obj["ts"], now=now)
    quality = _quality(obj)
    if signal is not None:
        if "value" not in obj:
            raise IngestError("missing field 'value'")
        name = _name(signal, "signal")
        return [Reading(ts, asset, name, _value(checks, name, obj["value"], "value"), quality)]
    values = obj.get("values")
    if not isinstance(values, dict) or not values:
        raise IngestError("'values' must be a non-empty object of signal: number")
    if len(values) > MAX_SIGNALS_PER_RECORD:  # a flood of new names would bloat every list of signals
        raise IngestError(f"too many signals in one record: {len(values)} (at most {MAX_SIGNALS_PER_RECORD})")
    out = []
    for k, v in values.items():
        name = _name(k, "signal")
        out.append(Reading(ts, asset, name, _value(checks, name, v, f"values.{name}"), quality))
    return out


def parse_mqtt_message(
    topic: str,
    payload: bytes,
    *,
    now: datetime | None = None,
    limit: int = MAX_PAYLOAD_BYTES,
    checks: ReadingChecks | None = None,
) -> list[Reading]:
    """Readings from one MQTT message, or :class:`IngestError` with the reason. Nothing else
    escapes: an unexpected failure while parsing is an IngestError too (the message becomes a
    dead letter; the network thread that called this lives on)."""
    try:
        return _parse_mqtt(topic, payload, now=now, limit=limit, checks=checks)
    except IngestError:
        raise
    except Exception as exc:  # noqa: BLE001 - containment: one message never stops ingest
        raise IngestError(f"the message could not be parsed ({type(exc).__name__}: {str(exc)[:200]})") from None


def _parse_mqtt(topic: str, payload: bytes, *, now, limit: int, checks) -> list[Reading]:
    obj = _loads(payload, limit)
    levels = [level for level in topic.split("/") if level]
    if not levels:
        raise IngestError(f"topic {topic[:200]!r} names no asset")
    is_multi = isinstance(obj, dict) and "values" in obj and "value" not in obj
    if is_multi:
        return parse_record(obj, _name(levels[-1], "asset"), None, now=now, checks=checks)
    if len(levels) < 2:
        raise IngestError(f"topic {topic[:200]!r} needs <asset>/<signal> for a single value")
    return parse_record(obj, _name(levels[-2], "asset"), levels[-1], now=now, checks=checks)


def loads_body(body: bytes, limit: int) -> object:
    """An HTTP JSON body, with the same bounds as a message (size, nesting, strict numbers)."""
    return _loads(body, limit)


def parse_json_batch(
    body: object, *, now: datetime | None = None, checks: ReadingChecks | None = None
) -> tuple[list[Reading], list[tuple[int, str]]]:
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
            good.extend(parse_record(rest, _name(asset, "asset"), signal, now=now, checks=checks))
        except IngestError as exc:
            bad.append((i, exc.reason))
        except Exception as exc:  # noqa: BLE001 - one record never fails the batch
            bad.append((i, f"the record could not be parsed ({type(exc).__name__}: {str(exc)[:200]})"))
    return good, bad
