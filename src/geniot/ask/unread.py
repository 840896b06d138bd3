"""Words of a question that look like a constraint (a date, a time, a shift, a number with a unit, a
name of a machine or a measurement) and that no parser read.

The parsers report the character spans they read; anything found here outside those spans is
said back to the user instead of being dropped, because dropping it would answer a wider question
than the one asked.
"""

from __future__ import annotations

import re

from geniot.ask.timewords import _MONTHS, _WEEKDAYS

_MONTH_WORDS = "|".join(sorted((re.escape(m) for m in _MONTHS if m not in ("may", "mar", "jun", "jul", "aug", "sep")), key=len, reverse=True))
_WEEKDAY_WORDS = "|".join(sorted((re.escape(w) for w in _WEEKDAYS if w != "sat"), key=len, reverse=True))
_UNIT_WORDS = r"(?:minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|minuten|stunden?|tage?n?|tages|wochen?|monate?n?|jahre?n?|quarters?|quartale?)"
_MODIFIERS = r"(?:\d+|last|past|previous|next|this|per|each|every|few|several|couple of|other|letzte[nrm]?|vergangene[nrm]?|nächste[nrm]?|kommende[nrm]?|diese[nrm]?|pro|jede[nrm]?|paar|einige[nrm]?|ganze[nrm]?)"
_VALUE_UNITS = r"(?:%|percent|per cent|prozent|bar|rpm|u/min|1/min|upm|amps?|ampere|a(?![\w-])|m3/h|m³/h|m3|mm/s|°c|°|degc|deg|grad|kw|hz)"

_TEMPORAL = re.compile(
    "|".join(
        (
            rf"\b(?:{_MONTH_WORDS})\b",
            r"\b(?:may|mar|jun|jul|aug|sep)\b(?=\.?\s*\d)|(?<=\d\s)(?:may|mar|jun|jul|aug|sep)\b",
            rf"\b(?:{_WEEKDAY_WORDS})\w*",
            r"\d{1,4}[:./]\d{1,4}",
            r"\b\d+\s*(?:am|pm|a\.m\.|p\.m\.|uhr|o'clock|o’clock)(?!\w)",
            r"\buhr\b",
            r"\b\d{1,2}(?:st|nd|rd|th)\b",
            r"\bam\s+\d{1,2}\.",
            r"\b(?:from|von|vom|between|zwischen)\s+\d{1,2}\s*(?:to|bis|and|und|-|–)\s*\d{1,2}\b",
            rf"\b(?:early|late|mid|beginning|end|start|first half|second half|anfang|ende|mitte)\b-?(?=\s*(?:of\s+|des\s+|der\s+|dieser\s+|letzter\s+)?(?:the\s+|this\s+|last\s+)?(?:{_MONTH_WORDS}|may|week|month|year|woche|monats?|jahr\w*|{_WEEKDAY_WORDS}))",
            r"\b(?:shifts?|\w*schicht\w*)\b",
            r"\b(?:morning|mornings|afternoons?|evenings?|nights?|noon|midday|midnight|tonight|overnight|dawn|dusk)\b",
            r"\b(?:vormittags?|nachmittags?|abends?|nacht|nachts|mittags?|mitternacht|früh|morgens?|frühe[nm]?)\b",
            r"\b(?:today|yesterday|tomorrow|heute|gestern|vorgestern|übermorgen|heutige\w*|gestrige\w*)\b",
            r"\b(?:weekends?|wochenende\w*|weekly|monthly|daily|hourly|täglich|stündlich|wöchentlich|monatlich|quarter|quartal\w*)\b",
            rf"\b{_MODIFIERS}\s+{_UNIT_WORDS}\b",
            r"\b(?:week|month|year|woche|monat|monats|jahr|jahres)\b",
            r"\b\d+\s*(?:h|min)\b",
            r"\b(?:19|20)\d{2}\b(?!\s*(?:rpm|u/min))",
        )
    )
)
# Bare connectives are constraints only in a question about a time range ("until it fails" is no range).
_CONNECTIVES = re.compile(
    r"\b(?:since|seit|until|till|before|after|between|zwischen|bis|ago|prior to|starting|during|während)\b"
    r"|\b(?:nach|vor)\s+(?:de[mnr]|einem|einer|eine[nm]?)\b"  # "nach dem Lagerwechsel": after an event not in the data
)
_VALUE = re.compile(
    rf"(?<![\w.])\d+(?:[.,]\d+)?\s*{_VALUE_UNITS}"
    r"|\b(?:above|below|over|under|more than|less than|greater than|higher than|lower than|exceed\w*|at least|at most|"
    r"über|unter|mehr als|weniger als|größer als|kleiner als|höher als|niedriger als|oberhalb|unterhalb|mindestens|höchstens)\s+\d+"
)
# Measurements a pump plant might have but this one may not; named, they must be one of its signals.
_MEASURES = re.compile(
    r"\b(?:humidity|voltage|power|energy|torque|level|noise|oil|consumption|efficiency|cavitation|luftfeuchte\w*|"
    r"feuchtigkeit|spannung|leistung|energie\w*|drehmoment|füllstand|pegel|lärm|geräusch\w*|öl\w*|verbrauch\w*|wirkungsgrad)\b"
)
_CODE = re.compile(r"(?<![\w-])[A-Z]{1,4}-?\d+[A-Za-z]?(?![\w-])")


