"""The Ray path gives what the serial path gives: the same models, scores and samples.

One local Ray (2 CPUs, 80 MiB object store) serves the whole module and is shut down at its end.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.core.exceptions import DataError
from geniot.data.io import write_table
from geniot.models import GaussianBaseline, TimeVAE
from geniot.scale import SerialEngine, sample_parallel, score_fleet, train_fleet
from geniot.tasks import AnomalyDetector

runner = CliRunner()
SETTINGS = AnomalyDetector(window=12, threshold="quantile")


def same_model(a, b) -> None:
    ga, gb = a.detector.generator_, b.detector.generator_
    if hasattr(ga, "module_"):
        sa, sb = ga.module_.state_dict(), gb.module_.state_dict()
        assert sa.keys() == sb.keys()
        for key in sa:
            assert torch.equal(sa[key], sb[key]), key
    _, arrays_a = ga._get_state()
    _, arrays_b = gb._get_state()
    for key in arrays_a:
        np.testing.assert_array_equal(arrays_a[key], arrays_b[key], err_msg=key)
    assert a.detector.threshold_ == b.detector.threshold_
    np.testing.assert_array_equal(a.detector.channel_center_, b.detector.channel_center_)


@pytest.mark.parametrize(
    "generator",
    [GaussianBaseline(), TimeVAE(latent_dim=4, hidden=(16,), epochs=3, batch_size=32)],
    ids=["gaussian", "vae"],
)
def test_ray_trains_the_same_models_as_serial(fleet, ray_engine, generator):
    serial = train_fleet(fleet, generator, detector=SETTINGS, seed=7, engine=SerialEngine())
    on_ray = train_fleet(fleet, generator, detector=SETTINGS, seed=7, engine=ray_engine)
    assert [t.asset for t in on_ray] == list(fleet)
    for a, b in zip(serial, on_ray, strict=True):
        assert a.seed == b.seed
        same_model(a, b)
        series = fleet[a.asset]
        np.testing.assert_array_equal(a.detector.anomaly_score(series), b.detector.anomaly_score(series))
    if hasattr(serial[0].detector.generator_, "module_"):  # seeds differ per asset, so do the models
        w0, w1 = (t.detector.generator_.module_.state_dict() for t in serial[:2])
        assert not all(torch.equal(w0[k], w1[k]) for k in w0)


def test_an_asset_gets_the_same_model_in_any_fleet(fleet):
    vae = TimeVAE(latent_dim=4, hidden=(16,), epochs=2, batch_size=32)
    full = train_fleet(fleet, vae, detector=SETTINGS, seed=1)
    alone = train_fleet({"P-2": fleet["P-2"]}, vae, detector=SETTINGS, seed=1)
    same_model(full[1], alone[0])


def test_ray_scores_and_samples_like_serial(fleet, ray_engine):
    trained = train_fleet(fleet, GaussianBaseline(), detector=AnomalyDetector(window=12, smoothing=2, merge_gap=2))
    detectors = {t.asset: t.detector for t in trained}
    serial = score_fleet(detectors, fleet, engine=SerialEngine(), chunk_steps=100)
    on_ray = score_fleet(detectors, fleet, engine=ray_engine, chunk_steps=100)
    for asset, det in detectors.items():
        whole = det.detect(fleet[asset])
        np.testing.assert_array_equal(on_ray[asset].scores, serial[asset].scores)
        np.testing.assert_allclose(on_ray[asset].scores, whole.scores, rtol=1e-9)
        # Chunks score windows in other batches than one whole call, so a score may move in the
        # last bits; a flag may then differ only where the score ties the threshold (the pot
        # rule's fallback threshold is the largest normal score itself).
        off_tie = ~np.isclose(whole.scores, det.threshold_.value, rtol=1e-9)
        np.testing.assert_array_equal(on_ray[asset].flags[off_tie], whole.flags[off_tie])
        np.testing.assert_array_equal(on_ray[asset].flags, serial[asset].flags)
    gen = trained[0].detector.generator_
    a = sample_parallel(gen, 250, engine=ray_engine, chunk_windows=60, random_state=4)
    b = sample_parallel(gen, 250, chunk_windows=60, random_state=4)
    assert a.shape == (250, 12, 8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:60], a[60:120])  # chunks draw with their own seeds


def test_ray_task_errors_reach_the_caller_as_geniot_errors(fleet, ray_engine):
    short = {"P-1": fleet["P-1"].head(10)}
    with pytest.raises(DataError, match="asset 'P-1'"):
        train_fleet(short, GaussianBaseline(), detector=SETTINGS, engine=ray_engine)


def test_cli_fleet_train_and_score(fleet, ray_engine, tmp_path):
    data = tmp_path / "fleet.csv"
    write_table(fleet, data, layout="long")
    models = tmp_path / "models"
    args = ["fleet", "train", str(data), "--engine", "ray", "--model", "gaussian", "--window", "12", "--out", str(models)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    index = json.loads((models / "fleet.json").read_text())
    assert sorted(index["assets"]) == ["P-1", "P-2", "P-3"]
    assert index["engine"] == "ray" and index["model"] == "gaussian"
    assert all((models / v["folder"] / "detector.json").is_file() for v in index["assets"].values())

    scores = tmp_path / "scores.csv"
    result = runner.invoke(app, ["fleet", "score", str(models), str(data), "--engine", "ray", "--chunk-steps", "200", "--out", str(scores)])
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_csv(scores)
    assert list(frame.columns[:3]) == ["ts", "asset", "score"]  # the long input's own time column and order
    assert (frame.groupby("asset").size() == 720).all()
    serial = tmp_path / "serial.csv"
    args = ["fleet", "score", str(models), str(data), "--chunk-steps", "200", "--out", str(serial)]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    pd.testing.assert_frame_equal(pd.read_csv(serial), frame, check_exact=True)
