"""A family of generated degradation paths per unit and the failure time they imply (RULFutures)."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import NotFittedError
from geniot.predictors.rul import RULEstimator
from geniot.predictors.rul_futures import RULFutures


def _units(n_units=10, seed=0):
    """Two sensors that fall with the remaining life (plus noise), onset at 60% of each life."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_units):
        life = int(rng.integers(40, 70))
        for t in range(life + 1):
            left = life - t
            rows.append({"unit": u, "cycle": t + 1, "s1": -left / 20 + 0.05 * rng.standard_normal(),
                         "s2": np.exp(-left / 15) + 0.05 * rng.standard_normal(), "onset": t >= 0.6 * life})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted():
    train = _units().drop(columns="onset")  # no gate here (it would be taken for an operating condition)
    est = RULEstimator(epochs=1, fixed_epochs=True, n_models=1, cap=80.0).fit(train)
    return est, RULFutures(past=6, ahead=3).fit(est, train)


def test_the_failure_time_of_the_paths_follows_the_truth_with_a_calibrated_band(fitted):
    _, fut = fitted
    test = _units(n_units=12, seed=3)
    lives = test.groupby("unit")["cycle"].max()
    cut = test[test["cycle"] <= (0.7 * lives).reindex(test["unit"]).to_numpy()]
    truth = np.minimum(lives - cut.groupby("unit")["cycle"].max(), 80.0).to_numpy()
    times = fut.failure_times(cut, n=200)
    assert (times["basis"] == "generated paths").all()
    assert (times["lower"] <= times["rul"]).all() and (times["rul"] <= times["upper"]).all()
    assert np.sqrt(np.mean((times["rul"] - truth) ** 2)) < 0.4 * truth.std() + 2.0
    assert np.mean((truth >= times["lower"]) & (truth <= times["upper"])) >= 0.5
    assert any("split conformal" in c for c in fut.choices_)


def test_paths_roll_on_to_failure_counting_their_life_down(fitted):
    est, fut = fitted
    test = _units(n_units=2, seed=4)
    cut = test.groupby("unit").head(30)
    paths = fut.futures(cut, n=5, horizon=200)
    assert set(paths.columns) == {"unit", "future", "step", "time_ahead", "rul", *est.features_}
    assert paths.groupby(["unit", "future"]).size().size == 10
    for _, one in paths.groupby(["unit", "future"]):
        assert (np.diff(one["rul"].to_numpy()) <= 0).all()
        assert one["rul"].iloc[-1] == 0.0 or len(one) == 200
    # sensors on the paths fall with the life they count down (s1 = -life / 20 in training)
    assert np.corrcoef(paths["rul"], paths["s1"])[0, 1] < -0.5


def test_units_before_onset_get_no_path_and_unfitted_is_refused():
    train = _units(n_units=6)
    est = RULEstimator(epochs=1, fixed_epochs=True, n_models=1, gate_column="onset").fit(train)
    with pytest.raises(NotFittedError):
        RULFutures().failure_times(train)
    fut = RULFutures(past=4, ahead=2, calibrate=False).fit(est, train)
    early = _units(n_units=3, seed=5).groupby("unit").head(5)
    times = fut.failure_times(early, n=20)
    assert times["basis"].str.startswith("no onset yet").all() and times["rul"].isna().all()
    assert fut.futures(early, n=3).empty
