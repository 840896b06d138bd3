"""What a federation trains and how: one JSON-able settings object the server sends to every site.

The same :class:`FederatedPlan` drives the simulation and the real processes; it travels to the
clients inside every message (never through files), so a site needs nothing but its own data.
"""

from __future__ import annotations

import dataclasses
import inspect
import json
from dataclasses import dataclass, field
from typing import Any

from geniot.core.exceptions import DataError
from geniot.models.registry import generator_class

STRATEGIES = ("fedavg", "fedprox")


@dataclass(frozen=True)
class FederatedPlan:
    """Settings of one federated training.

    model, params:
        Registry name of the generator and its constructor parameters. ``gaussian`` is fitted
        exactly from pooled sufficient statistics (one pass, no rounds); a torch generator
        (``vae``, ``diffusion``, ``gan``) is trained for ``rounds`` rounds of ``local_epochs``.
    window, stride:
        Windows cut from each site's normal data.
    strategy, proximal_mu:
        ``fedavg`` or ``fedprox`` (FedProx adds ``proximal_mu / 2 * ||w - w_global||^2`` to the
        local loss, which keeps sites with unlike data from pulling the model apart).
    train_rows:
        The first ``train_rows`` rows of each series are normal data to learn from; the rest is
        held out and, where the file has an ``anomaly`` column, scored for F1. ``None``: all rows
        are normal data and nothing is held out.
    calibration_fraction:
        Share of each series' normal rows (the latest) kept out of training to set the threshold,
        as :class:`geniot.tasks.AnomalyDetector` does.
    threshold, risk, level, quantile, min_event_steps, merge_gap:
        The detector's threshold rule and event clean-up (see ``AnomalyDetector``).
    normalize:
        ``"none"``, or ``"series"``: each site standardises every series by the mean and standard
        deviation of its own normal rows before windowing (SKAB's per-file scaler). The global
        model then learns normal behaviour relative to each machine's own operating point; its
        inputs must be standardised the same way. The statistics never leave the site.
    threshold_scope:
        ``"pooled"``: the federation's threshold (pooled POT) is used everywhere; ``"series"``:
        for the reported F1 each series is also calibrated on its own normal rows, at its site
        (a personalised threshold over the shared model). The saved model holds the pooled one.
    dp_clip, dp_noise:
        Optional client-side clipping of each round's weight update to L2 norm ``dp_clip`` and
        Gaussian noise of standard deviation ``dp_noise * dp_clip`` added to it (torch models).
    min_sites, timeout_s:
        Sites the server waits for, and how long it waits for any one reply.
    out:
        Folder the server writes the global model to ("" = do not save).
    """

    model: str = "gaussian"
    params: dict[str, Any] = field(default_factory=dict)
    window: int = 16
    stride: int = 1
    rounds: int = 3
    local_epochs: int = 2
    strategy: str = "fedavg"
    proximal_mu: float = 0.1
    train_rows: int | None = None
    calibration_fraction: float = 0.25
    threshold: str | float = "pot"
    risk: float = 1e-3
    level: float = 0.95
    quantile: float = 0.99
    min_event_steps: int = 1
    merge_gap: int = 0
    normalize: str = "none"
    threshold_scope: str = "pooled"
    dp_clip: float | None = None
    dp_noise: float = 0.0
    seed: int = 0
    min_sites: int = 2
    timeout_s: float = 600.0
    out: str = ""

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ checks
    def validate(self) -> None:
        cls = generator_class(self.model)  # raises naming the known models
        accepted = {p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY}
        unknown = sorted(set(self.params) - accepted)
        if unknown:
            raise DataError(f"model {self.model!r} has no parameter(s) {unknown}; it takes {sorted(accepted)}")
        if self.normalize not in ("none", "series"):
            raise DataError(f"normalize must be 'none' or 'series', got {self.normalize!r}")
        if self.threshold_scope not in ("pooled", "series"):
            raise DataError(f"threshold_scope must be 'pooled' or 'series', got {self.threshold_scope!r}")
        if self.strategy not in STRATEGIES:
            raise DataError(f"strategy must be one of {STRATEGIES}, got {self.strategy!r}")
        for name in ("window", "stride", "rounds", "local_epochs", "min_sites", "min_event_steps"):
            if int(getattr(self, name)) < 1:
                raise DataError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.window < 2:
            raise DataError(f"window must be at least 2 steps, got {self.window}")
        if self.train_rows is not None and int(self.train_rows) < 2:
            raise DataError(f"train_rows must be at least 2, got {self.train_rows}")
        if not 0.0 <= float(self.calibration_fraction) < 1.0:
            raise DataError(f"calibration_fraction must be in [0, 1), got {self.calibration_fraction}")
        if self.strategy == "fedprox" and self.model == "gan":
            raise DataError("fedprox adds its term to the model's loss; the GAN trains by its own step: use fedavg")
        if self.strategy == "fedprox" and float(self.proximal_mu) <= 0:
            raise DataError(f"fedprox needs proximal_mu > 0, got {self.proximal_mu}")
        if self.dp_clip is not None and float(self.dp_clip) <= 0:
            raise DataError(f"dp_clip must be positive, got {self.dp_clip}")
        if float(self.dp_noise) < 0 or (float(self.dp_noise) > 0 and self.dp_clip is None):
            raise DataError("dp_noise must be >= 0 and needs dp_clip (noise is scaled by the clip norm)")
        if self.is_exact and self.dp_clip is not None:
            raise DataError("client-side DP applies to torch models' weight updates, not to 'gaussian'")

    @property
    def is_exact(self) -> bool:
        """The Gaussian baseline is fitted exactly from summed statistics, without rounds."""
        return self.model == "gaussian"

    # ------------------------------------------------------------------ transport
    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> FederatedPlan:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(f"federated plan is not valid JSON: {exc}") from exc
        if not isinstance(data, dict):
            raise DataError("federated plan must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise DataError(f"federated plan has unknown field(s) {unknown}")
        return cls(**data)

    def replace(self, **changes: Any) -> FederatedPlan:
        return dataclasses.replace(self, **changes)
