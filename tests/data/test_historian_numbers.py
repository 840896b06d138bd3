"""Numbers that fit two readings (``1,234``: 1.234 or 1234) are decided from the whole column, the
reason is said, and they are written back as they came; with jittered one-minute sampling and
``+01:00`` offsets through the commands that write data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_historian import only, write
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.io import read_data


def three_decimals(n: int, *, seed: int = 0) -> tuple[str, np.ndarray]:
    """A ';' file whose every number has exactly three decimals after a comma: no column tells."""
    rng = np.random.default_rng(seed)
    start = pd.Timestamp("2026-03-02 06:00", tz="+01:00")
    times = start + pd.to_timedelta(np.arange(n) * 60 + rng.integers(-5, 6, n), unit="s")
    values = np.round(np.c_[1.5 + 0.2 * rng.standard_normal(n), 4.0 + 0.3 * rng.standard_normal(n)], 3)
    values = np.clip(values, 1.001, 9.999)  # one integer digit, never 0: every cell looks like 1,234
    lines = ["Zeit;Druck [bar];Hub (mm)"]
    lines += [f"{t.isoformat()};{a:.3f};{b:.3f}".replace(".", ",") for t, a, b in zip(times, values[:, 0], values[:, 1], strict=True)]
    return "\n".join(lines) + "\n", values


def test_every_cell_with_three_decimals_after_a_comma_is_a_decimal_comma(tmp_path):
    text, values = three_decimals(50)
    series, report = only(read_data(write(tmp_path, text)))
    np.testing.assert_allclose(series.values, values)
    assert "every value has three digits after ','" in report.text()


def test_bare_integers_beside_them_make_the_comma_a_thousands_mark(tmp_path):
    series, report = only(read_data(write(tmp_path, "t;count\n2026-01-01;1,234\n2026-01-02;999\n2026-01-03;12,500\n")))
    np.testing.assert_array_equal(series.values[:, 0], [1234.0, 999.0, 12500.0])
    assert "groups thousands" in report.text()


def test_the_other_columns_decide_first(tmp_path):
    series, _ = only(read_data(write(tmp_path, "t;a;b\n2026-01-01;1,234;12.5\n2026-01-02;2,345;13.25\n")))
    np.testing.assert_array_equal(series.values[:, 0], [1234.0, 2345.0])  # the file writes decimal points


@pytest.fixture(scope="module")
def fitted(tmp_path_factory):
    root = tmp_path_factory.mktemp("three")
    text, _ = three_decimals(400, seed=1)
    data = write(root, text, name="plant.csv")
    result = CliRunner().invoke(app, ["fit", str(data), "--model", "gaussian", "--window", "8", "--out", str(root / "m")])
    assert result.exit_code == 0, result.output
    return data, root / "m"


def test_impute_and_detect_write_three_decimal_commas_back(fitted, tmp_path):
    data, model = fitted
    original = data.read_text().splitlines()
    for command, out in (("impute", tmp_path / "filled.csv"), ("detect", tmp_path / "scores.csv")):
        result = CliRunner().invoke(app, [command, str(model), str(data), "--out", str(out)])
        assert result.exit_code == 0, result.output
        lines = out.read_text().splitlines()
        assert [line.split(";")[0] for line in lines] [1:] == [line.split(";")[0] for line in original[1:]]  # jittered, +01:00
    filled = (tmp_path / "filled.csv").read_text().splitlines()
    assert filled[0] == original[0] and filled[1:] == original[1:]  # nothing to fill: every cell as written


def test_synthesize_writes_on_the_clock_and_in_the_layout(fitted, tmp_path):
    _, model = fitted
    out = tmp_path / "synth.csv"
    result = CliRunner().invoke(app, ["synthesize", str(model), "--duration", "2h", "--out", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0] == "Zeit;Druck [bar];Hub (mm)"
    first = lines[1].split(";")
    assert first[0].endswith("+01:00") and "," in first[1] and "." not in first[1]
    assert len(lines) - 1 == 120


def test_a_wide_file_of_several_assets_is_split_by_its_asset_column(tmp_path):
    text = "timestamp;asset;a\n2026-01-01 00:00;P-1;1,5\n2026-01-01 00:01;P-1;2,5\n2026-01-01 00:00;P-2;3,5\n2026-01-01 00:01;P-2;\n"
    read = read_data(write(tmp_path, text))
    assert sorted(read.table) == ["P-1", "P-2"] and len(read.reports) == 2
    np.testing.assert_array_equal(read.table["P-2"].values[:, 0], [3.5, np.nan])
    bad = text.replace("2026-01-01 00:01;P-2", "2026-01-01 00:00;P-2")
    with pytest.raises(Exception, match=r"row 4: .*duplicate timestamp.*asset 'P-2'"):
        read_data(write(tmp_path, bad, name="bad.csv"))
