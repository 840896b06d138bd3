"""The task contract (geniot.core.task.BaseTask), checked for every task and predictor.

Like tests/models/test_contract.py over every generator: keyword-only parameters stored as
given, nothing validated or set in __init__, get_params / set_params / clone, fit returns self,
learned attributes end in "_", a bad parameter is refused by fit.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.core.task import BaseTask
from geniot.data.series import SensorSeries
from geniot.models import GaussianBaseline
from geniot.predictors import FaultClassifier, RULEstimator
from geniot.tasks import AnomalyDetector, GapImputer
from geniot.tasks.twin import Forecaster, WhatIf

RNG = np.random.default_rng(0)
T = np.arange(400)
VALUES = np.column_stack([np.sin(T / 9), np.cos(T / 7), 0.5 * np.sin(T / 9) + 0.1 * RNG.normal(size=400)])
SERIES = SensorSeries(timestamps=None, values=VALUES + 0.05 * RNG.normal(size=VALUES.shape),
                      channels=("speed", "flow", "temp"))


def _rul_frame() -> pd.DataFrame:
    frames = []
    for unit in range(1, 5):
        life = 60 + 10 * unit
        cycle = np.arange(1, life + 1)
        wear = cycle / life
        frames.append(pd.DataFrame({"unit": unit, "cycle": cycle, "s1": wear + 0.05 * RNG.normal(size=life),
                                    "s2": wear**2 + 0.05 * RNG.normal(size=life)}))
    return pd.concat(frames, ignore_index=True)


def _fault_data():
    t = np.arange(256)
    windows, labels = [], []
    for label, freq in ((0, 10), (1, 40)):
        for k in range(12):
            windows.append(np.sin(2 * np.pi * freq * t / 256 + k) + 0.2 * RNG.normal(size=256))
            labels.append(label)
    return np.asarray(windows), np.asarray(labels)


@dataclass
class Case:
    cls: type
    params: dict[str, Any]  # small, fast settings
    fit: Callable[[Any], Any]  # fits a task and returns what fit returned
    bad: dict[str, Any]  # a parameter value that fit must refuse
    other: dict[str, Any]  # a non-default value for set_params / clone


CASES = {
    "AnomalyDetector": Case(AnomalyDetector, {"generator": GaussianBaseline(), "window": 8},
                            lambda t: t.fit(SERIES), {"align": "middle"}, {"risk": 0.01}),
    "GapImputer": Case(GapImputer, {"generator": GaussianBaseline(), "window": 8},
                       lambda t: t.fit(SERIES), {"point": "mode"}, {"n_draws": 3}),
    "Forecaster": Case(Forecaster, {"generator": GaussianBaseline(), "window": 8, "horizon": 2, "prefit": False},
                       lambda t: t.fit(SERIES), {"interval": 2.0}, {"n_draws": 7}),
    "WhatIf": Case(WhatIf, {"generator": GaussianBaseline(), "window": 8, "stride": 4},
                   lambda t: t.fit(SERIES, control="speed"), {"interval": 2.0}, {"n_samples": 9}),
    "RULEstimator": Case(RULEstimator, {"window": 8, "cap": 40, "epochs": 2, "patience": None, "max_minutes": 0.2},
                         lambda t: t.fit(_rul_frame()), {"augment": "mixup"}, {"hidden": 8}),
    "FaultClassifier": Case(FaultClassifier, {"n_bands": 16},
                            lambda t: t.fit(*_fault_data()), {"augment": "mixup"}, {"C": 0.5}),
}
cases = pytest.mark.parametrize("case", list(CASES.values()), ids=list(CASES))


def _param_names(cls) -> list[str]:
    return [p for p in inspect.signature(cls.__init__).parameters if p != "self"]


@cases
def test_parameters_are_keyword_only_and_stored_as_given(case):
    assert issubclass(case.cls, BaseTask)
    signature = inspect.signature(case.cls.__init__)
    kinds = {p.name: p.kind for p in signature.parameters.values() if p.name != "self"}
    assert set(kinds.values()) == {inspect.Parameter.KEYWORD_ONLY}, kinds
    # Every parameter set to an object no validation would accept: __init__ must neither check
    # it nor copy it nor set anything else.
    sentinels = {name: object() for name in kinds}
    task = case.cls(**sentinels)
    assert vars(task) == sentinels
    assert all(task.get_params(deep=False)[k] is v for k, v in sentinels.items())


@cases
def test_set_params_and_clone_carry_the_parameters(case):
    task = case.cls(**case.params)
    (name, value), = case.other.items()
    assert task.get_params()[name] != value  # a real change, not the default again
    assert task.set_params(**case.other) is task and task.get_params()[name] == value
    with pytest.raises(ValueError):
        task.set_params(no_such_parameter=1)
    twin = task.clone()
    assert type(twin) is type(task) and twin is not task
    assert twin.get_params(deep=False)[name] == value
    for key, original in task.get_params(deep=False).items():
        if hasattr(original, "get_params"):  # a generator: cloned, an equal but separate object
            copy = twin.get_params(deep=False)[key]
            assert copy is not original and copy.get_params() == original.get_params()


@cases
def test_fit_returns_self_and_learns_only_underscore_attributes(case):
    task = case.cls(**case.params)
    before = task.get_params(deep=False)
    assert case.fit(task) is task
    after = task.get_params(deep=False)
    assert all(after[k] is before[k] for k in before), "fit changed a parameter"
    learned = set(vars(task)) - set(before)
    assert learned, "fit learned nothing"
    public = [a for a in learned if not a.startswith("_")]
    assert public and all(a.endswith("_") for a in public), sorted(learned)
    generator = before.get("generator")
    if generator is not None and not before.get("prefit"):
        assert not generator.is_fitted  # the given generator is cloned, never fitted in place
    clone = task.clone()
    assert not (set(vars(clone)) - set(before)), "a clone of a fitted task carries learned state"


@cases
def test_fit_refuses_a_bad_parameter(case):
    task = case.cls(**{**case.params, **case.bad})  # __init__ accepts it
    with pytest.raises(DataError):
        case.fit(task)


def test_a_prefit_task_shares_its_fitted_generator_in_a_clone():
    fitted = GaussianBaseline().fit(np.stack([VALUES[i : i + 8] for i in range(0, 300, 2)]))
    task = GapImputer(generator=fitted, prefit=True)
    assert task.clone().generator is fitted
    assert GapImputer(generator=fitted).clone().generator is not fitted
