"""The typed training record and channel names (core/record.py), and their place in save/load."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geniot.core.exceptions import ArtifactError, DataError
from geniot.core.record import TrainingRecord, channel_names, record_from_metadata
from geniot.models import GaussianBaseline
from geniot.models.loading import load_generator

X = np.random.default_rng(0).normal(size=(60, 6, 3))


def test_fit_sets_channel_names_and_the_record_and_save_keeps_them(tmp_path):
    record = TrainingRecord(source="a.csv", assets=("P-1",), window=6, stride=2, train_rows=400, holdout=0.2, seed=7)
    model = GaussianBaseline().fit(X, channels=["flow", "temp", "vib"], record=record)
    assert model.channel_names_ == ("flow", "temp", "vib") and model.training_ is record
    back = load_generator(model.save(tmp_path / "m"))
    assert back.channel_names_ == ("flow", "temp", "vib") and back.training_ == record
    state = json.loads((tmp_path / "m" / "state.json").read_text())
    assert state["training_"]["assets"] == ["P-1"] and "metadata_" not in state


def test_bare_arrays_get_the_fallback_names_in_one_place():
    model = GaussianBaseline().fit(X)
    assert model.channel_names_ is None and channel_names(model) == ["ch0", "ch1", "ch2"]
    assert model.training_ == TrainingRecord()


def test_channel_names_must_match_the_data():
    with pytest.raises(DataError, match="2 channel names for 3 channels"):
        GaussianBaseline().fit(X, channels=["a", "b"])
    with pytest.raises(DataError, match="repeat"):
        GaussianBaseline().fit(X, channels=["a", "b", "a"])
    with pytest.raises(TypeError, match="TrainingRecord"):
        GaussianBaseline().fit(X, record={"window": 6})


def test_the_record_checks_its_fields():
    with pytest.raises(DataError, match="holdout split"):
        TrainingRecord(holdout_split="random")
    with pytest.raises(DataError, match="fraction"):
        TrainingRecord(holdout=1.5)
    with pytest.raises(ArtifactError, match="unknown field"):
        TrainingRecord.from_json({"window": 6, "colour": "red"})


def test_metadata_is_a_read_only_view():
    model = GaussianBaseline().fit(X, channels=["a", "b", "c"], record=TrainingRecord(window=6, assets=("P-1",)))
    assert model.metadata_["channels"] == ["a", "b", "c"] and model.metadata_["assets"] == ["P-1"]
    with pytest.raises(AttributeError):
        model.metadata_ = {"channels": ["x", "y", "z"]}


def test_old_metadata_converts_with_one_key_for_assets():
    names, record = record_from_metadata({"channels": ["a", "b"], "asset": "P-3", "window": 16, "units": {"a": "bar"}})
    assert names == ("a", "b") and record.assets == ("P-3",) and record.asset == "P-3" and record.window == 16
    _, record = record_from_metadata({"assets": ["P-1", "P-2"], "holdout": 0.3, "train_rows": 400,
                                      "calibration": {"fraction": 0.2, "split": "blocks", "windows": 9, "threshold": 1.0, "rule": "pot"}})
    # folders from before blocks existed held out the latest windows
    assert record.asset is None and record.holdout_split == "time" and record.calibration == 0.2
    _, record = record_from_metadata({"calibration": {"skipped": "no detector calibrated: too few"}})
    assert record.calibration_skipped.startswith("no detector")
    with pytest.raises(ArtifactError, match="does not know.*colour"):
        record_from_metadata({"colour": "red"})


def test_an_old_model_folder_still_loads(tmp_path):
    model = GaussianBaseline().fit(X, channels=["a", "b", "c"], record=TrainingRecord(window=6))
    folder = model.save(tmp_path / "old")
    state = json.loads((folder / "state.json").read_text())
    del state["training_"], state["channel_names_"]
    state["metadata_"] = {"channels": ["a", "b", "c"], "asset": "P-1", "window": 6, "holdout": 0.2}
    (folder / "state.json").write_text(json.dumps(state))
    back = load_generator(folder)
    assert back.channel_names_ == ("a", "b", "c") and back.training_.assets == ("P-1",)
    assert back.training_.holdout_split == "time"
    np.testing.assert_allclose(back.score_samples(X[:5]), model.score_samples(X[:5]))
    state["metadata_"]["channels"] = ["a", "b"]
    (folder / "state.json").write_text(json.dumps(state))
    with pytest.raises(ArtifactError, match="2 channel names for 3 channels"):
        load_generator(folder)
