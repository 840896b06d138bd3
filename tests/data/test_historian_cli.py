"""The historian CSV through the commands: fit, impute, detect, forecast write in its own layout;
import -> store -> export-data round trip; a folder of one file per asset; simulate into a store."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_historian import HEADER, make_historian
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.io import read_series
from geniot.data.store import SensorStore
from geniot.workflows.windows_io import read_windows

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def rows(path):
    return path.read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("historian")
    hist = make_historian(root)
    art = root / "m"
    result = run("fit", hist.path, "--model", "gaussian", "--window", "8", "--stride", "2", "--out", art)
    assert result.exit_code == 0, result.output
    return hist, art, result.output


def test_fit_prints_what_it_read(fitted):
    _, _, output = fitted
    for header in HEADER:
        assert header in output
    assert "ignored: Bemerkung" in output and "free text" in output and "Status" in output
    assert "not modelled: Status" in output  # a text column the generator does not learn is said so


def test_impute_writes_the_input_layout(fitted, tmp_path):
    hist, art, _ = fitted
    out = tmp_path / "filled.csv"
    result = run("impute", art, hist.path, "--out", out, "--draws", "4")
    assert result.exit_code == 0, result.output
    lines = rows(out)
    header = lines[0].split(";")
    assert header[: len(HEADER)] == HEADER  # same names, units, order; text columns kept
    assert "Temp_lower [°C]" in header and "Druck_upper (bar)" in header
    for mine, theirs in zip(lines[1:], hist.lines[1:], strict=True):
        m, t = mine.split(";"), theirs.split(";")
        assert m[0] == t[0] and m[0].endswith("+01:00")  # the offset as written
        assert m[5:7] == t[5:7]  # Status and Bemerkung as written
    filled = read_series(out)
    original = read_series(hist.path)
    seen = ~np.isnan(original.values)
    np.testing.assert_array_equal(filled.values[:, :4][seen], original.values[seen])
    assert not np.isnan(filled.values[:, :4]).any()
    assert "," in lines[6].split(";")[1]  # a filled cell, in decimal commas too


def test_detect_writes_the_input_layout(fitted, tmp_path):
    hist, art, _ = fitted
    out = tmp_path / "scores.csv"
    result = run("detect", art, hist.path, "--train-rows", "240", "--out", out)
    assert result.exit_code == 0, result.output
    lines = rows(out)
    assert lines[0] == "Zeitstempel;score;threshold;flag;top_sensors;reason"
    assert [line.split(";")[0] for line in lines[1:]] == [line.split(";")[0] for line in hist.lines[1:]]
    assert "," in lines[1].split(";")[1] and "." not in lines[1].split(";")[1]


def test_forecast_writes_the_input_layout(fitted, tmp_path):
    hist, art, _ = fitted
    out = tmp_path / "forecast.csv"
    result = run("forecast", art, hist.path, "--horizon", "3", "--draws", "5", "--out", out)
    assert result.exit_code == 0, result.output
    lines = rows(out)
    assert lines[0].startswith("Zeitstempel;Temp [°C];Druck (bar);Leistung [kW];flow_m3h")
    future = [pd.Timestamp(line.split(";")[0]) for line in lines[1:]]
    assert all(line.split(";")[0].endswith("+01:00") for line in lines[1:]) and future[0] > hist.local[-1]


def test_sample_tables_use_the_training_layout(fitted, tmp_path):
    hist, art, _ = fitted
    out = tmp_path / "synthetic.csv"
    result = run("sample", art, "--n", "3", "--out", out)
    assert result.exit_code == 0, result.output
    lines = rows(out)
    assert lines[0] == "window;step;Temp [°C];Druck (bar);Leistung [kW];flow_m3h" and len(lines) == 1 + 3 * 8
    assert "," in lines[1].split(";")[2]
    windows, channels = read_windows(out)
    assert windows.shape == (3, 8, 4) and channels == ["Temp", "Druck", "Leistung", "flow_m3h"]


def test_import_store_export_round_trip(fitted, tmp_path):
    hist, _, _ = fitted
    store = tmp_path / "plant.duckdb"
    result = run("import", hist.path, "--store", store)
    assert result.exit_code == 0, result.output
    assert "Bemerkung" in result.output and "not stored" in result.output and "UTC" in result.output
    again = run("import", hist.path, "--store", store)
    assert again.exit_code == 0 and "imported 0 new readings" in again.output
    with SensorStore(store, read_only=True) as st:
        assert st.assets() == ["plant"] and sorted(st.signals("plant")) == ["Druck", "Leistung", "Temp", "flow_m3h"]
        assert st.count() == int((~np.isnan(read_series(hist.path).values)).sum())
    out = tmp_path / "back.csv"
    result = run("export-data", "--store", store, "--out", out, "--like", hist.path)
    assert result.exit_code == 0, result.output
    lines = rows(out)
    assert lines[0] == ";".join(HEADER[:5])
    assert [line.split(";")[0] for line in lines[1:]] == [line.split(";")[0] for line in hist.lines[1:]]  # +01:00 again
    np.testing.assert_array_equal(read_series(out).values, read_series(hist.path).values)
    parquet = tmp_path / "part.parquet"
    result = run("export-data", "--store", store, "--out", parquet, "--layout", "long",
                 "--start", "2026-01-05T01:00:00+01:00", "--end", "2026-01-05T02:00:00+01:00")  # fmt: skip
    assert result.exit_code == 0, result.output
    part = pd.read_parquet(parquet)
    assert list(part.columns[:4]) == ["ts", "asset", "signal", "value"]
    assert part["ts"].min() >= pd.Timestamp("2026-01-05 00:00") and part["ts"].max() < pd.Timestamp("2026-01-05 01:00")


def test_import_a_folder_per_asset_and_name_checks(tmp_path):
    folder = tmp_path / "plant"
    folder.mkdir()
    make_historian(folder, n=30, name="P-1.csv", seed=1)
    make_historian(folder, n=30, name="P-2.csv", seed=2)
    store = tmp_path / "plant.duckdb"
    result = run("import", folder, "--store", store)
    assert result.exit_code == 0, result.output
    with SensorStore(store, read_only=True) as st:
        assert st.assets() == ["P-1", "P-2"]
    bad = make_historian(tmp_path, n=10, name="Pumpe (alt).csv")
    result = run("import", bad.path, "--store", store)
    assert result.exit_code == 2 and "--asset" in result.output
    result = run("import", bad.path, "--store", store, "--asset", "../x")
    assert result.exit_code == 2 and "not a valid name" in result.output
    assert run("import", bad.path, "--store", store, "--asset", "pump-old").exit_code == 0
    result = run("export-data", "--store", store, "--out", tmp_path / "all.csv", "--layout", "wide")
    assert result.exit_code == 2 and "--asset" in result.output


def test_simulate_into_a_store(tmp_path):
    store = tmp_path / "sim.duckdb"
    result = run("simulate", "--assets", "2", "--days", "0.05", "--out", store)
    assert result.exit_code == 0, result.output
    with SensorStore(store, read_only=True) as st:
        assert len(st.assets()) == 2 and st.count() > 0


def test_synthesize_writes_the_training_layout_and_says_times_as_written(fitted, tmp_path):
    hist, art, _ = fitted
    out = tmp_path / "synth.csv"
    result = run("synthesize", art, "--duration", "2h", "--out", out)
    assert result.exit_code == 0, result.output
    lines = rows(out)
    # the text column is written in its place too, from the real rows nearest each synthetic step
    assert lines[0] == "Zeitstempel;Temp [°C];Druck (bar);Leistung [kW];flow_m3h;Status" and len(lines) == 1 + 120
    assert {line.split(";")[-1] for line in lines[1:]} <= set(hist.status)
    first = lines[1].split(";")
    assert first[0].endswith("+01:00") and "," in first[1]  # the offset and decimal comma as written
    assert f"from {first[0]}" in result.output.replace("\n", "")  # the message speaks the file's time too
