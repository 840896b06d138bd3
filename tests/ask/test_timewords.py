from datetime import datetime

import pytest

from geniot.ask.timewords import parse_duration_minutes, parse_time_range

NOW = datetime(2026, 1, 11, 23, 59)  # a Sunday


@pytest.mark.parametrize(
    ("question", "start", "end"),
    [
        ("anomalies yesterday?", "2026-01-10T00:00:00", "2026-01-11T00:00:00"),
        ("what happened last night", "2026-01-10T20:00:00", "2026-01-11T06:00:00"),
        ("since Monday", "2026-01-05T00:00:00", None),
        ("seit Freitag", "2026-01-09T00:00:00", None),
        ("am Mittwoch", "2026-01-07T00:00:00", "2026-01-08T00:00:00"),
        ("in the last 24 hours", "2026-01-10T23:59:00", None),
        ("in den letzten 2 Tagen", "2026-01-09T23:59:00", None),
        ("this week", "2026-01-05T00:00:00", None),
        ("letzte Woche", "2025-12-29T00:00:00", "2026-01-05T00:00:00"),
        ("on 2026-01-07", "2026-01-07T00:00:00", "2026-01-08T00:00:00"),
        ("am 07.01.2026", "2026-01-07T00:00:00", "2026-01-08T00:00:00"),
        ("from 2026-01-06 to 2026-01-08", "2026-01-06T00:00:00", "2026-01-09T00:00:00"),
        ("vom 06.01.2026 bis 08.01.2026", "2026-01-06T00:00:00", "2026-01-09T00:00:00"),
        ("since 2026-01-08 12:00", "2026-01-08T12:00:00", None),
        ("day before yesterday", "2026-01-09T00:00:00", "2026-01-10T00:00:00"),
        ("heute früh", "2026-01-11T06:00:00", "2026-01-11T12:00:00"),
    ],
)
def test_time_words(question, start, end):
    assert parse_time_range(question, NOW).as_slot() == [start, end]


def test_no_time_words():
    assert parse_time_range("average flow of P-1", NOW) is None


def test_forecast_horizons():
    assert parse_duration_minutes("for the next 6 hours") == 360
    assert parse_duration_minutes("in den nächsten 30 Minuten") == 30
    assert parse_duration_minutes("next hour") == 60
    assert parse_duration_minutes("forecast the flow") is None
