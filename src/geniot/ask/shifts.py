"""Shift hours of a plant ("06-14,14-22,22-06": early, late and night shift), from the settings.

A shift is a time of day; which day it falls on is the time grammar's business. The night shift
ends after midnight (its end hour is below its start hour).
"""

from __future__ import annotations

import re

from geniot.core.exceptions import DataError

SHIFT_NAMES = ("early", "late", "night")
DEFAULT_SHIFTS = "06-14,14-22,22-06"

_PART = re.compile(r"^\s*(\d{1,2})(?::(\d{2}))?\s*-\s*(\d{1,2})(?::(\d{2}))?\s*$")


def parse_shifts(text: str | None) -> dict[str, tuple[int, int]]:
    """``{"early": (start_minute, end_minute), ...}`` from "HH[:MM]-HH[:MM]" thrice, comma-separated."""
    parts = (text or DEFAULT_SHIFTS).split(",")
    if len(parts) != len(SHIFT_NAMES):
        raise DataError(f"shift hours {text!r}: need {len(SHIFT_NAMES)} comma-separated HH-HH ranges (early, late, night)")
    out = {}
    for name, part in zip(SHIFT_NAMES, parts, strict=True):
        m = _PART.match(part)
        if m is None:
            raise DataError(f"shift hours {text!r}: {part.strip()!r} is not HH-HH or HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g or 0) for g in m.groups())
        start, end = h1 * 60 + m1, h2 * 60 + m2
        if not (0 <= start < 1440 and 0 <= end <= 1440 and start != end % 1440):
            raise DataError(f"shift hours {text!r}: {part.strip()!r} is not a span of hours within a day")
        out[name] = (start, end)
    return out
