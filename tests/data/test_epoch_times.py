"""Unix epoch numbers in the time column: read by magnitude (s, ms, us), said, and written back
the same way; numbers that are no date in any unit are refused."""

from __future__ import annotations

import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.io import read_data, read_series, write_frame


def _write(tmp_path, text, name="plant.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(("scale", "unit"), [(1, "seconds"), (1000, "milliseconds"), (1_000_000, "microseconds")])
def test_epoch_numbers_are_read_in_their_unit_and_said(tmp_path, scale, unit):
    t0 = 1767225600  # 2026-01-01 00:00 UTC
    rows = "".join(f"{(t0 + 60 * i) * scale},{i}\n" for i in range(3))
    read = read_data(_write(tmp_path, "timestamp,flow\n" + rows))
    (series,) = read.table.values()
    (report,) = read.reports
    assert [pd.Timestamp(t) for t in series.timestamps] == list(pd.date_range("2026-01-01", periods=3, freq="1min"))
    assert f"Unix epoch {unit} (UTC)" in report.text()
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert out.read_text().splitlines()[1].split(",")[0] == str(t0 * scale)


def test_fractional_epoch_seconds_keep_their_fraction(tmp_path):
    series = read_series(_write(tmp_path, "ts,flow\n1767225600.25,1\n1767225600.75,2\n"))
    assert pd.Timestamp(series.timestamps[1]) == pd.Timestamp("2026-01-01 00:00:00.750")
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert out.read_text().splitlines()[2].split(",")[0] == "1767225600.75"


def test_counters_are_not_dates(tmp_path):
    with pytest.raises(DataError, match="neither Excel serial days nor Unix epoch times"):
        read_series(_write(tmp_path, "time,flow\n1767225,1\n1767226,2\n"))
