"""Small helpers shared by the routers: time parameters and JSON-safe frames."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from fastapi import HTTPException

from geniot.core.exceptions import GeniotError
from geniot.core.names import check_name


def parse_time(value: str | None, name: str):
    if value is None or value == "":
        return None
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise HTTPException(422, f"{name} {value!r} is not a time (use ISO 8601)") from None
    if stamp is pd.NaT:
        raise HTTPException(422, f"{name} {value!r} is not a time (use ISO 8601)")
    return stamp.tz_convert("UTC").tz_localize(None) if stamp.tz is not None else stamp


def name_param(value: str | None, what: str) -> str | None:
    """A name from a path or query parameter, by the one name rule (422 naming it otherwise)."""
    if value is None:
        return None
    try:
        return check_name(value, what)
    except GeniotError as exc:
        raise HTTPException(422, str(exc)) from None


def clean(value):
    """JSON-safe: NaN/inf and NaT become null, numpy scalars plain numbers, times ISO strings."""
    if value is pd.NaT:  # a missing time (e.g. an event column only security events fill)
        return None
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | np.datetime64):
        return pd.Timestamp(value).isoformat()
    return value


def frame_records(frame: pd.DataFrame) -> list[dict]:
    return [{k: clean(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]


def iso_list(timestamps) -> list[str]:
    return [pd.Timestamp(t).isoformat() for t in timestamps]
