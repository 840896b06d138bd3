"""geniot-edge on a CSV: a cell that is not a number is named (row, column) and read as missing,
and a reader that leaves early (`| head`) ends the run quietly instead of with a traceback."""

import subprocess
import sys

import numpy as np
import pandas as pd

from geniot.data.io import series_from_frame
from geniot.edge.export import export_detector
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.detector import AnomalyDetector


def _export(tmp_path):
    rng = np.random.default_rng(0)
    t = pd.date_range("2026-01-01", periods=400, freq="1min")
    frame = pd.DataFrame({"timestamp": t, "flow": rng.normal(10, 1, 400), "temp": rng.normal(50, 2, 400)})
    det = AnomalyDetector(generator=GaussianBaseline(), window=4).fit(series_from_frame(frame.iloc[:300]))
    export_detector(det, tmp_path / "edge")
    live = frame.iloc[300:].copy()
    live["flow"] = live["flow"].astype(object)
    live.iloc[10, live.columns.get_loc("flow")] = "n/a"
    live.to_csv(tmp_path / "live.csv", index=False)
    return tmp_path / "edge", tmp_path / "live.csv"


def test_a_text_cell_is_named_and_read_as_missing(tmp_path):
    model, live = _export(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "geniot.edge.runtime", str(model), "--input", str(live)],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "row 12, column 'flow': not a number ('n/a'); read as missing" in proc.stderr
    assert len(proc.stdout.splitlines()) == 100 - 3  # every row scored once the first window is full


def test_a_closed_pipe_ends_quietly(tmp_path):
    model, live = _export(tmp_path)
    cmd = f"{sys.executable} -m geniot.edge.runtime {model} --input {live} | head -n 1"
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert len(proc.stdout.splitlines()) == 1
    assert "Traceback" not in proc.stderr and "BrokenPipe" not in proc.stderr, proc.stderr[-2000:]
