"""The task contract: scikit-learn's estimator rules for everything that uses a generator.

A task (``AnomalyDetector``, ``GapImputer``, ``Forecaster``, ``WhatIf``) is a policy over a
generator; a predictor (``RULEstimator``, ``FaultClassifier``) learns its own model. Both follow
the same rules, checked for every one of them by ``tests/tasks/test_task_contract.py``:

* hyperparameters are keyword-only constructor arguments stored exactly as given (the generator
  too: ``generator=``); ``__init__`` validates nothing and sets nothing else;
* ``get_params`` / ``set_params`` / ``clone`` come from :class:`sklearn.base.BaseEstimator`;
* ``fit`` validates the parameters, learns, and returns ``self``; learned attributes end in
  ``_`` (a task's fitted generator is ``generator_``).

``clone`` gives an unfitted copy with the same parameters; the generator is cloned as well
(unfitted), except for ``prefit=True`` tasks, whose fitted generator is an input and is shared.
"""

from __future__ import annotations

import copy
from typing import Any

from sklearn.base import BaseEstimator

from geniot.core.exceptions import NotFittedError


class BaseTask(BaseEstimator):
    """Base class of every task and predictor (see the module docstring)."""

    def clone(self) -> BaseTask:
        """An unfitted copy with the same parameters."""
        return self.__sklearn_clone__()

    def __sklearn_clone__(self) -> BaseTask:
        params = self.get_params(deep=False)
        shared = {"generator"} if params.get("prefit") else set()
        new = {k: (v if k in shared else _clone_param(v)) for k, v in params.items()}
        return type(self)(**new)

    def validate(self) -> BaseTask:
        """Check the parameters (what ``fit`` does first); returns self."""
        self._validate()
        return self

    def _validate(self) -> None:
        """Subclasses check their parameters here (never in ``__init__``)."""

    def _check_is_fitted(self, attribute: str) -> None:
        if not hasattr(self, attribute):
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")


def _clone_param(value: Any) -> Any:
    if hasattr(value, "__sklearn_clone__") and not isinstance(value, type):
        return value.__sklearn_clone__()
    return copy.deepcopy(value)
