"""Train on simulator data, export to ONNX, and score a JSON-lines stream with `geniot-edge` in a
fresh virtual environment that holds numpy and onnxruntime only (no torch, no pandas)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.edge.export import export_detector
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import AnomalyDetector

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


def _pin(name: str) -> str:
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.lower().startswith(name + "=="):
            return line.strip()
    return name


@pytest.fixture(scope="module")
def edge_venv(tmp_path_factory):
    venv = tmp_path_factory.mktemp("edge") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    # Without PYTHONPATH: a path inherited from outside would make pip find the project venv's
    # numpy "already satisfied" and install nothing.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([*pip, _pin("numpy"), _pin("onnxruntime")], capture_output=True, text=True, env=env)
    if result.returncode != 0:
        pytest.skip(f"cannot install numpy/onnxruntime into a fresh venv: {result.stderr[-500:]}")
    return venv / "bin" / "python"


def test_edge_runtime_flags_injected_faults_without_torch(edge_venv, tmp_path):
    kw = dict(n_assets=1, days=3, seed=1, drop_rate=0.002, outage_rate=0, degrading_fraction=0,
              faults=("cavitation", "spikes", "stuck_sensor", "sensor_drift"))  # fmt: skip
    clean = simulate_plant(PlantConfig(fault_rate=0, **kw))
    faulty = simulate_plant(PlantConfig(fault_rate=10, **kw))
    asset = clean.assets()[0]
    det = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(series_from_frame(clean.wide(asset).iloc[:1440]))
    export_detector(det, tmp_path / "edge")
    live = faulty.wide(asset).iloc[1440:]
    lines = []
    for row in live.itertuples(index=False):
        values = {k: (None if v != v else v) for k, v in row._asdict().items() if k != "timestamp"}
        lines.append(json.dumps({"ts": str(row.timestamp), "asset": asset, "values": values}))
    lines.insert(5, "this is not json")  # a bad line is reported and skipped, not fatal
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from geniot.edge.runtime import main; rc = main(sys.argv[2:]);"
        "assert 'torch' not in sys.modules and 'pandas' not in sys.modules, sorted(sys.modules); sys.exit(rc)"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [str(edge_venv), "-c", code, str(ROOT / "src"), str(tmp_path / "edge")],
        input="\n".join(lines), capture_output=True, text=True, env=env, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "not JSON" in proc.stderr
    no_torch = subprocess.run([str(edge_venv), "-c", "import torch"], capture_output=True, env=env)
    assert no_torch.returncode != 0  # the venv really has no torch
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    labels = faulty.labels.iloc[1440:]["anomaly"].to_numpy().astype(bool)[7 : 7 + len(out)]
    flags = np.array([o["flag"] for o in out])
    assert len(out) == len(live) - 7
    assert flags[~labels].mean() < 0.1
    assert flags[labels].mean() > 0.2
    spikes = faulty.labels.iloc[1440:].reset_index(drop=True)
    rows = np.flatnonzero(spikes["fault"].to_numpy() == "spikes") - 7
    rows = rows[(rows >= 0) & (rows < len(out))]
    assert any(out[r]["flag"] and out[r]["top_sensors"][:1] == ["motor_temp_c"] for r in rows)


def test_edge_runtime_reads_mqtt_and_publishes_alerts(broker, tmp_path):
    import queue
    import time

    from geniot.ingest.mqtt import make_client, parse_url

    clean = simulate_plant(PlantConfig(n_assets=1, days=1, seed=2, fault_rate=0, drop_rate=0, outage_rate=0, degrading_fraction=0))
    asset = clean.assets()[0]
    wide = clean.wide(asset)
    det = AnomalyDetector(generator=GaussianBaseline(), window=8).fit(series_from_frame(wide.iloc[:1200]))
    export_detector(det, tmp_path / "edge")
    proc = subprocess.Popen(
        [sys.executable, "-m", "geniot.edge.runtime", str(tmp_path / "edge"), "--input", f"{broker.url}/plant/pumps/{asset}",
         "--publish", broker.url, "--events-only"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    host, port = parse_url(broker.url)
    alerts: queue.Queue = queue.Queue()
    sub = make_client("edge-alert-listener", clean=True)
    sub.on_message = lambda c, u, m: alerts.put((m.topic, json.loads(m.payload)))
    sub.connect(host, port)
    sub.subscribe("geniot/alerts/#", qos=1)
    sub.loop_start()
    pub = make_client("edge-gateway", clean=True)
    pub.connect(host, port)
    pub.loop_start()
    try:
        # The runtime says on stderr when it is subscribed (a fixed sleep lost the race on a busy machine).
        line = ""
        deadline = time.time() + 60
        while '"subscribed"' not in line and time.time() < deadline and proc.poll() is None:
            line = proc.stderr.readline()
        assert '"subscribed"' in line, (line, proc.poll())
        names = [c for c in wide.columns if c != "timestamp"]
        for i, row in enumerate(wide.iloc[1200:1240].itertuples(index=False)):
            values = {n: float(getattr(row, n)) for n in names}
            if i >= 30:
                values["flow_m3h"] *= 5  # the flow sensor goes wrong
            pub.publish(f"plant/pumps/{asset}", json.dumps({"ts": str(row.timestamp), "values": values}), qos=1).wait_for_publish(5)
        topic, alert = alerts.get(timeout=20)
        assert topic == f"geniot/alerts/{asset}" and alert["is_open"] and alert["kind"] == "opened"
        assert alert["id"] == f"{asset}@{alert['start_ts']}" and "flow_m3h" in alert["top_sensors"].split(";")
    finally:
        proc.terminate()
        proc.wait(10)
        pub.loop_stop()
        sub.loop_stop()


def test_the_detector_geniot_fit_calibrates_runs_at_the_edge_as_geniot_detect_scores(edge_venv, tmp_path):
    """The README's edge flow with fit's default (step-score) detector: fit -> detect
    --save-detector -> export -> geniot-edge on the same file; the edge's scores, flags and top
    sensors equal `geniot detect`'s, dropped readings included, without torch."""
    import pandas as pd
    from typer.testing import CliRunner

    from geniot.cli.main import app

    kw = dict(n_assets=1, days=2, seed=4, drop_rate=0.01, outage_rate=0, degrading_fraction=0,
              faults=("cavitation", "spikes", "sensor_drift"))  # fmt: skip
    asset = simulate_plant(PlantConfig(fault_rate=0, **kw)).assets()[0]
    normal, live = tmp_path / "normal.csv", tmp_path / "live.csv"
    simulate_plant(PlantConfig(fault_rate=0, **kw)).wide(asset).iloc[:1440].to_csv(normal, index=False)
    simulate_plant(PlantConfig(fault_rate=12, **kw)).wide(asset).iloc[1440:].to_csv(live, index=False)
    runner = CliRunner()

    def cli(*args):
        result = runner.invoke(app, [str(a) for a in args])
        assert result.exit_code == 0, result.output
        return result.output

    cli("fit", normal, "--model", "gaussian", "--window", "8", "--out", tmp_path / "m8")
    cli("detect", tmp_path / "m8", live, "--out", tmp_path / "scores.csv", "--save-detector", tmp_path / "det")
    cli("export", tmp_path / "det", "--format", "onnx", "--out", tmp_path / "edge")
    code = "import sys; sys.path.insert(0, sys.argv[1]); from geniot.edge.runtime import main; sys.exit(main(sys.argv[2:]))"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

    def edge(*args):
        proc = subprocess.run([str(edge_venv), "-c", code, str(ROOT / "src"), str(tmp_path / "edge"), *args],
                              capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-2000:]
        return [json.loads(line) for line in proc.stdout.splitlines()]

    assert edge("--info")[0]["score"] == "step"
    out = edge("--input", str(live))
    server = pd.read_csv(tmp_path / "scores.csv", keep_default_na=False).iloc[7:]
    assert len(out) == len(server) == 1440 - 7
    want = pd.to_numeric(server["score"].replace("", "nan")).to_numpy(dtype=float)
    got = np.array([np.nan if o["score"] is None else o["score"] for o in out])
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    flags = server["flag"].astype(int).to_numpy().astype(bool)
    assert 0 < flags.sum() < len(flags) / 4
    np.testing.assert_array_equal([o["flag"] for o in out], flags)
    assert [";".join(o["top_sensors"]) for o in out] == list(server["top_sensors"].astype(str))
    assert pd.read_csv(live).iloc[7:].isna().any(axis=1).any()  # the stream has dropped readings
