"""The prior before onset when the units to predict were cut at a known share of their life
(``observed_share``), beside the default prior at the same age."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.predictors.rul import RULEstimator


def _three_units(seed=0):
    """Lives 10, 20 and 30 (one row per time unit), onset at 80% of each life."""
    rng = np.random.default_rng(seed)
    rows = []
    for u, life in (("a", 10), ("b", 20), ("c", 30)):
        for t in range(life + 1):
            rows.append({"unit": u, "cycle": t + 1, "time": float(t), "s1": rng.standard_normal() + (t > 0.8 * life),
                         "onset": t >= 0.8 * life})  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def fitted():
    return RULEstimator(epochs=1, fixed_epochs=True, n_models=1, gate_column="onset").fit(_three_units())


def test_the_share_prior_uses_the_units_seen_at_that_share_near_that_age(fitted):
    # Age 10 is half of unit b's life (RUL 10 there, 8 at 60%); at 50-60% of their lives unit a is
    # seen at 5-6 and unit c at 15-18, 0.25-0.4 median lives away: the share prior is about b's RUL.
    mid, lo, hi, how = fitted.set_params(observed_share=(0.5, 0.6)).prior(10.0)
    assert 8.0 < mid < 10.5
    assert lo <= mid <= hi
    assert "50%-60% of their life" in how
    # The default prior: the units still healthy at age 10 (b and c), their median remaining life.
    mid, _, _, how = fitted.set_params(observed_share=None).prior(10.0)
    assert mid == pytest.approx(15.0)
    assert "without onset" in how


def test_the_share_prior_falls_back_when_no_training_unit_was_seen_near_that_age(fitted):
    # At 90-95% of their lives every training unit is past onset: nothing to look at, so the
    # prior at the same age answers (and says so in its text).
    _, _, _, how = fitted.set_params(observed_share=(0.9, 0.95)).prior(5.0)
    assert "without onset" in how


def test_predict_uses_it_and_save_load_keeps_it(fitted, tmp_path):
    early = _three_units(seed=1).query("time <= 5")
    default = fitted.set_params(observed_share=None).predict(early)
    told = fitted.set_params(observed_share=(0.5, 0.6)).predict(early)
    assert (told["basis"] == "no onset yet: population prior").all()
    assert told["prior_from"].str.contains("50%-60%").all()
    assert not np.allclose(told["rul"], default["rul"])
    fitted.save(tmp_path / "m")
    again = RULEstimator.load(tmp_path / "m")
    np.testing.assert_allclose(again.predict(early)["rul"], told["rul"])
    fitted.set_params(observed_share=None)


@pytest.mark.parametrize("bad", [(0.9, 0.5), (0.5,), (-0.1, 0.5), (0.5, 1.2), "half"])
def test_bad_shares_are_named(bad):
    with pytest.raises(DataError, match="observed_share"):
        RULEstimator(observed_share=bad).validate()
