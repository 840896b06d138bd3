"""A text column of the training file (a Status) comes out of `geniot synthesize` in its place,
each step given the value whose real rows match its synthetic readings, and said so; the same
column serves as the regimes of --regime."""

from __future__ import annotations

import numpy as np
import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app

runner = CliRunner()


def said(result) -> str:
    """The output with rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_status_column_written_consistent_with_the_numbers(tmp_path):
    rng = np.random.default_rng(0)
    n = 600
    mode = np.where((np.arange(n) // 60) % 2 == 0, "RUN", "IDLE")
    flow = np.where(mode == "RUN", 50.0, 10.0) + rng.normal(0, 1, n)
    press = np.where(mode == "RUN", 3.0, 1.0) + rng.normal(0, 0.1, n)
    times = pd.date_range("2026-01-05", periods=n, freq="10min").strftime("%Y-%m-%d %H:%M")
    src = tmp_path / "d.csv"
    pd.DataFrame({"timestamp": times, "flow": flow.round(3), "Status": mode, "press": press.round(3)}).to_csv(src, index=False)
    m = tmp_path / "m"
    assert runner.invoke(app, ["fit", str(src), "--model", "gaussian", "--window", "12", "--out", str(m)]).exit_code == 0
    medians = {}
    for regime in ("IDLE", "RUN"):
        out = tmp_path / f"{regime}.csv"
        r = runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(out), "--regime", regime])
        assert r.exit_code == 0, r.output
        assert "text column 'Status'" in said(r) and "text column(s) Status" in said(r)
        frame = pd.read_csv(out)
        assert list(frame.columns) == ["timestamp", "flow", "Status", "press"]  # the file's own order
        medians[regime] = frame["flow"].median()
        # every step's status matches its numbers (flow above 30 runs)
        assert ((frame["flow"] > 30) == (frame["Status"] == "RUN")).mean() > 0.95
    # One Gaussian of both modes cannot sit in one for long, but guidance moves it there.
    assert medians["IDLE"] + 10 < medians["RUN"], medians
    r = runner.invoke(app, ["synthesize", str(m), "--duration", "1d", "--out", str(tmp_path / "x.csv"), "--regime", "OFF"])
    assert r.exit_code == 2 and "['IDLE', 'RUN']" in said(r)
