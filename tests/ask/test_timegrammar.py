"""Every written form of "when" the grammar reads, English and German, with the exact range on the
plant clock of benchmarks/ask_eval/SCHEMA.md (now = Sunday 2026-01-11 23:59), and the forms it must
not answer over one range (ambiguous, future, several ranges)."""

from __future__ import annotations

from datetime import datetime

import pytest

from geniot.ask.shifts import parse_shifts
from geniot.ask.timewords import read_time
from geniot.core.exceptions import DataError

NOW = datetime(2026, 1, 11, 23, 59)
D7 = ["2026-01-07T00:00:00", "2026-01-08T00:00:00"]


@pytest.mark.parametrize(
    ("question", "want"),
    [
        # month names, day-month and month-day, with and without year, ordinals (English)
        ("max flow of P-1 on 7 January", D7),
        ("max flow of P-1 on 7th January", D7),
        ("max flow of P-1 on the 7th of January 2026", D7),
        ("max flow of P-1 on January 7", D7),
        ("max flow of P-1 on January 7th", D7),
        ("max flow of P-1 on Jan 7, 2026", D7),
        ("max flow of P-1 on jan. 7", D7),
        ("max flow of P-1 on 24 December", ["2025-12-24T00:00:00", "2025-12-25T00:00:00"]),
        ("max flow of P-1 on 12 January", ["2025-01-12T00:00:00", "2025-01-13T00:00:00"]),  # the latest 12 January
        # German
        ("maximaler Durchfluss von P-1 am 7. Januar", D7),
        ("maximaler Durchfluss von P-1 am 7. Januar 2026", D7),
        ("maximaler Durchfluss von P-1 am 7. Jan", D7),
        ("maximaler Durchfluss von P-1 am 24. Dezember", ["2025-12-24T00:00:00", "2025-12-25T00:00:00"]),
        # numeric
        ("on 2026-01-07", D7),
        ("am 07.01.2026", D7),
        ("am 7.1.", D7),
        ("am 07.01.26", D7),
        ("on 1/7/2026", D7),  # 7 January; 1 July 2026 is after the latest reading
        ("since 2026-01-08 12:00", ["2026-01-08T12:00:00", None]),
        ("on 2026/01/07", D7),
        ("on the 7th", D7),  # this month's
        ("am 7.", D7),
        ("on the 20th", ["2025-12-20T00:00:00", "2025-12-21T00:00:00"]),  # this month's is still to come
        # ranges of days
        ("from 2026-01-06 to 2026-01-08", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("vom 06.01.2026 bis 08.01.2026", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("between 6 and 8 January", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("from the 6th to the 8th of January", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("vom 6. bis 8. Januar", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("from January 6 to 8", ["2026-01-06T00:00:00", "2026-01-09T00:00:00"]),
        ("between Monday and Wednesday", ["2026-01-05T00:00:00", "2026-01-08T00:00:00"]),
        ("since 7 January until 9 January", ["2026-01-07T00:00:00", "2026-01-10T00:00:00"]),
        ("seit dem 7. Januar", ["2026-01-07T00:00:00", None]),
        ("until Wednesday", [None, "2026-01-08T00:00:00"]),
        ("before Wednesday", [None, "2026-01-07T00:00:00"]),
        ("after Wednesday", ["2026-01-08T00:00:00", None]),
        ("bis Mittwoch", [None, "2026-01-08T00:00:00"]),
        ("vor Mittwoch", [None, "2026-01-07T00:00:00"]),
        ("nach dem 8. Januar", ["2026-01-09T00:00:00", None]),
        # relative days, weeks, months, years
        ("today", ["2026-01-11T00:00:00", None]),
        ("heute", ["2026-01-11T00:00:00", None]),
        ("yesterday", ["2026-01-10T00:00:00", "2026-01-11T00:00:00"]),
        ("gestern", ["2026-01-10T00:00:00", "2026-01-11T00:00:00"]),
        ("vorgestern", ["2026-01-09T00:00:00", "2026-01-10T00:00:00"]),
        ("3 days ago", ["2026-01-08T00:00:00", "2026-01-09T00:00:00"]),
        ("vor 3 Tagen", ["2026-01-08T00:00:00", "2026-01-09T00:00:00"]),
        ("this week", ["2026-01-05T00:00:00", None]),
        ("diese Woche", ["2026-01-05T00:00:00", None]),
        ("last week", ["2025-12-29T00:00:00", "2026-01-05T00:00:00"]),
        ("vergangene Woche", ["2025-12-29T00:00:00", "2026-01-05T00:00:00"]),
        ("earlier this month", ["2026-01-01T00:00:00", None]),
        ("letzten Monat", ["2025-12-01T00:00:00", "2026-01-01T00:00:00"]),
        ("in December", ["2025-12-01T00:00:00", "2026-01-01T00:00:00"]),
        ("im Dezember 2025", ["2025-12-01T00:00:00", "2026-01-01T00:00:00"]),
        ("last year", ["2025-01-01T00:00:00", "2026-01-01T00:00:00"]),
        ("last weekend", ["2026-01-10T00:00:00", None]),
        # weekdays
        ("on Wednesday", D7),
        ("am Mittwoch", D7),
        ("last Wednesday", D7),
        ("since Friday", ["2026-01-09T00:00:00", None]),
        ("seit Montag", ["2026-01-05T00:00:00", None]),
        ("on Sunday", ["2026-01-11T00:00:00", None]),
        # durations
        ("for the last 3 hours", ["2026-01-11T20:59:00", None]),
        ("in the last 24 hours", ["2026-01-10T23:59:00", None]),
        ("in den letzten 2 Tagen", ["2026-01-09T23:59:00", None]),
        ("in der letzten Stunde", ["2026-01-11T22:59:00", None]),
        ("seit 3 Stunden", ["2026-01-11T20:59:00", None]),
        # parts of the day
        ("last night", ["2026-01-10T20:00:00", "2026-01-11T06:00:00"]),
        ("letzte Nacht", ["2026-01-10T20:00:00", "2026-01-11T06:00:00"]),
        ("this morning", ["2026-01-11T06:00:00", "2026-01-11T12:00:00"]),
        ("heute früh", ["2026-01-11T06:00:00", "2026-01-11T12:00:00"]),
        ("heute Vormittag", ["2026-01-11T06:00:00", "2026-01-11T12:00:00"]),
        ("this afternoon", ["2026-01-11T12:00:00", "2026-01-11T18:00:00"]),
        ("heute Nachmittag", ["2026-01-11T12:00:00", "2026-01-11T18:00:00"]),
        ("this evening", ["2026-01-11T18:00:00", None]),
        ("yesterday evening", ["2026-01-10T18:00:00", "2026-01-11T00:00:00"]),
        ("gestern Abend", ["2026-01-10T18:00:00", "2026-01-11T00:00:00"]),
        ("Wednesday night", ["2026-01-07T20:00:00", "2026-01-08T06:00:00"]),
        ("Mittwochnachmittag", ["2026-01-07T12:00:00", "2026-01-07T18:00:00"]),
        ("Donnerstag früh", ["2026-01-08T06:00:00", "2026-01-08T12:00:00"]),
        ("on Thursday morning", ["2026-01-08T06:00:00", "2026-01-08T12:00:00"]),
        ("on 7 January in the morning", ["2026-01-07T06:00:00", "2026-01-07T12:00:00"]),
        # clock times and ranges
        ("yesterday between 8 and 10 am", ["2026-01-10T08:00:00", "2026-01-10T10:00:00"]),
        ("between 8 and 10 am on 7 January", ["2026-01-07T08:00:00", "2026-01-07T10:00:00"]),
        ("yesterday from 14:00 to 16:30", ["2026-01-10T14:00:00", "2026-01-10T16:30:00"]),
        ("yesterday 06:00-14:00", ["2026-01-10T06:00:00", "2026-01-10T14:00:00"]),
        ("since yesterday 18:00", ["2026-01-10T18:00:00", None]),
        ("am Samstag zwischen 14:00 und 16:00", ["2026-01-10T14:00:00", "2026-01-10T16:00:00"]),
        ("yesterday 10 am to 2 pm", ["2026-01-10T10:00:00", "2026-01-10T14:00:00"]),
        ("gestern zwischen 8 und 10 Uhr", ["2026-01-10T08:00:00", "2026-01-10T10:00:00"]),
        ("am 7. Januar von 14 bis 16 Uhr", ["2026-01-07T14:00:00", "2026-01-07T16:00:00"]),
        ("gestern ab 14 Uhr", ["2026-01-10T14:00:00", "2026-01-11T00:00:00"]),
        ("gestern bis 9 Uhr", ["2026-01-10T00:00:00", "2026-01-10T09:00:00"]),
        ("yesterday after 6 pm", ["2026-01-10T18:00:00", "2026-01-11T00:00:00"]),
        ("between 8 and 10 am", ["2026-01-11T08:00:00", "2026-01-11T10:00:00"]),  # no day: today's
        ("yesterday at 14:00", ["2026-01-10T14:00:00", "2026-01-10T14:01:00"]),
        ("since Monday 14:00", ["2026-01-05T14:00:00", None]),
        # shifts (06-14, 14-22, 22-06)
        ("yesterday's early shift", ["2026-01-10T06:00:00", "2026-01-10T14:00:00"]),
        ("the late shift on Wednesday", ["2026-01-07T14:00:00", "2026-01-07T22:00:00"]),
        ("yesterday's night shift", ["2026-01-10T22:00:00", "2026-01-11T06:00:00"]),
        ("the last night shift", ["2026-01-10T22:00:00", "2026-01-11T06:00:00"]),
        ("the night shift", ["2026-01-11T22:00:00", None]),  # the one running now
        ("Frühschicht am Dienstag", ["2026-01-06T06:00:00", "2026-01-06T14:00:00"]),
        ("in der gestrigen Spätschicht", ["2026-01-10T14:00:00", "2026-01-10T22:00:00"]),
        ("letzte Nachtschicht", ["2026-01-10T22:00:00", "2026-01-11T06:00:00"]),
    ],
)
def test_time_forms(question, want):
    reading = read_time(question, NOW)
    assert reading.problem is None, reading.problem
    assert reading.range is not None and reading.range.as_slot() == want


def test_shift_hours_are_configurable():
    reading = read_time("yesterday's early shift", NOW, "05:30-13:30,13:30-21:30,21:30-05:30")
    assert reading.range.as_slot() == ["2026-01-10T05:30:00", "2026-01-10T13:30:00"]
    with pytest.raises(DataError, match="HH-HH"):
        parse_shifts("6-14,14-22")


@pytest.mark.parametrize(
    ("question", "why"),
    [
        ("tomorrow", "after the latest reading"),
        ("morgen", "after the latest reading"),
        ("next week", "after the latest reading"),
        ("on 2026-02-03", "after the latest reading"),
        ("on 5/6", "two different dates"),  # 6 May or 5 June, both in the past
        ("on 1/7", "two different dates"),  # 7 January or 1 July 2025
        ("on 31 February", "not a valid date"),
        ("on Monday and Friday", "more than one time range"),
        ("this week between 8 and 10 am", "several days"),
        ("every morning", "several separate times"),
        ("montags", "several separate times"),
        ("yesterday and in the last 3 hours", "more than one"),
    ],
)
def test_not_one_answerable_range(question, why):
    reading = read_time(question, NOW)
    assert reading.range is None and why in reading.problem


def test_no_time_words():
    reading = read_time("average flow of P-1", NOW)
    assert reading.range is None and reading.problem is None and reading.spans == []


@pytest.mark.parametrize("question", ["What if pump 1 runs at 1500 rpm?", "pumps 1 and 2", "P-1 am Montag", "pump 4 may fail"])
def test_numbers_that_are_not_times(question):
    reading = read_time(question, NOW)
    assert reading.problem is None
    assert reading.range is None or reading.range.as_slot() == ["2026-01-05T00:00:00", "2026-01-06T00:00:00"]


def test_forms_found_by_the_independent_half():
    """Calendar weeks, "earlier this week" (today excluded) and half an hour ahead."""
    from datetime import datetime

    from geniot.ask.timewords import find_duration, parse_time_range

    now = datetime(2026, 1, 11, 23, 59)
    assert parse_time_range("Mittelwert Motorstrom P-1 in KW 2", now).as_slot()[0] == "2026-01-05T00:00:00"
    assert parse_time_range("flow in calendar week 1 2026", now).as_slot() == ["2025-12-29T00:00:00", "2026-01-05T00:00:00"]
    assert parse_time_range("anomalies earlier this week", now).as_slot() == ["2026-01-05T00:00:00", "2026-01-11T00:00:00"]
    assert find_duration("vorhersage motorstrom p3 nächste halbe stunde")[0] == 30
