"""Seeded torch randomness without touching the caller's global RNG state."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch


def resolve_seed(random_state) -> int:
    """An int seed from None (fresh entropy), an int, or a numpy Generator."""
    if random_state is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**31 - 1))
    return int(random_state)


@contextlib.contextmanager
def seeded(random_state) -> Iterator[int]:
    """Run a block under a fixed torch seed, restoring the global RNG afterwards.

    Module initialisation and dropout use torch's global generator; forking it keeps
    geniot deterministic under ``random_state`` without seeding anything globally.
    """
    seed = resolve_seed(random_state)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield seed
