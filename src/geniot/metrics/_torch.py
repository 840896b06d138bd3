"""Small torch models used by the learned metrics (a GRU classifier and a GRU forecaster)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn


class GRUHead(nn.Module):
    """One-layer GRU with a linear head: on the last state or on every state."""

    def __init__(self, n_in: int, hidden: int, n_out: int, *, every_step: bool) -> None:
        super().__init__()
        self.gru = nn.GRU(n_in, hidden, num_layers=1, batch_first=True)
        self.head = nn.Linear(hidden, n_out)
        self.every_step = every_step

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, h = self.gru(x)
        if self.every_step:
            return self.head(out)
        return self.head(h[-1])


def build(seed: int, n_in: int, hidden: int, n_out: int, *, every_step: bool, device) -> GRUHead:
    """Build the module with weights drawn from ``seed`` without touching the global RNG."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        module = GRUHead(n_in, hidden, n_out, every_step=every_step)
    return module.to(device)


def batch_index(rng: np.random.Generator, n: int, batch_size: int) -> np.ndarray:
    """``batch_size`` distinct indices from ``range(n)`` (all of them when n is smaller)."""
    if n <= batch_size:
        return rng.permutation(n)
    return rng.choice(n, size=batch_size, replace=False)


def to_tensor(x: np.ndarray, device) -> torch.Tensor:
    return torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32), device=device)
