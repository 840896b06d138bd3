"""L3 (beside tasks): predictors that learn their own model and use generators only to augment
scarce training data. ``RULEstimator`` (remaining useful life, its own torch network) and
``FaultClassifier`` (spectral features and logistic regression). They follow the task contract
(:class:`geniot.core.task.BaseTask`) but are not policies over a generator, so they live here."""

from geniot.predictors.faults import FaultClassifier, spectral_features
from geniot.predictors.rul import RULEstimator

__all__ = ["FaultClassifier", "RULEstimator", "spectral_features"]
