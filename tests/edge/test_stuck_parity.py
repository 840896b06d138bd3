"""geniot-edge flags the stuck sensors the server flags: the same readings, the same sensor
named first, the same reason, from the simulator's stuck fault through `export_detector` and
`EdgeScorer` (its numpy copy of the rule) against `StreamingScorer`, and through the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models import GaussianBaseline
from geniot.tasks import AnomalyDetector

pytest.importorskip("onnxruntime")
from geniot.edge.export import META, export_detector  # noqa: E402
from geniot.edge.runtime import EdgeScorer, main  # noqa: E402

DAY = 288


@pytest.fixture(scope="module")
def case(tmp_path_factory):
    plant = simulate_plant(PlantConfig(n_assets=1, days=6, interval_s=300, seed=4, drop_rate=0.02, outage_rate=0,
                                       degrading_fraction=0, faults=("stuck_sensor", "spikes"), fault_rate=14))  # fmt: skip
    frame, labels = plant.wide("P-1"), plant.labels.reset_index(drop=True)
    normal = frame.iloc[: 2 * DAY].copy()
    normal.loc[labels["anomaly"].to_numpy()[: 2 * DAY] != 0, normal.columns[1:]] = np.nan
    det = AnomalyDetector(generator=GaussianBaseline(), window=8, score="step", smoothing=2).fit(series_from_frame(normal))
    out = tmp_path_factory.mktemp("edge_stuck")
    export_detector(det, out)
    live = frame.iloc[2 * DAY :].reset_index(drop=True)
    stuck_rows = (labels["fault"].iloc[2 * DAY :] == "stuck_sensor").to_numpy()
    return det, out, live, stuck_rows


def test_the_edge_flags_names_and_explains_stuck_sensors_as_the_server_does(case):
    det, out, live, stuck_rows = case
    channels = list(live.columns[1:])
    server, edge = det.stream(asset="P-1"), EdgeScorer(out, asset="P-1")
    rows = []
    for ts, values in zip(live["timestamp"].astype(str), live[channels].to_numpy(), strict=True):
        a, b = server.update(values, timestamp=ts), edge.update(dict(zip(channels, values, strict=True)), ts=ts)
        assert (a is None) == (b is None)
        if a is not None:
            rows.append((a.flag, b["flag"], a.top_sensors, tuple(b["top_sensors"]), a.reason, b.get("reason", "")))
    reasons = [r[4] for r in rows]
    assert sum(r.startswith("stuck: ") for r in reasons) > 20  # the comparison holds stuck readings
    assert np.mean([bool(r) for r, s in zip(reasons, stuck_rows[7:], strict=True) if s]) > 0.5
    assert not any(r for r, s in zip(reasons, stuck_rows[7:], strict=True) if not s)
    assert [r[1] for r in rows] == [r[0] for r in rows]
    assert [r[3] for r in rows] == [r[2] for r in rows]
    assert [r[5] for r in rows] == reasons


def test_the_export_carries_the_rule_and_the_cli_prints_the_reason(case, tmp_path, capsys):
    det, out, live, stuck_rows = case
    meta = json.loads((out / META).read_text())
    assert meta["format"] == 3 and meta["stuck"]["limit"] == det.stuck_rule_.limit_.tolist()
    assert main([str(out), "--info"]) == 0
    assert json.loads(capsys.readouterr().out)["stuck"]["limit"] == meta["stuck"]["limit"]
    path = tmp_path / "live.csv"
    live.to_csv(path, index=False)
    assert main([str(out), "--input", str(path), "--events-only"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    stuck = [x for x in lines if x.get("reason", "").startswith("stuck: ")]
    assert stuck and all(x["flag"] and x["reason"].split(" ")[1] == x["top_sensors"][0] for x in stuck)
    assert " min" in stuck[-1]["reason"]  # the CSV's times give the duration


def test_a_detector_without_the_rule_exports_as_format_2_and_scores_without_it(case, tmp_path):
    det, out, live, _ = case
    plain = det.clone().set_params(stuck=False)
    plain.__dict__.update({k: v for k, v in det.__dict__.items() if k.endswith("_")})
    plain.stuck_rule_ = None
    meta = export_detector(plain, tmp_path / "plain")
    assert meta["format"] == 2 and "stuck" not in meta
    assert EdgeScorer(tmp_path / "plain").stuck is None
