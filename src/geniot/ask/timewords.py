"""Time words in a question ("last night", "seit Montag", "2026-01-07", "letzte 24 Stunden") as a
half-open range ``[start, end)`` on the plant's clock; ``end=None`` means up to the latest reading.

Relative words resolve against ``now`` (the latest stored reading), so a question about a
historic store means what it would have meant when the data was live. Weeks start on Monday.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

_DAY = timedelta(days=1)
_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonntag": 6,
}  # fmt: skip
_UNITS = {
    "minute": 1, "minutes": 1, "min": 1, "mins": 1, "minute(n)": 1, "minuten": 1,
    "hour": 60, "hours": 60, "h": 60, "hrs": 60, "hr": 60, "stunde": 60, "stunden": 60, "std": 60,
    "day": 1440, "days": 1440, "tag": 1440, "tage": 1440, "tagen": 1440, "tages": 1440,
    "week": 10080, "weeks": 10080, "woche": 10080, "wochen": 10080,
}  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "twelve": 12, "ein": 1, "eine": 1, "einer": 1, "einem": 1, "zwei": 2, "drei": 3, "vier": 4, "fünf": 5,
    "sechs": 6, "sieben": 7, "acht": 8, "zwölf": 12,
}  # fmt: skip
_UNIT_RE = "|".join(sorted((re.escape(u) for u in _UNITS), key=len, reverse=True))
_NUM_RE = r"\d+(?:[.,]\d+)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True))

_ISO = r"(\d{4}-\d{2}-\d{2})(?:[ T](\d{1,2}:\d{2}))?"
_DE_DATE = r"(\d{1,2})\.(\d{1,2})\.(\d{4})"
_DATE = rf"(?:{_ISO}|{_DE_DATE})"


@dataclass(frozen=True)
class TimeRange:
    start: datetime | None
    end: datetime | None  # exclusive; None = up to the latest reading
    phrase: str  # the words it came from

    def as_slot(self) -> list[str | None]:
        return [_iso(self.start), _iso(self.end)]


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S")


def _number(text: str) -> float:
    text = text.lower()
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text.replace(",", "."))


def _date_from(match: re.Match, offset: int) -> datetime:
    """A date from the groups of ``_DATE`` starting at ``offset``: ISO (date, time) or German."""
    iso, clock, d, m, y = match.group(offset, offset + 1, offset + 2, offset + 3, offset + 4)
    if iso:
        day = datetime.fromisoformat(iso)
        if clock:
            hh, mm = clock.split(":")
            return day.replace(hour=int(hh), minute=int(mm))
        return day
    return datetime(int(y), int(m), int(d))


def _has_clock(match: re.Match, offset: int) -> bool:
    return bool(match.group(offset + 1))


def _latest_weekday(today: datetime, weekday: int) -> datetime:
    return today - (today.weekday() - weekday) % 7 * _DAY


def parse_time_range(question: str, now: datetime) -> TimeRange | None:
    """The first time range the question names, or None."""
    q = question.lower()
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for rule in _RULES:
        match = re.search(rule.pattern, q)
        if match:
            start, end = rule.resolve(match, now, today)
            return TimeRange(start, end, question[match.start() : match.end()].strip())
    return None


@dataclass(frozen=True)
class _Rule:
    pattern: str
    resolve: object  # (match, now, today) -> (start, end)


def _between(m, now, today):
    start, end = _date_from(m, 1), _date_from(m, 6)
    return start, end if _has_clock(m, 6) else end + _DAY


def _since_date(m, now, today):
    return _date_from(m, 1), None


def _on_date(m, now, today):
    day = _date_from(m, 1)
    return (day, None) if _has_clock(m, 1) else (day, day + _DAY)


def _last_n(m, now, today):
    n = 1.0 if m.group(1) is None else _number(m.group(1))
    return now - timedelta(minutes=n * _UNITS[m.group(2)]), None


def _since_weekday(m, now, today):
    return _latest_weekday(today, _WEEKDAYS[m.group(1)]), None


def _on_weekday(m, now, today):
    day = _latest_weekday(today, _WEEKDAYS[m.group(1)])
    return day, (day + _DAY if day < today else None)


def _fixed(days_back: int, start_h: int = 0, end_h: int | None = 24):
    """A span of a day ``days_back`` before today, from ``start_h`` to ``end_h`` (None = now)."""

    def resolve(m, now, today):
        day = today - days_back * _DAY
        end = None if end_h is None or (days_back == 0 and end_h == 24) else day + timedelta(hours=end_h)
        return day + timedelta(hours=start_h), end

    return resolve


def _night(m, now, today):
    # In the day, "last night"/"tonight" is the night that ended this morning; late in the
    # evening, "tonight" is the night now running.
    if "tonight" in m.group(0) and now.hour >= 20:
        return today + timedelta(hours=20), None
    return today - _DAY + timedelta(hours=20), today + timedelta(hours=6)


def _this_week(m, now, today):
    return today - today.weekday() * _DAY, None


def _last_week(m, now, today):
    monday = today - today.weekday() * _DAY
    return monday - 7 * _DAY, monday


def _this_month(m, now, today):
    return today.replace(day=1), None


def _last_month(m, now, today):
    first = today.replace(day=1)
    return (first - _DAY).replace(day=1), first


_WEEKDAY_RE = "|".join(_WEEKDAYS)
_RULES = (
    _Rule(rf"\b(?:from|between|vom|von|zwischen)\s+(?:dem\s+)?{_DATE}\s+(?:to|and|until|till|bis(?:\s+zum)?|und)\s+(?:dem\s+)?{_DATE}", _between),
    _Rule(rf"\b(?:since|after|seit(?:\s+dem)?|ab(?:\s+dem)?)\s+{_DATE}", _since_date),
    _Rule(rf"{_DATE}", _on_date),
    _Rule(r"\b(?:last week|previous week|letzte woche|letzten woche|vergangene woche|vergangenen woche|vorige woche|vorigen woche)\b", _last_week),
    _Rule(rf"\b(?:last|past|previous|recent|letzten?|vergangenen?|zurückliegenden?)\s+(?:({_NUM_RE})\s+)?({_UNIT_RE})\b", _last_n),
    _Rule(rf"\b(?:seit|since)\s+(?:(?:last|dem|letztem|letzten)\s+)?({_WEEKDAY_RE})\b", _since_weekday),
    _Rule(r"\b(?:day before yesterday|vorgestern)\b", _fixed(2)),
    _Rule(r"\b(?:last night|tonight|overnight|this night|during the night|heute nacht|letzte nacht|vergangene nacht|in der nacht|nachts|über nacht)\b", _night),
    _Rule(r"\b(?:yesterday|gestern)\b", _fixed(1)),
    _Rule(r"\b(?:this morning|heute morgen|heute früh|heute vormittag)\b", _fixed(0, 6, 12)),
    _Rule(r"\b(?:this afternoon|heute nachmittag)\b", _fixed(0, 12, 18)),
    _Rule(r"\b(?:this evening|heute abend)\b", _fixed(0, 18, None)),
    _Rule(r"\b(?:today|so far today|heute|heutigen?)\b", _fixed(0)),
    _Rule(r"\b(?:this week|current week|so far this week|diese woche|dieser woche|diese woche bisher|laufenden woche)\b", _this_week),
    _Rule(r"\b(?:last month|letzten monat|letzter monat|vergangenen monat)\b", _last_month),
    _Rule(r"\b(?:this month|diesen monat|dieser monat|diesem monat)\b", _this_month),
    _Rule(rf"\b(?:on|am|on last)\s+({_WEEKDAY_RE})\b", _on_weekday),
    _Rule(rf"\b({_WEEKDAY_RE})\b", _on_weekday),
)  # fmt: skip


def parse_duration_minutes(question: str) -> int | None:
    """A forward-looking duration ("next 6 hours", "in den nächsten 2 Stunden", "for 30 minutes")."""
    q = question.lower()
    m = re.search(
        rf"\b(?:next|coming|following|ahead|nächsten|kommenden|folgenden|for|für|over the next|in)\s+(?:the\s+)?(?:({_NUM_RE})\s+)?({_UNIT_RE})\b",
        q,
    )
    if m is None:  # "a 2-hour forecast", "6h ahead", "Prognose über 3 Stunden"
        m = re.search(rf"\b({_NUM_RE})\s*-?\s*({_UNIT_RE})\b(?!\s+(?:ago|zurück|her)\b)", q)
        if m and re.search(rf"\b(?:last|past|previous|letzten|vergangenen)\s+{re.escape(m.group(0))}", q):
            m = None
    if m is None:
        return None
    n = 1.0 if m.group(1) is None else _number(m.group(1))
    return int(round(n * _UNITS[m.group(2)]))
