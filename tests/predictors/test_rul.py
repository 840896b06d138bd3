"""RULEstimator on simulated pumps that wear out, the C-MAPSS loader, and bad inputs."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.cmapss import COLUMNS, read_cmapss, training_rul
from geniot.data.simulate import SIGNALS, PlantConfig, simulate_plant
from geniot.predictors.rul import RULEstimator


@pytest.fixture(scope="module")
def units():
    """Each pump from the start of the simulation to its failure: one run-to-failure unit."""
    plant = simulate_plant(PlantConfig(n_assets=8, days=6, degrading_fraction=1.0, fault_rate=0, seed=0, interval_s=600))
    frames = []
    for k, asset in enumerate(plant.assets()):
        wide = plant.wide(asset)
        labels = plant.labels[plant.labels["asset"] == asset].reset_index(drop=True)
        end = int(np.flatnonzero(labels["rul_h"].to_numpy() == 0)[0])
        part = wide.iloc[: end + 1].drop(columns="timestamp").interpolate(limit_direction="both")
        frames.append(part.assign(unit=k + 1, cycle=np.arange(1, end + 2)))
    return pd.concat(frames, ignore_index=True)[["unit", "cycle", *SIGNALS]]


@pytest.fixture(scope="module")
def fitted(units):
    train = units[units["unit"] <= 6]
    return RULEstimator(window=12, cap=100, max_minutes=0.5, epochs=80, random_state=0).fit(train)


def test_rul_of_a_degrading_pump_decreases(units, fitted):
    held_out = units[units["unit"] > 6]
    traj = fitted.predict_trajectory(held_out)
    for _, unit in traj.groupby("unit"):
        tail = unit.tail(150)
        rho = np.corrcoef(tail["cycle"], tail["rul"])[0, 1]
        assert rho < -0.8, rho
        assert unit["rul"].iloc[-1] < unit["rul"].iloc[-100] - 20
    last = fitted.predict(held_out)
    assert list(last.columns) == ["unit", "rul", "lower", "upper"] and len(last) == 2
    assert (last["lower"] <= last["rul"]).all() and (last["rul"] <= last["upper"]).all()
    assert (last["rul"] < 40).all()  # both pumps are at their failure


def test_save_load_round_trip(fitted, units, tmp_path):
    fitted.save(tmp_path / "rul")
    again = RULEstimator.load(tmp_path / "rul")
    a, b = fitted.predict(units[units["unit"] > 6]), again.predict(units[units["unit"] > 6])
    np.testing.assert_allclose(a[["rul", "lower", "upper"]], b[["rul", "lower", "upper"]], rtol=1e-6)


@pytest.mark.parametrize("augment", ["gaussian", "jitter", "smote", "gaussian-bins"])
def test_augmentation_adds_training_windows(units, augment):
    train = units[units["unit"] <= 3]
    plain = RULEstimator(window=12, max_minutes=0.1, epochs=2).fit(train)
    more = RULEstimator(window=12, max_minutes=0.1, epochs=2, augment=augment, n_synthetic=1.0).fit(train)
    assert more.n_training_windows_ == 2 * plain.n_training_windows_


def test_bad_inputs_are_named(units, fitted):
    one_cycle = pd.concat([units[units["unit"] == 1], units[units["unit"] == 2].head(1)])
    with pytest.raises(DataError, match="single cycle"):
        RULEstimator(window=12).fit(one_cycle)
    with pytest.raises(DataError, match="missing sensor/setting column"):
        fitted.predict(units.drop(columns=["flow_m3h"]))
    with pytest.raises(DataError, match="missing column 'unit'"):
        fitted.predict(units.drop(columns=["unit"]))
    with pytest.raises(DataError, match="augment must be"):
        RULEstimator(window=12, augment="mixup", epochs=1).fit(units[units["unit"] <= 2])
    with pytest.raises(DataError, match="augment must be"):
        RULEstimator(window=12, augment="-bins", epochs=1).fit(units[units["unit"] <= 2])
    with pytest.raises(DataError, match="n_synthetic"):
        RULEstimator(window=12, augment="smote", n_synthetic=0, epochs=1).fit(units[units["unit"] <= 2])


def test_cmapss_loader_and_targets(tmp_path):
    rows = [[1, c, 0.0, 0.0, 100.0, *np.arange(21.0)] for c in (1, 2, 3)] + [[2, 1, 0.0, 0.0, 100.0, *np.arange(21.0)]]
    path = tmp_path / "train_FD009.txt"
    path.write_text("\n".join(" ".join(str(v) for v in r) + " " for r in rows))
    frame = read_cmapss(path)
    assert list(frame.columns) == list(COLUMNS) and len(frame) == 4
    assert training_rul(frame).tolist() == [2.0, 1.0, 0.0, 0.0]
    bad = tmp_path / "bad.txt"
    bad.write_text("1 1 0 0 100 " + " ".join(["x"] * 21))
    with pytest.raises(DataError, match="column 's1', row 1"):
        read_cmapss(bad)
    short = tmp_path / "short.txt"
    short.write_text("1 1 0 0 100 1 2 3")
    with pytest.raises(DataError, match="expected 26"):
        read_cmapss(short)
