"""`geniot synthesize --mqtt` replays a learned synthetic plant into a real Mosquitto broker:
every row of every synthetic asset arrives, with the values written to --out."""

from __future__ import annotations

import json
import queue
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app as cli
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.ingest.mqtt import make_client, parse_url

pytestmark = pytest.mark.integration


def test_synthetic_fleet_replayed_into_the_broker(broker, tmp_path):
    plant = simulate_plant(PlantConfig(n_assets=1, days=2, interval_s=300, seed=2, degrading_fraction=0))
    data = tmp_path / "plant.csv"
    plant.write(data, layout="long")
    runner = CliRunner()
    fit = runner.invoke(cli, ["fit", str(data), "--model", "gaussian", "--window", "12", "--out", str(tmp_path / "m")])
    assert fit.exit_code == 0, fit.output

    got: queue.Queue = queue.Queue()
    host, port = parse_url(broker.url)
    sub = make_client("synth-listener", clean=True)
    sub.on_message = lambda c, u, m: got.put((m.topic, json.loads(m.payload)))
    sub.connect(host, port)
    sub.subscribe("testplant/pumps/#", qos=1)
    sub.loop_start()
    time.sleep(0.5)
    try:
        out = tmp_path / "synth.csv"
        args = ["synthesize", str(tmp_path / "m"), "--duration", "2h", "--assets", "S-1,S-2", "--out", str(out),
                "--mqtt", broker.url, "--site", "testplant", "--seed", "4"]  # fmt: skip
        result = runner.invoke(cli, args)
        assert result.exit_code == 0, result.output
        assert "published 48 messages" in result.output  # 24 rows of 5 min x 2 assets
        messages = []
        deadline = time.time() + 20
        while len(messages) < 48 and time.time() < deadline:
            try:
                messages.append(got.get(timeout=1))
            except queue.Empty:
                pass
    finally:
        sub.loop_stop()
        sub.disconnect()
    assert sorted({t for t, _ in messages}) == ["testplant/pumps/S-1", "testplant/pumps/S-2"]
    assert len(messages) == 48
    written = pd.read_csv(out)
    s1 = written[(written["asset"] == "S-1") & (written["signal"] == "flow_m3h")]["value"].to_numpy()
    sent = np.array([p["values"]["flow_m3h"] for t, p in messages if t.endswith("S-1")])
    np.testing.assert_allclose(sent, s1, rtol=1e-9)  # the broker got the series written to --out


def test_synthesize_needs_an_output_or_a_broker(tmp_path):
    result = CliRunner().invoke(cli, ["synthesize", str(tmp_path / "m"), "--duration", "1h"])
    assert result.exit_code != 0 and "--out FILE or --mqtt URL" in result.output
