"""When a question asks about, in English or German, as a half-open range ``[start, end)`` on the
plant's clock (``end=None``: up to the latest reading).

Relative words resolve against ``now`` (the latest stored reading), so a question about a historic
store means what it would have meant when the data was live. Weeks start on Monday; a weekday is
the latest one at or before today. The rules for each form are in benchmarks/ask_eval/SCHEMA.md.

The grammar reads *atoms* (a day, a week, a clock time or range, a part of the day, a shift, the
last N hours...), joins a day with a time of day ("yesterday between 8 and 10 am"), applies
since/until/before/after and from–to, and returns the spans of the question it read; words that
look temporal but lie outside those spans are the caller's to report (``geniot.ask.unread``).
Dates written with month names go through ``dateparser`` (both languages, many written forms);
which day, week or shift is meant is decided here, on the plant's clock.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from geniot.ask.shifts import DEFAULT_SHIFTS, parse_shifts

_DAY = timedelta(days=1)
_MIN = timedelta(minutes=1)

_WEEKDAYS = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
    "tue": 1, "tues": 1, "wed": 2, "thu": 3, "thur": 3, "thurs": 3, "fri": 4, "sat": 5,
    "montag": 0, "dienstag": 1, "mittwoch": 2, "donnerstag": 3, "freitag": 4, "samstag": 5, "sonnabend": 5, "sonntag": 6,
}  # fmt: skip
_WEEKDAYS_DE = ("montag", "dienstag", "mittwoch", "donnerstag", "freitag", "samstag", "sonnabend", "sonntag")
_MONTHS = {
    "january": 1, "jan": 1, "januar": 1, "jänner": 1, "february": 2, "feb": 2, "februar": 2, "march": 3, "mar": 3,
    "märz": 3, "maerz": 3, "mrz": 3, "april": 4, "apr": 4, "may": 5, "mai": 5, "june": 6, "jun": 6, "juni": 6,
    "july": 7, "jul": 7, "juli": 7, "august": 8, "aug": 8, "september": 9, "sept": 9, "sep": 9, "october": 10,
    "oct": 10, "oktober": 10, "okt": 10, "november": 11, "nov": 11, "december": 12, "dec": 12, "dezember": 12, "dez": 12,
}  # fmt: skip
_UNITS = {
    "minute": 1, "minutes": 1, "min": 1, "mins": 1, "minuten": 1,
    "hour": 60, "hours": 60, "h": 60, "hrs": 60, "hr": 60, "stunde": 60, "stunden": 60, "std": 60,
    "day": 1440, "days": 1440, "tag": 1440, "tage": 1440, "tagen": 1440, "tages": 1440,
    "week": 10080, "weeks": 10080, "woche": 10080, "wochen": 10080,
}  # fmt: skip
_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "twelve": 12, "ein": 1, "eine": 1, "einer": 1, "einem": 1, "einen": 1, "zwei": 2,
    "drei": 3, "vier": 4, "fünf": 5, "sechs": 6, "sieben": 7, "acht": 8, "neun": 9, "zehn": 10, "zwölf": 12,
}  # fmt: skip
# Parts of the day (minutes after midnight); night runs into the next morning.
_PARTS = {
    "morning": (360, 720), "vormittag": (360, 720), "morgen": (360, 720), "früh": (360, 720),
    "afternoon": (720, 1080), "nachmittag": (720, 1080),
    "evening": (1080, 1440), "abend": (1080, 1440),
    "night": (1200, 360), "nacht": (1200, 360),
}  # fmt: skip
_SHIFT_WORDS = {
    "early": "early", "morning": "early", "first": "early", "früh": "early", "frueh": "early",
    "late": "late", "afternoon": "late", "evening": "late", "second": "late", "spät": "late", "spaet": "late",
    "night": "night", "third": "night", "nacht": "night",
}  # fmt: skip


def _alt(words) -> str:
    return "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))


_WD = _alt(_WEEKDAYS)
_MON = _alt(_MONTHS)
_MON_FULL = _alt(w for w in _MONTHS if len(w) > 3 and w not in ("mai", "may"))
_UNIT = _alt(_UNITS)
_NUM = r"\d+(?:[.,]\d+)?|" + _alt(_NUMBER_WORDS)
_ORD = r"(\d{1,2})(?:st|nd|rd|th|\.)?"
_YEAR = r"(?:,?\s*(\d{4}))?"
_TO = r"(?:-|–|to|and|und|bis|till|until|through)"
# A clock time: 14:00, 8:30 pm, 14 Uhr, 14.30 Uhr, 8 am, noon; a bare hour only inside a range.
# German "am" is "on the": "P-1 am 7. Januar", "am Montag" are no clock times.
_MER = r"(?:\s*(am(?!\s+(?:\d|[a-zäöü]+(?:tag|woch)\w*|wochenende|vormittag|nachmittag|abend|morgen|anfang|ende|ersten|letzten))|pm|a\.m\.|p\.m\.|uhr|o'clock|o’clock))"
_CLOCK = rf"(?:(?<![\d.:])(\d{{1,2}}):(\d{{2}})(?!\d){_MER}?|(?<![\d.:])(?<![a-z]-)(\d{{1,2}})(?:\.(\d{{2}}))?{_MER}(?!\w)|\b(noon|midday|midnight|mittag|mitternacht)\b)"
_HOUR = rf"(?:(?<![\d.:])(?<![a-z]-)(\d{{1,2}})(?!\d)(?:[:.](\d{{2}})(?!\d))?{_MER}?|(noon|midday|midnight|mittag|mitternacht))"
_NOT_VALUE = r"(?!\s*(?:%|bar|rpm|u/min|a\b|amps?|ampere|m3|m³|mm|°|grad|deg|kw|hz|prozent|percent))"


@dataclass(frozen=True)
class TimeRange:
    start: datetime | None
    end: datetime | None  # exclusive; None = up to the latest reading
    phrase: str  # the words it came from

    def as_slot(self) -> list[str | None]:
        return [_iso(self.start), _iso(self.end)]


@dataclass
class TimeReading:
    """What the grammar made of a question's time words."""

    range: TimeRange | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)  # character spans it read
    problem: str | None = None  # read, but not one answerable range (ambiguous, future, several)


