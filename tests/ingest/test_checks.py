"""The one set of value, timestamp and name checks, and the fixed reason categories."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.core.settings import Settings
from geniot.ingest.checks import (
    REASON_KINDS,
    ReadingChecks,
    name_problem,
    reason_kind,
    times_problem,
    ts_problem,
    utc_now,
)
from geniot.ingest.messages import Reading


def test_ranges_exact_beats_glob_and_default_bound_applies_elsewhere():
    checks = ReadingChecks({"temp_*": [-50, 400], "temp_oil": [0, 150], "flow?": [0, 10]}, max_abs=1e6)
    assert checks.range_of("temp_oil") == (0.0, 150.0)
    assert checks.range_of("temp_bearing") == (-50.0, 400.0)
    assert checks.range_of("flow1") == (0.0, 10.0)
    assert checks.range_of("vibration") == (-1e6, 1e6)
    assert checks.value_problem("temp_oil", 151.0) is not None
    assert checks.value_problem("temp_bearing", 151.0) is None
    assert "physical range" in checks.value_problem("vibration", 2e6)
    assert "not finite" in checks.value_problem("vibration", float("nan"))


def test_default_bound_is_1e9():
    checks = ReadingChecks()
    assert checks.value_problem("x", 1e9) is None and checks.value_problem("x", -1e9) is None
    assert checks.value_problem("x", 1.0000001e9) is not None and checks.value_problem("x", 1e308) is not None


def test_ranges_come_from_settings_and_bad_settings_are_errors():
    checks = ReadingChecks.from_settings(Settings(signal_ranges='{"p*": [0, 16]}', max_abs_value=100))
    assert checks.range_of("pressure") == (0.0, 16.0) and checks.range_of("t") == (-100.0, 100.0)
    for bad in ("not json", "[1, 2]", '{"p": [2, 1]}', '{"p": [0]}', '{"p": ["a", "b"]}', '{"p": [0, Infinity]}'):
        with pytest.raises(DataError):
            ReadingChecks.from_settings(Settings(signal_ranges=bad))


def test_column_problem_finds_the_first_bad_row_and_allows_gaps():
    checks = ReadingChecks({"t": [0, 10]})
    assert checks.column_problem("t", np.array([1.0, np.nan, 10.0])) is None
    i, problem = checks.column_problem("t", np.array([1.0, np.nan, 11.0, -1.0]))
    assert i == 2 and "11" in problem
    assert checks.column_problem("t", np.array([1.0, np.inf]))[0] == 1


def test_timestamps_between_1970_and_now_plus_5_minutes():
    now = utc_now()
    assert ts_problem(datetime(1970, 1, 1), now) is None
    assert "before 1970" in ts_problem(datetime(1969, 12, 31, 23, 59), now)
    assert ts_problem(now + timedelta(minutes=4), now) is None
    assert "future" in ts_problem(now + timedelta(minutes=6), now)
    times = np.array(["2020-01-01", "2021-01-01", "1960-01-01"], dtype="datetime64[ns]")
    assert times_problem(times)[0] == 2
    assert times_problem(np.array(["9999-01-01"], dtype="datetime64[s]"))[0] == 0
    assert times_problem(times[:2]) is None


def test_readings_split_by_every_rule():
    now = utc_now()
    rs = [
        Reading(now, "P-1", "t", 1.0),
        Reading(now, "..", "t", 1.0),
        Reading(now, "P-1", "a\nb", 1.0),
        Reading(datetime(1900, 1, 1), "P-1", "t", 1.0),
        Reading(now, "P-1", "t", 1e308),
    ]
    good, bad = ReadingChecks().split(rs, now)
    assert good == rs[:1] and [r for r, _ in bad] == rs[1:]


def test_name_problem_is_the_name_rule():
    assert name_problem("P-1", "asset") is None
    for bad in ("..", ".", "a/b", "a\n", "x" * 129, "", " a", 5):
        assert name_problem(bad, "asset") is not None


def test_reason_kinds_are_a_fixed_small_set_without_user_text():
    reasons = [
        "payload of 70000 bytes is over the 65536-byte limit",
        "payload is nested deeper than 16 levels",
        "not valid JSON: Expecting value: line 1 column 1 (char 0)",
        "signal 'evil-name-1234' is not a valid name (...)",
        "unknown field(s) ['colour']; allowed: ['quality', 'ts', 'value']",
        "missing field 'ts'",
        "ts 2030-01-01T00:00:00 is in the future (now 2026-01-01T00:00:00)",
        "ts 1900-01-01T00:00:00 is before 1970-01-01",
        "value 1e+308 of 'x' is outside its physical range [-1e+09, 1e+09]",
        "value must be a number, got str 'high'",
        "something nobody foresaw with user text 'zzz'",
    ]
    kinds = [reason_kind(r) for r in reasons]
    assert kinds == ["payload-too-large", "too-deeply-nested", "not-json", "bad-name", "unknown-field", "missing-field",
                     "timestamp-in-future", "timestamp-too-old", "out-of-range", "wrong-type", "other"]  # fmt: skip
    assert set(kinds) <= set(REASON_KINDS) and len(REASON_KINDS) <= 21
