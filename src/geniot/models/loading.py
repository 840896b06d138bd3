"""Load any saved generator by its registry name: from a model folder or from a ModelState.

The format itself (what ``save`` writes, how a class restores its state) is the generator
contract's, in ``geniot.core.base``; finding the class for a name is the registry's
(:mod:`geniot.models.registry`). Nothing is unpickled: JSON, ``npz`` with
``allow_pickle=False`` and torch weights with ``weights_only=True``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from geniot.core.base import BaseGenerator, ModelState
from geniot.core.exceptions import ArtifactError
from geniot.models.registry import generator_class


def generator_from_state(model_state: ModelState, *, where: str = "model state") -> BaseGenerator:
    """A fitted generator from ``get_state()``'s result (what :func:`load_generator` reads)."""
    spec = model_state.spec
    if not isinstance(spec, dict) or "name" not in spec:
        raise ArtifactError(f"{where}: the spec names no model")
    return generator_class(spec["name"]).restore(model_state, where=where)


def load_generator(path) -> BaseGenerator:
    """Load any saved generator from its folder (see :meth:`BaseGenerator.save`)."""
    path = Path(path)
    spec_file = path / "spec.json"
    if not spec_file.is_file():
        raise ArtifactError(f"{path} is not a geniot model folder (no spec.json)")
    try:
        spec = json.loads(spec_file.read_text())
        state = json.loads((path / "state.json").read_text())
        with np.load(path / "arrays.npz", allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError; so is a bad npz
        raise ArtifactError(f"{path}: unreadable model files ({exc})") from exc
    if not isinstance(spec, dict) or "name" not in spec or not isinstance(state, dict):
        raise ArtifactError(f"{path}: spec.json or state.json is not a geniot model description")
    cls = generator_class(spec["name"])
    return cls.restore(ModelState(spec, state, arrays, cls._read_weights(path)), where=str(path))
