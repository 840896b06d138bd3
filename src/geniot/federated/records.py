"""Numpy dicts and plans in and out of Flower records (the only place that knows their types)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from geniot.core.extras import require
from geniot.federated.plan import FederatedPlan

PLAN_KEY = "plan"


def flwr_app():
    """``flwr.app``, or an error naming the extra to install."""
    require("flwr", "federated")
    import flwr.app

    return flwr.app


def to_array_record(arrays: dict[str, np.ndarray]):
    app = flwr_app()
    return app.ArrayRecord(array_dict={k: app.Array(np.ascontiguousarray(v)) for k, v in arrays.items()})


def from_array_record(record) -> dict[str, np.ndarray]:
    return {k: np.asarray(v.numpy()) for k, v in record.items()}


def config_record(plan: FederatedPlan, **values: Any):
    """A ConfigRecord with the plan (JSON) and further values (lists of floats or strings, scalars)."""
    app = flwr_app()
    out: dict[str, Any] = {PLAN_KEY: plan.to_json()}
    for key, value in values.items():
        if isinstance(value, np.ndarray):
            value = [float(v) for v in value.ravel()]
        elif isinstance(value, dict):
            value = json.dumps(value)
        out[key] = value
    return app.ConfigRecord(out)


def plan_from(config) -> FederatedPlan:
    if PLAN_KEY not in config:
        raise ValueError("message carries no federated plan")
    return FederatedPlan.from_json(str(config[PLAN_KEY]))
