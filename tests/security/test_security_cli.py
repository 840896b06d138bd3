"""The issue's done-when commands end to end, small: simulate with attacks, fit, detect."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from geniot.cli.main import app


def test_simulate_fit_detect(tmp_path):
    runner = CliRunner()
    p, labels, normal, g, out = (tmp_path / n for n in ("p.csv", "l.csv", "normal.csv", "g", "events.csv"))
    res = runner.invoke(app, ["simulate", "--assets", "3", "--days", "2", "--attacks", "fdi,replay,flood", "--labels", str(labels),
                              "--out", str(p), "--normal-out", str(normal)])  # fmt: skip
    assert res.exit_code == 0, res.output
    log = pd.read_csv(p)
    assert {"message", "topic", "publisher", "received_at", "payload_bytes"} <= set(log.columns)
    lab = pd.read_csv(labels, parse_dates=["start", "end"])
    assert list(lab.columns) == ["asset", "kind", "type", "signal", "mode", "start", "end"]
    assert set(lab.loc[lab["kind"] == "attack", "type"]) == {"fdi", "replay", "flood"}
    res = runner.invoke(app, ["security", "fit", str(normal), "--out", str(g)])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["security", "detect", str(g), str(p), "--out", str(out)])
    assert res.exit_code == 0, res.output
    events = pd.read_csv(out, parse_dates=["start", "end"])
    assert list(events.columns[:6]) == ["asset", "start", "end", "kind", "attack", "reason"]
    tol = pd.Timedelta(minutes=10)
    for label in lab[(lab["kind"] == "attack") & (lab["type"] != "fdi")].itertuples():
        hit = events[(events["asset"] == label.asset) & (events["start"] <= label.end + tol) & (events["end"] >= label.start - tol)]
        assert label.type in set(hit["attack"]), f"{label.type} on {label.asset} not found: {hit.to_dict('records')}"


def test_unknown_attack_is_refused_in_words(tmp_path):
    res = CliRunner().invoke(app, ["simulate", "--attacks", "fdi,teleport", "--out", str(tmp_path / "p.csv")])
    assert res.exit_code != 0
    assert "teleport" in res.output
