"""Reading what plants export, each format point on its own, and writing it back the same way.

The historian CSV is built here (see :func:`make_historian`) so that every test knows the truth:
``;`` separator, decimal commas, a thousands separator (``1.234,5``), ISO timestamps with a
``+01:00`` offset and jittered one-minute sampling, a few empty cells, units in the headers, a text
``Status`` column (an operating mode) and a free-text ``Bemerkung`` column.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.io import read_data, read_series, read_table, write_frame, write_table
from geniot.data.splits import split_by_time

HEADER = ["Zeitstempel", "Temp [°C]", "Druck (bar)", "Leistung [kW]", "flow_m3h", "Status", "Bemerkung"]


@dataclass(frozen=True)
class Historian:
    path: Path
    local: pd.DatetimeIndex  # tz-aware, as written
    temp: np.ndarray  # NaN where the cell is empty
    druck: np.ndarray
    power: np.ndarray
    flow: np.ndarray
    status: np.ndarray
    lines: list[str]


def german(x: float, digits: int) -> str:
    return "" if np.isnan(x) else f"{x:.{digits}f}".replace(".", ",")


def grouped(x: float) -> str:
    """1234.5 -> '1.234,5' (thousands '.', decimal ',')."""
    return f"{x:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")


def make_historian(folder: Path, *, n: int = 480, name: str = "plant.csv", seed: int = 0) -> Historian:
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-01-05 00:00", tz="+01:00")
    jitter = rng.integers(-7, 8, n)
    local = start + pd.to_timedelta(np.arange(n) * 60 + jitter, unit="s")
    regime = (np.arange(n) // 120) % 2  # RUN / CLEAN blocks
    temp = np.round(60 + 5 * regime + rng.normal(0, 0.5, n), 2)
    druck = np.round(2.5 - 0.4 * regime + rng.normal(0, 0.05, n), 3)
    power = np.round(1200 + 300 * regime + rng.normal(0, 20, n), 1)
    flow = np.round(12 + rng.normal(0, 0.3, n), 2)
    status = np.where(regime == 1, "CLEAN", "RUN").astype(object)
    temp[[i for i in (5, 6, 200) if i < n]] = np.nan
    druck[[i for i in (17, 300) if i < n]] = np.nan
    lines = [";".join(HEADER)]
    for i in range(n):
        cells = [local[i].isoformat(), german(temp[i], 2), german(druck[i], 3), grouped(power[i]),
                 german(flow[i], 2), status[i], f"Schicht {i % 3} / Kontrolle {i}"]  # fmt: skip
        lines.append(";".join(cells))
    path = Path(folder) / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return Historian(path, local, temp, druck, power, flow, status, lines)


def write(folder: Path, text: str, name: str = "plant.csv", encoding: str = "utf-8") -> Path:
    path = Path(folder) / name
    path.write_bytes(text.encode(encoding))
    return path


def only(read):
    (series,) = read.table.values()
    (report,) = read.reports
    return series, report


# ------------------------------------------------------------------------------ the whole file
@pytest.fixture
def historian(tmp_path) -> Historian:
    return make_historian(tmp_path)


def test_nothing_is_dropped_silently(historian):
    series, report = only(read_data(historian.path))
    roles = {c.header: c.role for c in report.layout.columns}
    assert roles == {"Zeitstempel": "time", "Temp [°C]": "signal", "Druck (bar)": "signal", "Leistung [kW]": "signal",
                     "flow_m3h": "signal", "Status": "categorical", "Bemerkung": "ignored"}  # fmt: skip
    text = report.text()
    for header in HEADER:
        assert header in text
    assert "free text" in report.ignored["Bemerkung"]
    assert "separator ';'" in text and "decimal ','" in text and "thousands '.'" in text and "+01:00" in text
    assert series.channels == ("Temp", "Druck", "Leistung", "flow_m3h")
    assert series.units == {"Temp": "°C", "Druck": "bar", "Leistung": "kW"}
    assert list(series.categorical) == ["Status"]
    np.testing.assert_array_equal(series.categorical["Status"], historian.status)


def test_values_gaps_and_times_are_right(historian):
    series = read_series(historian.path)
    expected = np.column_stack([historian.temp, historian.druck, historian.power, historian.flow])
    np.testing.assert_array_equal(series.values, expected)  # the empty cells are the NaNs
    assert np.isnan(series.values).sum() == 5
    utc = historian.local.tz_convert("UTC").tz_localize(None).to_numpy()
    np.testing.assert_array_equal(series.timestamps, utc)  # inside geniot: naive UTC
    assert series.layout.time.zone == "+01:00"


def test_read_table_logs_the_report(historian, caplog):
    with caplog.at_level(logging.INFO, logger="geniot.data.read"):
        read_table(historian.path)
    assert "Bemerkung" in caplog.text and "ignored" in caplog.text


def test_write_back_in_the_same_layout(historian, tmp_path):
    series = read_series(historian.path)
    out = tmp_path / "back.csv"
    write_frame(series.to_dataframe(categorical=True), out, layout=series.layout)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == ";".join(HEADER[:-1])  # the ignored note column is not part of the series
    for mine, theirs in zip(lines[1:], historian.lines[1:], strict=True):
        assert mine.split(";")[0] == theirs.split(";")[0]  # same wall time and +01:00 offset
        assert mine.split(";")[5] == theirs.split(";")[5]  # status text
        for a, b in zip(mine.split(";")[1:5], theirs.split(";")[1:5], strict=True):
            assert (a == "") == (b == "")
            if a:  # same number with the same marks (trailing zeros aside)
                assert a.replace(".", "").replace(",", ".").rstrip("0") == b.replace(".", "").replace(",", ".").rstrip("0")
                assert ("," in a) == ("," in b)
    again = read_series(out)
    np.testing.assert_array_equal(again.values, series.values)
    np.testing.assert_array_equal(again.timestamps, series.timestamps)


def test_write_table_like_a_file_and_parquet_keeps_the_zone(historian, tmp_path):
    series = read_series(historian.path)
    write_table(series, tmp_path / "x.parquet", like=series.layout)
    frame = pd.read_parquet(tmp_path / "x.parquet")
    assert list(frame.columns) == HEADER[:-1]
    assert str(frame["Zeitstempel"].dt.tz) in ("UTC+01:00", "+01:00")
    assert frame["Zeitstempel"].iloc[0] == historian.local[0]


def test_categorical_columns_follow_slices(historian):
    series = read_series(historian.path)
    train, test = split_by_time(series, 0.5)
    assert len(train.categorical["Status"]) == train.n_steps and len(test.categorical["Status"]) == test.n_steps
    assert series.head(7).categorical["Status"].tolist() == historian.status[:7].tolist()
    assert series.select(["Temp"]).categorical.keys() == {"Status"}


# ------------------------------------------------------------------------------ numbers
def test_one_column_with_decimal_commas_is_read_not_dropped(tmp_path):
    path = write(tmp_path, "timestamp;a;b\n2026-01-01 00:00;1.5;12,5\n2026-01-01 00:01;2.5;13,25\n")
    series, report = only(read_data(path))
    assert series.channels == ("a", "b")
    np.testing.assert_array_equal(series.values, [[1.5, 12.5], [2.5, 13.25]])
    assert "b (decimal ',')" in report.text()


def test_comma_separated_file_with_quoted_decimal_commas_and_english_thousands(tmp_path):
    path = write(tmp_path, 'timestamp,de,en\n2026-01-01,"1,5","1,234.5"\n2026-01-02,"2,75","12,000.25"\n')
    series = read_series(path)
    np.testing.assert_array_equal(series.values, [[1.5, 1234.5], [2.75, 12000.25]])
    fmt = {c.name: c.number for c in series.layout.columns if c.number}
    assert (fmt["de"].decimal, fmt["en"].decimal, fmt["en"].thousands) == (",", ".", ",")


def test_thousands_mix_and_ambiguity_is_said(tmp_path):
    path = write(tmp_path, "timestamp;p;q;r\n2026-01-01;1.234,5;1.234;0.125\n2026-01-02;12,5;2.500;0.250\n")
    series, report = only(read_data(path))
    # p shows decimal commas; q fits both readings and follows the file; r starts with 0, a decimal
    np.testing.assert_array_equal(series.values, [[1234.5, 1234.0, 0.125], [12.5, 2500.0, 0.25]])
    assert "fit two readings" in report.text() and "q" in report.text()


def test_mixed_decimal_marks_in_one_column_name_the_cells(tmp_path):
    path = write(tmp_path, "timestamp;p\n2026-01-01;12,5\n2026-01-02;13.25\n")
    with pytest.raises(DataError, match=r"mixes decimal marks: '13.25' \(row 2\) and '12,5' \(row 1\)") as info:
        read_series(path)
    assert info.value.column == "p" and info.value.file == str(path)


def test_a_typo_in_a_comma_column_is_an_error_not_a_gap(tmp_path):
    rows = "".join(f"2026-01-{d:02d};{d},5\n" for d in range(1, 9)).replace("3,5", "3,5x")
    with pytest.raises(DataError, match="'3,5x' is not a number") as info:
        read_series(write(tmp_path, "timestamp;p\n" + rows))
    assert info.value.row == 3 and info.value.column == "p"


# ------------------------------------------------------------------------------ separators
@pytest.mark.parametrize("sep", [",", ";", "\t"])
def test_separators(tmp_path, sep):
    text = sep.join(["timestamp", "a", "b"]) + "\n" + sep.join(["2026-01-01 00:00", "1", "2"]) + "\n"
    text += sep.join(["2026-01-01 00:01", "3", ""]) + "\n"
    series, report = only(read_data(write(tmp_path, text)))
    assert report.layout.sep == sep and series.channels == ("a", "b")
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert out.read_text().splitlines()[0] == sep.join(["timestamp", "a", "b"])


# ------------------------------------------------------------------------------ times
def test_daylight_saving_offsets_find_the_zone_and_come_back(tmp_path):
    stamps = ["2026-03-29T01:58:00+01:00", "2026-03-29T01:59:00+01:00", "2026-03-29T03:00:00+02:00", "2026-03-29T03:01:00+02:00"]
    path = write(tmp_path, "Zeit;T\n" + "".join(f"{t};{i},5\n" for i, t in enumerate(stamps)))
    series, report = only(read_data(path))
    assert series.layout.time.zone == "Europe/Berlin" and "Europe/Berlin" in report.text()
    assert np.all(np.diff(series.timestamps) == np.timedelta64(60, "s"))  # one minute apart in UTC
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert [line.split(";")[0] for line in out.read_text().splitlines()[1:]] == stamps


def test_duplicate_timestamp_is_named_as_written(tmp_path):
    path = write(tmp_path, "Zeit;T\n2026-01-05T01:37:51+01:00;1\n2026-01-05T01:38:51+01:00;2\n2026-01-05T01:38:51+01:00;3\n")
    with pytest.raises(DataError, match=r"duplicate timestamp 2026-01-05T01:38:51\+01:00 \(same as row 2\)") as info:
        read_series(path)
    assert (info.value.file, info.value.column, info.value.row) == (str(path), "Zeit", 3)


def test_a_row_without_an_offset_among_offsets_is_an_error(tmp_path):
    path = write(tmp_path, "Zeit;T\n2026-01-05T01:37:51+01:00;1\n2026-01-05T01:38:51;2\n")
    with pytest.raises(DataError, match="has no time-zone offset") as info:
        read_series(path)
    assert info.value.row == 2


def test_german_dates(tmp_path):
    series = read_series(write(tmp_path, "Datum;a\n31.01.2026 13:05;1\n31.01.2026 13:06:30;2\n", "s.csv"))
    assert pd.Timestamp(series.timestamps[1]) == pd.Timestamp("2026-01-31 13:06:30")  # seconds on some rows only
    with pytest.raises(DataError, match="'31.01.2026 25:06' is not a timestamp") as info:
        read_series(write(tmp_path, "Datum;a\n31.01.2026 13:05;1\n31.01.2026 25:06;2\n", "bad.csv"))
    assert info.value.row == 2 and info.value.column == "Datum"
    path = write(tmp_path, "Datum;a\n31.01.2026 13:05;1\n01.02.2026 13:06;2\n")
    series = read_series(path)
    assert series.timestamps.tolist() == [pd.Timestamp("2026-01-31 13:05").value, pd.Timestamp("2026-02-01 13:06").value]
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert out.read_text().splitlines()[1:] == ["31.01.2026 13:05;1", "01.02.2026 13:06;2"]


def test_slash_dates_day_first_by_evidence_and_ambiguity_said(tmp_path):
    series = read_series(write(tmp_path, "date,a\n12/01/2026 10:00,1\n13/01/2026 10:00,2\n"))
    assert pd.Timestamp(series.timestamps[1]) == pd.Timestamp("2026-01-13 10:00")
    series, report = only(read_data(write(tmp_path, "date,a\n01/02/2026 1:05 PM,1\n01/03/2026 1:05 PM,2\n", "us.csv")))
    assert pd.Timestamp(series.timestamps[0]) == pd.Timestamp("2026-01-02 13:05")
    assert "ambiguous" in report.text() and "month/day" in report.text()


def test_excel_serial_day_numbers(tmp_path):
    series, report = only(read_data(write(tmp_path, "time;a\n45292,5;1\n45292,5006944444;2\n")))
    assert [pd.Timestamp(t) for t in series.timestamps] == [pd.Timestamp("2024-01-01 12:00"), pd.Timestamp("2024-01-01 12:01")]
    assert "Excel" in report.text()
    with pytest.raises(DataError, match="numbers, not timestamps"):
        read_series(write(tmp_path, "time,a\n1,1\n2,2\n", "small.csv"))


# ------------------------------------------------------------------------------ headers, text, encodings
def test_units_in_headers_and_invalid_names_are_made_valid_and_said(tmp_path):
    path = write(tmp_path, "timestamp;Temp [°C];Druck (bar);flow_m3h;Drehzahl/min\n2026-01-01;1;2;3;4\n2026-01-02;1;2;3;4\n")
    series, report = only(read_data(path))
    assert series.channels == ("Temp", "Druck", "flow_m3h", "Drehzahl_min")
    assert series.units == {"Temp": "°C", "Druck": "bar"}
    assert "renamed 'Drehzahl_min'" in report.text()
    out = tmp_path / "out.csv"
    frame = series.to_dataframe().assign(Temp_lower=0.0)
    write_frame(frame, out, layout=series.layout)
    assert out.read_text(encoding="utf-8").splitlines()[0] == "timestamp;Temp [°C];Druck (bar);flow_m3h;Drehzahl/min;Temp_lower [°C]"


def test_text_columns_are_kept_or_dropped_with_a_reason(tmp_path):
    rows = "".join(f"2026-01-01 00:{i:02d};{i};{'RUN' if i % 2 else 'STOP'};note {i}\n" for i in range(10))
    series, report = only(read_data(write(tmp_path, "timestamp;a;Mode;Remark\n" + rows)))
    assert list(series.categorical) == ["Mode"] and series.channels == ("a",)
    assert "Remark" in report.ignored and "free text" in report.ignored["Remark"]
    with pytest.raises(DataError, match="no numeric signal column.*Remark"):
        read_series(write(tmp_path, "timestamp;Remark\n" + "".join(f"2026-01-0{i};x{i}\n" for i in range(1, 4)), "t.csv"))


def test_windows_encoding(tmp_path):
    path = write(tmp_path, "Zeit;Temp [°C]\n2026-01-01;1,5\n2026-01-02;2,5\n", encoding="cp1252")
    series, report = only(read_data(path))
    assert series.units == {"Temp": "°C"} and "cp1252" in report.text()
    out = tmp_path / "out.csv"
    write_frame(series.to_dataframe(), out, layout=series.layout)
    assert out.read_bytes().decode("cp1252").splitlines()[0] == "Zeit;Temp [°C]"


def test_long_layout_with_units_and_offsets(tmp_path):
    text = "Time;Asset;Tag;Value;Unit\n2026-01-05T01:00:00+01:00;P1;Temp;1,5;°C\n2026-01-05T01:00:00+01:00;P1;Druck;2,5;bar\n"
    series, report = only(read_data(write(tmp_path, text)))
    assert series.units == {"Temp": "°C", "Druck": "bar"} and series.asset == "P1"
    assert report.layout.layout == "long" and report.layout.time.zone == "+01:00"
    out = tmp_path / "out.csv"
    write_table(series, out, layout="long", like=series.layout)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("Time;Asset;Tag;Value") and lines[1].startswith("2026-01-05T01:00:00+01:00;P1;Temp;1,5")


# ------------------------------------------------------------------------------ folders
def test_a_folder_of_one_file_per_asset(tmp_path):
    folder = tmp_path / "plant"
    folder.mkdir()
    make_historian(folder, n=30, name="P-1.csv", seed=1)
    make_historian(folder, n=40, name="P-2.csv", seed=2)
    (folder / "readme.txt").write_text("not data")
    read = read_data(folder)
    assert sorted(read.table) == ["P-1", "P-2"] and read.table["P-2"].n_steps == 40
    assert len(read.reports) == 2 and "readme.txt" in read.text()


def test_a_folder_of_parts_of_one_history(tmp_path):
    folder = tmp_path / "parts"
    folder.mkdir()
    whole = make_historian(tmp_path, n=60)
    head, lines = whole.lines[0], whole.lines[1:]
    (folder / "jan-a.csv").write_text("\n".join([head, *lines[30:]]) + "\n", encoding="utf-8")
    (folder / "jan-b.csv").write_text("\n".join([head, *lines[:30]]) + "\n", encoding="utf-8")
    series = read_data(folder, asset="pump").table["pump"]
    np.testing.assert_array_equal(series.values, read_series(whole.path).values)
    assert series.categorical["Status"].tolist() == whole.status.tolist()
    (folder / "jan-c.csv").write_text("\n".join([head, lines[5]]) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match="more than one file"):
        read_data(folder, asset="pump")
