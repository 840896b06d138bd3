"""A fitted generator as flat numeric arrays plus JSON state, and back: what travels in messages.

Any generator round-trips through its in-memory state (``get_state`` / ``geniot.models.generator_from_state``,
the same pieces ``save`` and ``load`` write and read), so the federation needs no per-model code,
no temporary folders, and never unpickles: only plain numeric arrays and JSON travel. Keys are prefixed so one flat record holds both:
``w.<name>`` for a torch module's state_dict entries, ``a.<name>`` for the fitted arrays
(scaler, Gaussian moments, ...). FedAvg averages the whole record, which is right for weights and,
weighted by windows, for per-site statistics such as a channel mean.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from geniot.core.base import ARTIFACT_FORMAT, BaseGenerator, ModelState
from geniot.core.exceptions import ArtifactError
from geniot.models.loading import generator_from_state
from geniot.models.registry import generator_class

WEIGHT_PREFIX = "w."
ARRAY_PREFIX = "a."
COMMON_STATE = ("n_channels_", "n_steps_", "n_conditions_", "history_", "channel_names_", "training_", "metadata_")


def weights_to_arrays(state_dict) -> dict[str, np.ndarray]:
    """A torch state_dict as ``{"w.<name>": ndarray}``."""
    return {WEIGHT_PREFIX + k: v.detach().cpu().numpy().copy() for k, v in state_dict.items()}


def arrays_to_weights(arrays: dict[str, np.ndarray]) -> dict:
    """The ``w.`` entries of a flat record as a torch state_dict (other entries are ignored)."""
    import torch

    return {
        k[len(WEIGHT_PREFIX) :]: torch.from_numpy(np.ascontiguousarray(v))
        for k, v in arrays.items()
        if k.startswith(WEIGHT_PREFIX)
    }


def generator_payload(generator: BaseGenerator) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """``(arrays, state)`` of a fitted generator: prefixed arrays and its ``state.json`` content."""
    model = generator.get_state()
    arrays = {ARRAY_PREFIX + k: np.array(v, copy=True) for k, v in model.arrays.items()}
    if model.weights is not None:
        arrays.update({WEIGHT_PREFIX + k: np.array(v, copy=True) for k, v in model.weights.items()})
    return arrays, json.loads(json.dumps(model.state))  # plain JSON, as a message carries it


def generator_from_payload(
    name: str, params: dict[str, Any], arrays: dict[str, np.ndarray], state: dict[str, Any]
) -> BaseGenerator:
    """Rebuild a fitted generator from :func:`generator_payload`'s pieces (through ``generator_from_state``)."""
    cls = generator_class(name)
    missing = [k for k in ("n_channels_", "n_steps_") if k not in state]
    if missing:
        raise ArtifactError(f"federated model state lacks {missing}")
    from geniot import __version__

    spec = {"format": ARTIFACT_FORMAT, "name": name, "params": params, "geniot_version": __version__, "tags": cls.tags.to_dict()}
    full_state = {"n_conditions_": 0, "history_": [], "channel_names_": None, "training_": {}, **state}
    plain = {k[len(ARRAY_PREFIX) :]: v for k, v in arrays.items() if k.startswith(ARRAY_PREFIX)}
    weights = {k[len(WEIGHT_PREFIX) :]: v for k, v in arrays.items() if k.startswith(WEIGHT_PREFIX)} or None
    return generator_from_state(ModelState(spec, full_state, plain, weights), where="federated model")


def model_state(state: dict[str, Any]) -> dict[str, Any]:
    """The model-specific part of a ``state.json`` (without shapes, history, channel names and record)."""
    return {k: v for k, v in state.items() if k not in COMMON_STATE}
