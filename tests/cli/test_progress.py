"""Long commands say how far they are and how long is left, also when their output is a log file."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from geniot.cli import progress
from geniot.cli.main import app
from geniot.data.simulate import simulate_plant


@pytest.fixture(scope="module")
def pump_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "pump.csv"
    simulate_plant(n_assets=1, days=0.25, seed=3, fault_rate=0.0).write(path, layout="wide")
    return path


def test_fit_prints_epochs_time_left_and_the_end(pump_csv, tmp_path, monkeypatch):
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 0.0)  # a line per epoch
    out = tmp_path / "m"
    done = CliRunner().invoke(
        app, ["fit", str(pump_csv), "--model", "vae", "--window", "8", "--params", '{"epochs": 3}', "--out", str(out)]
    )
    assert done.exit_code == 0, done.output
    lines = [line for line in done.output.splitlines() if line.startswith("fit vae: epoch")]
    assert [re.search(r"epoch (\d+)/3", line).group(1) for line in lines] == ["1", "2", "3"], done.output
    assert "elapsed" in lines[0] and re.search(r"about \d+:\d\d left", lines[0]), lines[0]
    assert re.search(r"fit vae: done in \d+:\d\d", done.output), done.output


def test_plain_lines_are_throttled(monkeypatch, capsys):
    monkeypatch.setattr(progress, "PLAIN_EVERY_S", 3600.0)
    with progress.progress_bar("scan") as update:
        for i in range(1, 101):
            update(i, 100)
    err = capsys.readouterr().err
    # the first line, then nothing until the last: 2 lines for 100 updates
    assert re.findall(r"scan: (\d+)/100", err) == ["1", "100"], err


def test_detect_and_impute_say_when_they_start_and_end(pump_csv, tmp_path):
    model = tmp_path / "g"
    runner = CliRunner()
    assert runner.invoke(app, ["fit", str(pump_csv), "--model", "gaussian", "--window", "8", "--out", str(model)]).exit_code == 0
    done = runner.invoke(app, ["detect", str(model), str(pump_csv), "--out", str(tmp_path / "s.csv")])
    assert done.exit_code == 0, done.output
    assert f"scoring {pump_csv} ..." in done.output and re.search(r"scoring .*: done in \d+:\d\d", done.output)
    done = runner.invoke(app, ["impute", str(model), str(pump_csv), "--out", str(tmp_path / "f.csv")])
    assert done.exit_code == 0, done.output
    assert re.search(r"filling the gaps of .*: done in \d+:\d\d", done.output), done.output
