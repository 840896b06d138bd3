"""Small torch building blocks shared by the generators."""

from __future__ import annotations

import torch
from torch import nn


class ConditionEmbedding(nn.Module):
    """Linear embedding of standardised condition columns.

    ``None`` stands for the training mean of the conditions, which standardisation maps to 0:
    models use it where a verb (impute, score) takes no conditions.
    """

    def __init__(self, n_conditions: int, dim: int) -> None:
        super().__init__()
        self.n_conditions = n_conditions
        self.linear = nn.Linear(n_conditions, dim)

    def forward(self, cond: torch.Tensor | None, n: int) -> torch.Tensor:
        if cond is None:
            cond = torch.zeros(n, self.n_conditions, device=self.linear.weight.device)
        return self.linear(cond)
