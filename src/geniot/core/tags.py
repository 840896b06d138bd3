"""Capability tags: what a generator can do, so that a task knows what it may call."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

Likelihood = Literal["exact", "bound", "none"]


@dataclass(frozen=True)
class GeneratorTags:
    """Capabilities of a generator class.

    conditional: ``fit``/``sample`` accept ``conditions`` (labels or operating settings).
    native_impute: ``impute`` conditions on observed values inside the model.
    likelihood: ``score_samples`` is an exact log-likelihood, a bound on it, or unavailable.
    requires_torch: the model needs PyTorch at run time.
    """

    conditional: bool = False
    native_impute: bool = False
    likelihood: Likelihood = "none"
    requires_torch: bool = True

    def to_dict(self) -> dict:
        return asdict(self)
