"""Draw many synthetic windows in chunks across workers.

Chunk ``i`` draws with its own seed, spawned from ``random_state``; the draws depend on the
seed and the chunk size only, so every engine (and any number of workers) gives the same
windows. They are not the windows of one big ``generator.sample(n, random_state=...)`` call,
whose random stream runs through all windows in turn.
"""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.scale.engine import Progress, SerialEngine

DEFAULT_CHUNK_WINDOWS = 1024


def sample_chunk(generator: BaseGenerator, n: int, seed: int) -> np.ndarray:
    """The task: ``n`` windows drawn with ``seed``."""
    return generator.sample(n, random_state=seed)


def sample_parallel(
    generator: BaseGenerator,
    n_samples: int,
    *,
    engine=None,
    chunk_windows: int = DEFAULT_CHUNK_WINDOWS,
    random_state: int = 0,
    progress: Progress | None = None,
) -> np.ndarray:
    """``n_samples`` windows (n, t, c) from a fitted generator, drawn chunk by chunk."""
    if int(n_samples) < 1:
        raise DataError(f"n_samples must be at least 1, got {n_samples}")
    if int(chunk_windows) < 1:
        raise DataError(f"chunk_windows must be at least 1, got {chunk_windows}")
    if not generator.is_fitted:
        raise DataError(f"{type(generator).__name__} is not fitted; sample from a fitted generator")
    sizes = [min(int(chunk_windows), int(n_samples) - s) for s in range(0, int(n_samples), int(chunk_windows))]
    seeds = np.random.SeedSequence(int(random_state)).generate_state(len(sizes)) & 0x7FFFFFFF
    engine = engine or SerialEngine()
    shared = engine.share(generator)
    parts = engine.map(sample_chunk, [(shared, n, int(seed)) for n, seed in zip(sizes, seeds, strict=True)], progress=progress)
    return np.concatenate(parts)