def _iso(t: datetime | None) -> str | None:
    return None if t is None else t.strftime("%Y-%m-%dT%H:%M:%S")


def _number(text: str) -> float:
    text = text.lower()
    return float(_NUMBER_WORDS[text]) if text in _NUMBER_WORDS else float(text.replace(",", "."))


# ---------------------------------------------------------------------------- atoms
@dataclass
class _Atom:
    kind: str  # day | span | point | tod | problem
    start: int
    end: int
    value: tuple = ()
    latest: str = "started"  # a time of day alone: the latest one "started" or "completed"


@dataclass
class _Ctx:
    now: datetime
    today: datetime
    shifts: dict[str, tuple[int, int]]


def _latest_weekday(today: datetime, weekday: int) -> datetime:
    return today - (today.weekday() - weekday) % 7 * _DAY


def _clock_minutes(h: str | None, m: str | None, mer: str | None, word: str | None) -> int | None:
    if word:
        return 720 if word in ("noon", "midday", "mittag") else 0
    hour, minute = int(h), int(m or 0)
    mer = (mer or "").replace(".", "")
    if mer in ("am", "pm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if mer == "pm" else 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        return None
    return hour * 60 + minute


def _parse_named_date(day: str, month: str, year: str | None, ctx: _Ctx) -> datetime | None:
    """A month-name date through dateparser: the latest such day at or before today when no year."""
    import dateparser

    settings = {"RELATIVE_BASE": ctx.today, "PREFER_DATES_FROM": "past", "DATE_ORDER": "DMY",
                "REQUIRE_PARTS": ["day", "month"], "PREFER_DAY_OF_MONTH": "first"}  # fmt: skip
    text = f"{int(day)} {month.rstrip('.')}" + (f" {year}" if year else "")
    found = dateparser.parse(text, languages=["en", "de"], settings=settings)
    return None if found is None else datetime(found.year, found.month, found.day)


def _numeric_date(d: int, m: int, y: str | None, ctx: _Ctx) -> datetime | None:
    try:
        if y:
            year = int(y) + (2000 if len(y) == 2 else 0)
            return datetime(year, m, d)
        day = datetime(ctx.today.year, m, d)
        return day if day <= ctx.today else datetime(ctx.today.year - 1, m, d)
    except ValueError:
        return None


def _day_atom(m: re.Match, first: datetime | None, last: datetime | None = None) -> _Atom:
    if first is None or (last is not None and last < first):
        return _Atom("problem", m.start(), m.end(), ("is not a valid date",))
    return _Atom("day", m.start(), m.end(), (first, (last or first) + _DAY))


def _a_named_dm(m, ctx):
    if m.group(2) == "may" and not m.group(3) and not re.search(r"\b(?:on|the|since|until|from|of|before|after|by)\s+$", m.string[: m.start()]):
        return None  # "pump 4 may be failing"
    return _day_atom(m, _parse_named_date(m.group(1), m.group(2), m.group(3), ctx))


def _a_named_md(m, ctx):
    return _day_atom(m, _parse_named_date(m.group(2), m.group(1), m.group(3), ctx))


def _a_named_dm_range(m, ctx):
    last = _parse_named_date(m.group(2), m.group(3), m.group(4), ctx)
    first = None if last is None else _parse_named_date(m.group(1), m.group(3), str(last.year), ctx)
    return _day_atom(m, first, last)


def _a_named_md_range(m, ctx):
    last = _parse_named_date(m.group(3), m.group(1), m.group(4), ctx)
    first = None if last is None else _parse_named_date(m.group(2), m.group(1), str(last.year), ctx)
    return _day_atom(m, first, last)


def _a_iso(m, ctx):
    try:
        day = datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return _day_atom(m, None)
    if m.group(4):
        t = day + timedelta(hours=int(m.group(4)), minutes=int(m.group(5)))
        return _Atom("point", m.start(), m.end(), (t, t))
    return _day_atom(m, day)


def _a_de_date(m, ctx):
    return _day_atom(m, _numeric_date(int(m.group(1)), int(m.group(2)), m.group(3), ctx))


def _a_slash_date(m, ctx):
    """mm/dd[/yyyy] (US) or dd/mm[/yyyy]: taken when only one reading is a valid past date."""
    a, b, y = int(m.group(1)), int(m.group(2)), m.group(3)
    if m.group(0) == "24/7":
        return None
    readings = {d for d in (_numeric_date(b, a, y, ctx), _numeric_date(a, b, y, ctx)) if d is not None and d <= ctx.today}
    if len(readings) == 1:
        return _day_atom(m, readings.pop())
    if not readings:
        return _day_atom(m, None)
    return _Atom("problem", m.start(), m.end(), ("could be read as two different dates; write it as 2026-01-07 or 7 January",))


def _a_day_of_month(m, ctx):
    """"the 8th", "am 8.": that day of this month, or of the last one when it is still to come."""
    day = int(m.group(1) or m.group(2))
    first = ctx.today.replace(day=1)
    for start in (first, (first - _DAY).replace(day=1)):
        try:
            found = start.replace(day=day)
        except ValueError:
            continue
        if found <= ctx.today:
            return _Atom("day", m.start(), m.end(), (found, found + _DAY))
    return _day_atom(m, None)


def _a_month(m, ctx):
    month, year = _MONTHS[m.group(1)], m.group(2)
    first = datetime(int(year) if year else ctx.today.year, month, 1)
    if not year and first > ctx.today:
        first = first.replace(year=first.year - 1)
    nxt = (first + 32 * _DAY).replace(day=1)
    return _Atom("day", m.start(), m.end(), (first, nxt))


def _a_relday(days_back: int):
    def build(m, ctx):
        day = ctx.today - days_back * _DAY
        return _Atom("day", m.start(), m.end(), (day, day + _DAY))

    return build


def _a_days_ago(m, ctx):
    n = _number(m.group(1) or m.group(2) or m.group(3))
    if n != int(n):
        return None
    day = ctx.today - int(n) * _DAY
    return _Atom("day", m.start(), m.end(), (day, day + _DAY))


def _a_weeks_ago(m, ctx):
    n = _number(m.group(1) or m.group(2))
    monday = ctx.today - ctx.today.weekday() * _DAY - int(n) * 7 * _DAY
    return _Atom("day", m.start(), m.end(), (monday, monday + 7 * _DAY))


def _a_time_ago(m, ctx):
    n = _number(m.group(1) or m.group(3))
    t = ctx.now - timedelta(minutes=n * _UNITS[m.group(2) or m.group(4)])
    return _Atom("point", m.start(), m.end(), (t, t))


def _a_last_n(m, ctx):
    n = 1.0 if m.group(1) is None else _number(m.group(1))
    return _Atom("span", m.start(), m.end(), (ctx.now - timedelta(minutes=n * _UNITS[m.group(2)]), None))


def _a_week(offset: int):
    def build(m, ctx):
        monday = ctx.today - ctx.today.weekday() * _DAY - offset * 7 * _DAY
        return _Atom("day", m.start(), m.end(), (monday, monday + 7 * _DAY))

    return build


def _a_earlier_this_week(m, ctx):
    """From Monday up to the start of today (today is "this week" but not "earlier")."""
    monday = ctx.today - ctx.today.weekday() * _DAY
    if monday == ctx.today:
        return _Atom("problem", m.start(), m.end(), ("is empty on a Monday",))
    return _Atom("day", m.start(), m.end(), (monday, ctx.today))


def _a_iso_week(m, ctx):
    """An ISO calendar week ("KW 2", "calendar week 2", "week 2 of 2026"): Monday to Monday."""
    year = int(m.group(2)) if m.group(2) else ctx.today.isocalendar().year
    try:
        monday = datetime.fromisocalendar(year, int(m.group(1)), 1)
    except ValueError:
        return _Atom("problem", m.start(), m.end(), ("is not a calendar week",))
    return _Atom("day", m.start(), m.end(), (monday, monday + 7 * _DAY))


def _a_month_rel(offset: int):
    def build(m, ctx):
        first = ctx.today.replace(day=1)
        if offset:
            first = (first - _DAY).replace(day=1)
        return _Atom("day", m.start(), m.end(), (first, (first + 32 * _DAY).replace(day=1)))

    return build


def _a_year_rel(offset: int):
    def build(m, ctx):
        first = ctx.today.replace(month=1, day=1, year=ctx.today.year - offset)
        return _Atom("day", m.start(), m.end(), (first, first.replace(year=first.year + 1)))

    return build


def _a_weekend(m, ctx):
    saturday = _latest_weekday(ctx.today, 5)  # this weekend on Saturday and Sunday, else the last one
    return _Atom("day", m.start(), m.end(), (saturday, saturday + 2 * _DAY))


def _a_weekday(m, ctx):
    day = _latest_weekday(ctx.today, _WEEKDAYS[m.group(1)])
    return _Atom("day", m.start(), m.end(), (day, day + _DAY))


def _a_weekday_part(m, ctx):
    day = _latest_weekday(ctx.today, _WEEKDAYS[m.group(1)])
    return _span_on(m, day, _PARTS[m.group(2)])


def _a_relday_part(m, ctx):
    back = {"heute": 0, "gestern": 1, "vorgestern": 2, "today": 0, "yesterday": 1, "this": 0}[m.group(1)]
    return _span_on(m, ctx.today - back * _DAY, _PARTS[m.group(2)])


def _span_on(m, day: datetime, minutes: tuple[int, int]) -> _Atom:
    a, b = minutes
    end = day + timedelta(minutes=b) + (_DAY if b <= a else timedelta(0))
    return _Atom("span", m.start(), m.end(), (day + timedelta(minutes=a), end))


def _a_night(m, ctx):
    # In the day, "last night"/"tonight" is the night that ended this morning; late in the
    # evening, "tonight" is the night now running.
    if m.group(0).strip() == "tonight" and ctx.now.hour >= 20:
        return _Atom("span", m.start(), m.end(), (ctx.today + timedelta(hours=20), None))
    return _Atom("span", m.start(), m.end(), (ctx.today - _DAY + timedelta(hours=20), ctx.today + timedelta(hours=6)))


def _a_part(m, ctx):
    return _Atom("tod", m.start(), m.end(), _PARTS[m.group(1)])


def _a_shift(m, ctx):
    which = _SHIFT_WORDS[m.group(2)]
    latest = "completed" if m.group(1) and m.group(1).startswith(("last", "prev", "letzt", "vorig", "vergang")) else "started"
    return _Atom("tod", m.start(), m.end(), ctx.shifts[which], latest=latest)


def _clock_from(m, i: int) -> tuple[int | None, bool]:
    """(minutes, whether it was written as a clock time) from the 4 groups of ``_HOUR`` at ``i``."""
    h, mm, mer, word = m.group(i, i + 1, i + 2, i + 3)
    strong = bool(word or mer or (mm and ":" in m.group(0)))
    return (None if h is None and word is None else _clock_minutes(h, mm, mer, word)), strong


def _a_clock_range(m, ctx):
    prefix = m.group(1)
    (a, strong_a), (b, strong_b) = _clock_from(m, 2), _clock_from(m, 6)
    mer_a, mer_b = m.group(4), m.group(8)
    if mer_b and not mer_a and mer_b.replace(".", "") in ("am", "pm") and m.group(2):  # "8 to 10 am", "10 to 2 pm"
        h_a, h_b = int(m.group(2)), int(m.group(6))
        mer = mer_b.replace(".", "")
        first_mer = mer if h_a % 12 <= h_b % 12 else ("am" if mer == "pm" else "pm")
        a = _clock_minutes(m.group(2), m.group(3), first_mer, None)
    if a is None or b is None:
        return None
    if not (strong_a or strong_b) and prefix not in ("between", "zwischen"):
        return None  # "from 2 to 4" could be anything; "between 8 and 10" is hours
    return _Atom("tod", m.start(), m.end(), (a, b))


def _a_clock_bound(m, ctx):
    a = _clock_minutes(m.group(2), m.group(3), m.group(4), None) if m.group(2) else None
    a = _clock_minutes(m.group(5), m.group(6), m.group(7), m.group(8)) if a is None and (m.group(5) or m.group(8)) else a
    if a is None:
        return None
    word = m.group(1)
    if word in ("until", "till", "bis", "before", "vor", "up to", "prior to"):
        return _Atom("tod", m.start(), m.end(), (None, a))
    return _Atom("tod", m.start(), m.end(), (a, None))


def _a_clock(m, ctx):
    a = _clock_minutes(m.group(1), m.group(2), m.group(3), None) if m.group(1) else None
    a = _clock_minutes(m.group(4), m.group(5), m.group(6), m.group(7)) if a is None and (m.group(4) or m.group(7)) else a
    if a is None:
        return None
    return _Atom("tod", m.start(), m.end(), (a, a))  # a point in time of day


def _a_future(m, ctx):
    return _Atom("problem", m.start(), m.end(), (f"is after the latest reading ({ctx.now:%Y-%m-%d %H:%M}); I only have the past",))


def _a_recurring(m, ctx):
    return _Atom("problem", m.start(), m.end(), ("means several separate times; ask about one day or one range",))


def _r(pattern: str, build) -> tuple[re.Pattern, object]:
    return re.compile(pattern), build


# Tiers: an earlier tier wins an overlap; within a tier the longest match wins.
_TIERS = (
    (  # dates written out
        _r(rf"\b(?:the\s+)?{_ORD}\s*{_TO}\s*(?:the\s+)?{_ORD}\s*(?:of\s+)?({_MON})\b\.?{_YEAR}", _a_named_dm_range),
        _r(rf"\b({_MON})\.?\s+{_ORD}\s*{_TO}\s*{_ORD}(?!\s*(?::|uhr|am\b|pm\b)){_YEAR}\b", _a_named_md_range),
        _r(rf"\b{_ORD}\s*(?:of\s+)?({_MON})\b\.?{_YEAR}", _a_named_dm),
        _r(rf"\b({_MON})\.?\s+(?:the\s+)?{_ORD}(?![\d:]|\s*(?:uhr|am\b|pm\b|h\b)){_YEAR}", _a_named_md),
        _r(r"\b(\d{4})-(\d{1,2})-(\d{1,2})(?:[ t](\d{1,2}):(\d{2})(?::\d{2})?)?\b", _a_iso),
        _r(r"\b(\d{4})/(\d{1,2})/(\d{1,2})(?:[ t](\d{1,2}):(\d{2})(?::\d{2})?)?\b", _a_iso),
        _r(r"\b(?:on\s+)?the\s+(\d{1,2})(?:st|nd|rd|th)\b(?!\s*(?:of\s+)?(?:" + _MON + r"))|\bam\s+(\d{1,2})\.(?![\d\s]*(?:" + _MON + r"|\d))", _a_day_of_month),
        _r(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d{4}|\d{2}(?!\d))?(?![\d:])", _a_de_date),
        _r(r"(?<![\d/])(\d{1,2})/(\d{1,2})(?:/(\d{4}|\d{2}))?(?![\d/])", _a_slash_date),
    ),
    (  # shifts, nights, days with a part of the day
        _r(r"\b(?:(last|previous|letzte[nr]?|vorige[nr]?|vergangene[nr]?|this|current|diese[nr]?|aktuelle[nr]?|laufende[nr]?|the)\s+)?"
           r"(early|morning|first|late|afternoon|evening|second|night|third)[\s-]+shifts?\b", _a_shift),
        _r(r"\b(?:(letzte[nr]?|vorige[nr]?|vergangene[nr]?|diese[nr]?|aktuelle[nr]?|laufende[nr]?|de[rnm])\s+)?"
           r"(früh|frueh|spät|spaet|nacht)schicht\w*", _a_shift),
        _r(r"\b(?:last night|tonight|overnight|this night|during the night|in the night|heute nacht|letzte nacht|"
           r"vergangene nacht|in der nacht|nachts|über nacht)\b", _a_night),
        _r(rf"\b({_alt(_WEEKDAYS_DE)})\s*(morgen|früh|vormittag|nachmittag|abend|nacht)\b", _a_weekday_part),
        _r(r"\b(heute|gestern|vorgestern)\s*(morgen|früh|vormittag|nachmittag|abend|nacht)\b", _a_relday_part),
        _r(r"\b(this|today|yesterday)\s+(morning|afternoon|evening)\b", _a_relday_part),
    ),
    (  # clock ranges and bounds
        _r(rf"\b(?:(between|zwischen|from|von|vom)\s+)?{_HOUR}\s*{_TO}\s*{_HOUR}\b{_NOT_VALUE}", _a_clock_range),
        _r(rf"\b(since|seit|after|nach|ab|from|starting at|until|till|bis|before|vor|up to|prior to)\s+(?:(?:um|at)\s+)?{_CLOCK}", _a_clock_bound),
        _r(rf"(?:\b(?:at|um|gegen)\s+)?{_CLOCK}", _a_clock),
    ),
    (  # relative days, weeks, months; durations
        _r(r"\b(?:kw|cw|calendar\s+week|kalenderwoche|week)\.?\s*(\d{1,2})\b(?:\s*(?:/|of|,|in)?\s*(\d{4})\b)?", _a_iso_week),
        _r(r"\b(?:the\s+)?day\s+before\s+yesterday\b|\bvorgestern\b", _a_relday(2)),
        _r(r"\b(?:yesterday|gestern|gestrige[nmrs]?)\b", _a_relday(1)),
        _r(r"\b(?:today|heute|heutige[nmrs]?)\b", _a_relday(0)),
        _r(rf"\b({_NUM})\s+days?\s+(?:ago|back)\b|\bvor\s+({_NUM})\s+tage?n?\b|\b({_NUM})\s+tage?\s+her\b", _a_days_ago),
        _r(rf"\b({_NUM})\s+weeks?\s+ago\b|\bvor\s+({_NUM})\s+wochen?\b", _a_weeks_ago),
        _r(rf"\b({_NUM})\s+(hours?|minutes?|mins?)\s+ago\b|\bvor\s+({_NUM})\s+(stunden?|minuten?)\b", _a_time_ago),
        _r(r"\bearlier\s+this\s+week\b|\bfrüher\s+(?:in\s+)?dieser\s+woche\b", _a_earlier_this_week),
        _r(r"\b(?:so far\s+)?(?:this|current|the current)\s+week\b|\b(?:diese|dieser|diesen|laufende[nr]?|aktuelle[nr]?)\s+woche\b", _a_week(0)),
        _r(r"\b(?:last|previous|the previous|prior)\s+week\b|\b(?:letzte[nr]?|vergangene[nr]?|vorige[nr]?)\s+woche\b", _a_week(1)),
        _r(r"\b(?:(?:earlier|so far)\s+)?(?:this|current|the current)\s+month\b|\b(?:diesen|dieser|diesem|laufende[nmr]?|aktuelle[nmr]?)\s+monat\b", _a_month_rel(0)),
        _r(r"\b(?:last|previous|the previous|prior)\s+month\b|\b(?:letzte[nmr]?|vergangene[nmr]?|vorige[nmr]?)\s+monat\b", _a_month_rel(1)),
        _r(r"\b(?:this|current|the current)\s+year\b|\b(?:dieses|diesem|laufende[nms]?)\s+jahr(?:es)?\b|\bheuer\b", _a_year_rel(0)),
        _r(r"\b(?:last|previous|the previous|prior)\s+year\b|\b(?:letzte[nms]?|vergangene[nms]?|vorige[nms]?)\s+jahr(?:es)?\b", _a_year_rel(1)),
        _r(r"\b(?:(?:last|this|the)\s+)?weekend\b|\b(?:(?:letzte[ns]?|vergangene[ns]?|diese[ns]?|am)\s+)?wochenende\b", _a_weekend),
        _r(rf"\b(?:last|past|previous|recent|preceding|letzte[nr]?|vergangene[nr]?|zurückliegende[nr]?|vorige[nr]?)\s+(?:({_NUM})\s+)?({_UNIT})\b", _a_last_n),
        _r(rf"\b(?:seit|since)\s+({_NUM})\s+({_UNIT})\b", _a_last_n),
        _r(rf"\b({_MON_FULL})\b(?:\s+(\d{{4}}))?", _a_month),
        _r(r"\b(?<=in |im )(may|mai)\b(?:\s+(\d{4}))?", _a_month),
    ),
    (  # weekdays, parts of the day, the future, recurring times
        _r(r"\b(?:tomorrow|übermorgen|morgen(?!s)|next\s+(?:week|month|year|" + _WD + r")|"
           r"(?:nächste[nrs]?|kommende[nrs]?)\s+(?:woche|monat|jahr|" + _WD + r"))\b", _a_future),
        _r(r"\b(?:mondays|tuesdays|wednesdays|thursdays|fridays|saturdays|sundays|weekdays|weekends|montags|dienstags|"
           r"mittwochs|donnerstags|freitags|samstags|sonntags|werktags|wochentags|mornings|evenings|afternoons|nights|"
           r"morgens|vormittags|nachmittags|abends|every\s+(?:day|morning|evening|night|week)|jeden\s+(?:tag|morgen|abend)|"
           r"daily|täglich|hourly|stündlich|per\s+(?:day|hour|week)|pro\s+(?:tag|stunde|woche))\b", _a_recurring),
        _r(rf"\b({_WD})\b", _a_weekday),
        _r(r"\b(?:(?:in the|during the|am|in der|im|des|der|at)\s+)?(morning|afternoon|evening|night|vormittag|nachmittag|abend|nacht)\b", _a_part),
    ),
)  # fmt: skip


def _atoms(q: str, ctx: _Ctx) -> list[_Atom]:
    chosen: list[_Atom] = []
    for tier in _TIERS:
        found = []
        for pattern, build in tier:
            for m in pattern.finditer(q):
                atom = build(m, ctx)
                if atom is not None and atom.end > atom.start:
                    found.append(atom)
        for atom in sorted(found, key=lambda a: a.start - a.end):
            if all(atom.end <= c.start or atom.start >= c.end for c in chosen):
                chosen.append(atom)
    return sorted(chosen, key=lambda a: a.start)


# ---------------------------------------------------------------------------- combining
_GLUE = re.compile(r"^[\s,]*(?:(?:at|um|on|am|of|in the|during the|during|in der|im|des|der|vom|von|gegen|,)\s+)?$")
_SINCE = re.compile(r"\b(since|seit|ab|starting|starting on|starting from|beginning|after|nach|from|vom|von|between|zwischen|"
                    r"until|till|bis|bis zum|bis zur|bis einschließlich|through|up to|before|vor|prior to)\s+"
                    r"(?:(?:the|dem|den|der|on|am)\s+)?$")  # fmt: skip
_RANGE_GAP = re.compile(r"^\s*(?:-|–|to|and|und|bis|till|until|through)\s+(?:(?:the|dem|den|zum|zur|on|am)\s+)?$|^\s*[-–]\s*$")


@dataclass
class _Expr:
    start: int
    end: int
    lo: datetime | None
    hi: datetime | None
    days: bool  # a calendar day (or several), not a clock span
    point: bool = False


def _apply_tod(day_lo: datetime, tod: tuple, now: datetime) -> tuple[datetime, datetime]:
    a, b = tod[0], tod[1]
    lo = day_lo + timedelta(minutes=a or 0)
    if a is not None and b is not None and a == b:  # a clock time: that minute
        return lo, lo
    if b is None:
        return lo, day_lo + _DAY
    hi = day_lo + timedelta(minutes=b)
    if a is not None and b <= a:
        hi += _DAY
    return lo, hi


def _latest_tod(tod: tuple, latest: str, ctx: _Ctx) -> tuple[datetime, datetime]:
    """A time of day with no day: the latest one that has started (or, "last ...", ended)."""
    for back in range(0, 3):
        lo, hi = _apply_tod(ctx.today - back * _DAY, tod, ctx.now)
        if lo <= ctx.now and (latest == "started" or hi <= ctx.now):
            return lo, hi
    return _apply_tod(ctx.today - 3 * _DAY, tod, ctx.now)


def read_time(question: str, now: datetime, shifts: str | dict | None = None) -> TimeReading:
    """The time range a question names, the spans read, or why it is not one answerable range."""
    q = question.lower()
    ctx = _Ctx(now, now.replace(hour=0, minute=0, second=0, microsecond=0),
               shifts if isinstance(shifts, dict) else parse_shifts(shifts or DEFAULT_SHIFTS))  # fmt: skip
    atoms = _atoms(q, ctx)
    reading = TimeReading(spans=[(a.start, a.end) for a in atoms])
    problems = [a for a in atoms if a.kind == "problem"]
    if problems:
        a = problems[0]
        reading.problem = f"«{question[a.start : a.end]}» {a.value[0]}"
        return reading
    if not atoms:
        return reading

    # 1. a day next to a time of day: "yesterday between 8 and 10", "the night shift on Wednesday"
    exprs: list[_Expr] = []
    tods: list[_Atom] = []
    pending = list(atoms)
    while pending:
        a = pending.pop(0)
        nxt = pending[0] if pending else None
        pair = nxt is not None and {a.kind, nxt.kind} == {"day", "tod"} and _GLUE.match(q[a.end : nxt.start])
        if pair:
            pending.pop(0)
            day, tod = (a, nxt) if a.kind == "day" else (nxt, a)
            exprs.append(_on_day(day, tod, min(a.start, nxt.start), max(a.end, nxt.end), ctx))
        elif a.kind == "tod":
            tods.append(a)
        else:
            lo, hi = a.value
            exprs.append(_Expr(a.start, a.end, lo, hi, days=a.kind == "day", point=a.kind == "point"))
    if any(e is None for e in exprs):
        reading.problem = f"«{_words(question, atoms)}» names a time of day over several days; ask about one day or one range"
        return reading

    # 2. from X to Y, since X, until Y, before X, after X
    joined: list[_Expr] = []
    i = 0
    while i < len(exprs):
        e = exprs[i]
        gap = _RANGE_GAP.match(q[e.end : exprs[i + 1].start]) if i + 1 < len(exprs) else None
        before = _SINCE.search(q[: e.start])
        listed = gap is not None and gap.group(0).strip().split()[0] in ("and", "und") and not (before and before.group(1) in ("between", "zwischen"))
        if gap and listed and exprs[i + 1].lo != e.hi:  # "Monday and Friday": two ranges, not Monday to Friday
            reading.problem = f"«{_words(question, atoms)}» names more than one time range; ask about one"
            return reading
        if gap:
            f = exprs[i + 1]
            start = before.start() if before else e.start
            joined.append(_Expr(start, f.end, e.lo, f.lo if f.point else f.hi, days=False))
            reading.spans.append((start, f.end))
            i += 2
            continue
        before = _SINCE.search(q[: e.start])
        if before:
            word = before.group(1)
            reading.spans.append((before.start(), e.end))
            if word in ("since", "seit", "ab", "starting", "starting on", "starting from", "beginning"):
                e = _Expr(before.start(), e.end, e.lo, None, days=False)
            elif word in ("after", "nach"):
                e = _Expr(before.start(), e.end, e.hi if not e.point else e.lo, None, days=False)
            elif word in ("until", "till", "bis", "bis zum", "bis zur", "bis einschließlich", "through", "up to"):
                e = _Expr(before.start(), e.end, None, e.lo if e.point else e.hi, days=False)
            elif word in ("before", "vor", "prior to"):
                e = _Expr(before.start(), e.end, None, e.lo, days=False)
        joined.append(e)
        i += 1
    # "since Monday until Wednesday": an open start and an open end make one range
    if len(joined) == 2 and joined[0].hi is None and joined[1].lo is None and joined[0].lo is not None:
        joined = [_Expr(joined[0].start, joined[1].end, joined[0].lo, joined[1].hi, days=False)]

    # 3. one range, perhaps with one time of day
    distinct = {(e.lo, e.hi) for e in joined}
    if len(distinct) > 1:
        reading.problem = f"«{_words(question, atoms)}» names more than one time range; ask about one"
        return reading
    if len(tods) > 1:
        reading.problem = f"«{_words(question, atoms)}» names more than one time of day; ask about one"
        return reading
    if joined and tods:
        e = joined[0]
        if not (e.days and e.lo is not None and e.hi is not None and e.hi - e.lo == _DAY):
            reading.problem = f"«{_words(question, atoms)}» names a time of day over several days; ask about one day or one range"
            return reading
        lo, hi = _apply_tod(e.lo, tods[0].value, now)
        e = _Expr(min(e.start, tods[0].start), max(e.end, tods[0].end), lo, hi, days=False, point=lo == hi)
    elif tods:
        lo, hi = _latest_tod(tods[0].value, tods[0].latest, ctx)
        e = _Expr(tods[0].start, tods[0].end, lo, hi, days=False, point=lo == hi)
    else:
        e = joined[0]
    lo, hi = e.lo, e.hi
    if e.point:
        hi = lo + _MIN
    if lo is not None and lo > now:
        reading.problem = f"«{_words(question, atoms)}» is after the latest reading ({now:%Y-%m-%d %H:%M}); I only have the past"
        return reading
    if hi is not None and hi > now:
        hi = None
    if lo is not None and hi is not None and hi <= lo:
        reading.problem = f"«{_words(question, atoms)}» ends before it starts"
        return reading
    start = min(s for s, _ in reading.spans)
    end = max(e for _, e in reading.spans)
    reading.range = TimeRange(lo, hi, " ".join(question[start:end].split()))
    return reading


def _on_day(day: _Atom, tod: _Atom, start: int, end: int, ctx: _Ctx) -> _Expr | None:
    lo, hi = day.value
    if hi - lo != _DAY:
        return None
    t_lo, t_hi = _apply_tod(lo, tod.value, ctx.now)
    return _Expr(start, end, t_lo, t_hi, days=False, point=t_lo == t_hi)


def _words(question: str, atoms: list[_Atom]) -> str:
    return " … ".join(question[a.start : a.end].strip() for a in atoms)


def parse_time_range(question: str, now: datetime, shifts: str | dict | None = None) -> TimeRange | None:
    """The time range a question names, or None (none named, or not one answerable range)."""
    return read_time(question, now, shifts).range


_HORIZON = re.compile(
    rf"\b(?:next|coming|following|ahead|nächsten|nächste|kommenden|folgenden|for|für|over the next|in|über)\s+(?:the\s+|die\s+|den\s+)?(?:({_NUM})\s+)?({_UNIT})\b"
)
_HORIZON_BARE = re.compile(rf"\b({_NUM})\s*-?\s*({_UNIT})\b(?!\s+(?:ago|zurück|her)\b)")


_HALF_HOUR = re.compile(r"\b(?:(?:next|coming|the next)\s+)?half\s+(?:an\s+)?hour\b|\b(?:(?:nächste|kommende|die nächste)\s+)?halbe\s+stunde\b")


def find_duration(question: str) -> tuple[int, tuple[int, int]] | None:
    """A forward-looking duration in minutes and its span ("next 6 hours", "in den nächsten 2 Stunden")."""
    q = question.lower()
    half = _HALF_HOUR.search(q)
    if half is not None:  # "the next half hour", "nächste halbe Stunde"
        return 30, (half.start(), half.end())
    m = _HORIZON.search(q)
    if m is None:  # "a 2-hour forecast", "6h ahead", "Prognose über 3 Stunden"
        m = _HORIZON_BARE.search(q)
        if m and re.search(rf"\b(?:last|past|previous|letzten|vergangenen)\s+{re.escape(m.group(0))}", q):
            m = None
    if m is None:
        return None
    n = 1.0 if m.group(1) is None else _number(m.group(1))
    return int(round(n * _UNITS[m.group(2)])), (m.start(), m.end())


def parse_duration_minutes(question: str) -> int | None:
    found = find_duration(question)
    return None if found is None else found[0]
