"""TON_IoT loader: the three leaks of SOURCE.md (string format, date/time, duplicates) are closed."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.ton_iot import group_split, load_device, read_device_csv

REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "iiot-ids" / "ton_iot_telemetry"
FEATURES = ("fridge_temperature", "temp_condition")

# Attack rows spell 'high'/'low', normal rows 'high  '/'low ' (the real file's format leak);
# dates differ per class (the calendar leak); two rows repeat exactly; 9.0/high carries two classes.
ROWS = [
    ("25-Apr-19", " 19:19:40 ", "9", "high", "1", "ddos"),
    ("25-Apr-19", " 19:19:45 ", "9", "high", "1", "ddos"),  # duplicate of the row above
    ("26-Apr-19", " 10:00:00 ", "9", "high  ", "0", "normal"),  # same vector as ddos once normalised
    ("26-Apr-19", " 10:00:05 ", "4.5", "low ", "0", "normal"),
    ("26-Apr-19", " 10:00:10 ", "4.5", "low ", "0", "normal"),  # duplicate
    ("27-Apr-19", " 11:00:00 ", "12.5", "high", "1", "xss"),
]


def write_fixture(path: Path, rows=ROWS, extra: list[tuple] = ()) -> Path:
    lines = ["date,time,fridge_temperature,temp_condition,label,type"]
    lines += [",".join(r) for r in [*rows, *extra]]
    for k in range(40):  # enough distinct vectors for a split: normal and ransomware
        kind, label = ("normal", "0") if k % 2 else ("ransomware", "1")
        lines.append(f"28-Apr-19,01:00:{k:02d},{20 + k * 0.25},{'low  ' if k % 3 else 'high '},{label},{kind}")
    path.write_bytes(("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8"))
    return path


def test_text_is_normalised_so_spelling_does_not_tell_the_class(tmp_path):
    table = read_device_csv(write_fixture(tmp_path / "f.csv"), FEATURES, device="fridge")
    first = table.X[:3]
    assert table.features == FEATURES  # no date, no time
    assert table.X.dtype == np.float64
    # ddos 'high' and normal 'high  ' are one and the same vector after normalisation
    ddos, normal = first[table.type[:3] == "ddos"][0], first[table.type[:3] == "normal"][0]
    np.testing.assert_array_equal(ddos, normal)
    assert set(np.unique(table.X[:, 1])) == {0.0, 1.0}
    assert table.groups[0] == table.groups[1]


def test_exact_duplicates_are_dropped_and_mixed_vectors_counted(tmp_path):
    table = read_device_csv(write_fixture(tmp_path / "f.csv"), FEATURES)
    assert table.rows_read == len(ROWS) + 40
    assert table.duplicates_dropped == 2
    assert len(table.X) == len(ROWS) + 40 - 2
    assert table.file_rows[:4].tolist() == [1, 3, 4, 6]  # the first of each repeat is kept
    pairs = {(tuple(x), t) for x, t in zip(table.X.tolist(), table.type.tolist(), strict=True)}
    assert len(pairs) == len(table.X)  # no (vector, type) twice
    amb = table.ambiguity()
    assert amb["mixed_vectors"] == 1 and amb["rows_in_mixed_vectors"] == 2
    assert amb["best_accuracy"] == pytest.approx((len(table.X) - 1) / len(table.X))
    assert table.ambiguity("binary")["mixed_vectors"] == 1


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_no_group_crosses_the_split(tmp_path, seed):
    table = read_device_csv(write_fixture(tmp_path / "f.csv"), FEATURES)
    train, test = group_split(table, seed=seed)
    assert len(train) and len(test)
    assert np.intersect1d(train, test).size == 0
    assert len(train) + len(test) == len(table.X)
    assert not set(table.groups[train]) & set(table.groups[test])
    seen = {tuple(x) for x in table.X[train].tolist()}
    assert not any(tuple(x) in seen for x in table.X[test].tolist())
    assert 0.1 < len(test) / len(table.X) < 0.3


def test_too_few_distinct_vectors_cannot_be_split(tmp_path):
    path = tmp_path / "tiny.csv"
    path.write_text("date,time,fridge_temperature,temp_condition,label,type\nd,t,9,high,1,ddos\nd,t,9,high ,0,normal\n")
    table = read_device_csv(path, FEATURES)
    with pytest.raises(DataError, match="1 distinct feature vector"):
        group_split(table)


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (("d", "t", "9", "warm", "1", "ddos"), "temp_condition", "'warm' is not one of"),
        (("d", "t", "nine", "high", "1", "ddos"), "fridge_temperature", "'nine' is not a finite number"),
        (("d", "t", "9", "high", "1", "phishing"), "type", "'phishing'"),
        (("d", "t", "9", "high", "0", "ddos"), "label", "contradicts type 'ddos'"),
        (("d", "t", "9", "high", "2", "ddos"), "label", "not 0 or 1"),
    ],
)
def test_bad_values_name_file_row_and_column(tmp_path, row, column, message):
    path = write_fixture(tmp_path / "bad.csv", extra=[row])
    with pytest.raises(DataError, match=message) as err:
        read_device_csv(path, FEATURES)
    assert err.value.file == str(path) and err.value.column == column
    assert err.value.row == len(ROWS) + 1


def test_missing_and_unexpected_columns_are_errors(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("date,time,fridge_temperature,label,type\nd,t,9,1,ddos\n")
    with pytest.raises(DataError) as err:
        read_device_csv(path, FEATURES)
    assert err.value.column == "temp_condition"
    path.write_text("date,time,ts,fridge_temperature,temp_condition,label,type\nd,t,1,9,high,1,ddos\n")
    with pytest.raises(DataError, match="unexpected column"):
        read_device_csv(path, FEATURES)
    with pytest.raises(DataError, match="unknown TON_IoT device"):
        load_device(tmp_path, "toaster")


needs_real = pytest.mark.skipif(not REAL.is_dir(), reason=f"TON_IoT telemetry not present at {REAL}")


@needs_real
def test_real_modbus_is_deduplicated_and_split_by_vector():
    table = load_device(REAL, "modbus")
    assert table.rows_read == 31_106
    assert len(table.X) == 8_868  # SOURCE.md: 8,868 rows left after deduplication
    train, test = group_split(table, seed=0)
    assert not set(table.groups[train]) & set(table.groups[test])
    assert set(table.type[test]) == set(table.type)  # every class is tested


@needs_real
def test_real_fridge_vectors_carry_every_class_once_normalised():
    table = load_device(REAL, "fridge")
    amb = table.ambiguity()
    assert amb["mixed_vectors"] == amb["vectors"]  # each temperature is seen under every class
    assert amb["best_accuracy"] < 0.2
