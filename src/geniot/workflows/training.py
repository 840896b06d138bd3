"""Train a generator on windows and save it as an artifact folder (shared by CLI and service)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import GeniotError
from geniot.core.registry import generator_class
from geniot.privacy import DPGenerator  # importing registers "dp", so DP artifacts load
from geniot.workflows.datasets import WindowSet, time_split_windows


def build_model(
    name: str,
    *,
    params: dict[str, Any] | None = None,
    max_minutes: float | None = None,
    seed: int | None = None,
    epsilon: float | None = None,
    delta: float = 1e-5,
) -> BaseGenerator:
    """A generator from its registry name; ``max_minutes`` and ``seed`` go where the model has them.

    With ``epsilon`` the generator is wrapped in a :class:`~geniot.privacy.DPGenerator` that trains
    it with DP-SGD within the (epsilon, delta) budget.
    """
    cls = generator_class(name)
    accepted = {
        p.name for p in inspect.signature(cls.__init__).parameters.values() if p.kind == p.KEYWORD_ONLY
    }
    params = dict(params or {})
    unknown = sorted(set(params) - accepted)
    if unknown:
        raise GeniotError(f"model {name!r} has no parameter(s) {unknown}; it takes {sorted(accepted)}")
    if max_minutes is not None and "max_minutes" in accepted:
        params.setdefault("max_minutes", max_minutes)
    if seed is not None and "random_state" in accepted:
        params.setdefault("random_state", seed)
    model = cls(**params)
    if epsilon is not None:
        if isinstance(model, DPGenerator):
            raise GeniotError("the model is already a DP generator; set its epsilon in --params instead of --epsilon")
        model = DPGenerator(generator=model, epsilon=float(epsilon), delta=float(delta), random_state=seed)
    return model


def parse_params(text: str | None) -> dict[str, Any]:
    """Model parameters from a JSON object given on the command line."""
    if not text:
        return {}
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise GeniotError(f"--params must be a JSON object: {exc}") from exc
    if not isinstance(params, dict):
        raise GeniotError("--params must be a JSON object, e.g. '{\"epochs\": 50}'")
    return params


def train_and_save(
    data: WindowSet,
    model: BaseGenerator,
    out: Path | None,
    *,
    window: int,
    stride: int = 1,
    holdout: float = 0.0,
    progress: Callable[[dict], None] | None = None,
    train_rows: int | None = None,
) -> BaseGenerator:
    """Fit ``model`` on the windows, record where they came from, and save it to ``out``.

    ``holdout`` keeps the last fraction of windows (in time order) out of training so that
    the memorization check can compare synthetic windows with real windows the model never saw.
    """
    train = data.windows if holdout <= 0 else time_split_windows(data.windows, 1.0 - holdout)[0]
    model.fit(train, progress=progress)
    model.metadata_ = {
        "channels": list(data.channels),
        "units": data.units,
        "assets": list(data.assets),
        "window": int(window),
        "stride": int(stride),
        "source": data.source,
        "holdout": float(holdout),
        "n_training_windows": int(len(train)),
        "train_rows": None if train_rows is None else int(train_rows),
    }
    if out is not None:
        model.save(out)
    return model


def channel_names(model: BaseGenerator) -> list[str]:
    """The training data's channel names, or ch0..chN for models fitted on bare arrays."""
    names = getattr(model, "metadata_", {}).get("channels")
    return list(names) if names else [f"ch{i}" for i in range(model.n_channels_)]
