"""With setting* columns (C-MAPSS) the settings are the operating conditions, and no sensor is
searched: FD001's s6 (21.61 or 21.6, constant for long stretches) once split FD001 in two."""

import numpy as np
import pandas as pd

from geniot.predictors.rul import RULEstimator


def _units(with_settings: bool) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for u in range(1, 7):
        n = int(rng.integers(50, 80))
        wear = np.arange(n) / n
        flag = np.where(np.arange(n) < n // 2, 21.61, 21.6) if u % 2 else np.full(n, 21.61)
        part = pd.DataFrame({"unit": u, "cycle": np.arange(1, n + 1), "s6": flag,
                             "s2": wear + 0.05 * rng.standard_normal(n), "s3": 2 * wear + 0.05 * rng.standard_normal(n)})  # fmt: skip
        if with_settings:
            part.insert(2, "setting_1", 0.001 * rng.standard_normal(n))
        rows.append(part)
    return pd.concat(rows, ignore_index=True)


def test_settings_are_the_conditions_and_no_sensor_is_searched():
    est = RULEstimator(window=8, epochs=1, fixed_epochs=True, n_models=1).fit(_units(with_settings=True))
    assert est.settings_ == ["setting_1"] and est.conditions_ == []
    assert "other columns not searched" in est.choices_[0] and "s6" not in est.choices_[0]


def test_without_settings_a_piecewise_constant_column_is_still_detected():
    est = RULEstimator(window=8, epochs=1, fixed_epochs=True, n_models=1).fit(_units(with_settings=False))
    assert est.settings_ == ["s6"] and "piecewise constant per unit" in est.choices_[0]
