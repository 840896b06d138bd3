"""A broker log's arrival times with microseconds are read as the times they are (pandas parses
such a column at microsecond resolution; counting it as nanoseconds put them in 1970)."""

from __future__ import annotations

import pandas as pd

from geniot.security.messages import _seconds


def test_microsecond_times_are_seconds_since_1970_not_1970():
    times = pd.Series(pd.to_datetime(["2026-01-05T10:00:00.123456", "2026-01-05T10:00:01.5"]).as_unit("us"))
    assert str(times.dtype) == "datetime64[us]"  # the resolution a log's column parses at
    seconds = _seconds(times)
    assert abs(seconds[0] - pd.Timestamp("2026-01-05T10:00:00.123456").timestamp()) < 1e-3
    assert abs((seconds[1] - seconds[0]) - 1.376544) < 1e-6