def _outside(start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return all(end <= s or start >= e for s, e in spans)


def unread_words(question: str, read: list[tuple[int, int]], *, known_names: set[str] = frozenset(),
                 signal_words: list[tuple[int, int]] = (), time_words: list[tuple[int, int]] | None = None,
                 connectives: bool = True) -> list[str]:  # fmt: skip
    """The constraint-like phrases of ``question`` outside the ``read`` spans, in order, as written.

    ``known_names``: asset names of the plant (lower case, with and without "-"); a code like "V-3"
    that is none of them is reported. ``signal_words``: spans where a signal phrase was read (a
    measurement word there is known).
    """
    q = question.lower()
    temporal = [(m.start(), m.end()) for m in _TEMPORAL.finditer(q) if _outside(m.start(), m.end(), read)]
    if connectives:
        temporal += [(m.start(), m.end()) for m in _CONNECTIVES.finditer(q) if _outside(m.start(), m.end(), read)]
    other = [(m.start(), m.end()) for m in _VALUE.finditer(q) if _outside(m.start(), m.end(), read)]
    other += [(m.start(), m.end()) for m in _MEASURES.finditer(q) if _outside(m.start(), m.end(), [*read, *signal_words])]
    for m in _CODE.finditer(question):
        name = m.group(0).lower()
        if name not in known_names and name.replace("-", "") not in known_names and _outside(m.start(), m.end(), read):
            other.append((m.start(), m.end()))
    phrases = _phrases(question, sorted(temporal), read if time_words is None else time_words)
    phrases += _phrases(question, sorted(other), [])
    return sorted(phrases, key=question.find)


def _phrases(question: str, found: list[tuple[int, int]], read: list[tuple[int, int]]) -> list[str]:
    """Neighbouring finds (at most a short word apart) as one phrase, with the read words next to
    them ("early" + "January": «early January»)."""
    marks = sorted([(s, e, True) for s, e in found] + [(s, e, False) for s, e in read])
    groups: list[list] = []
    for start, end, unread in marks:
        if groups and start - groups[-1][1] <= 6 and re.fullmatch(r"[\s\w.,'’-]{0,6}", question[groups[-1][1] : start] if start > groups[-1][1] else ""):
            groups[-1][1] = max(groups[-1][1], end)
            groups[-1][2] = groups[-1][2] or unread
        else:
            groups.append([start, end, unread])
    return [question[s:e].strip(" ,.") for s, e, unread in groups if unread]
