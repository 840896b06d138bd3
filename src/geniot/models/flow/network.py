"""A conditional RealNVP (Dinh et al. 2017) over flattened windows.

Each coupling layer keeps half of the coordinates (a fixed binary mask) and moves the other half
by an affine map whose log-scale and shift come from a small MLP of the kept half and the
condition embedding; the log-scale is bounded by ``tanh`` so that training stays stable. Fixed
random permutations between layers (buffers, saved with the weights) mix time steps and channels.
The base distribution is a standard normal, so ``log p(x)`` is exact.

The first layer is a fixed affine whitening of the training windows (their mean and covariance):
with the coupling layers at their identity start, the flow *is* the multivariate Gaussian of the
windows, and training only has to learn what is not Gaussian. That keeps the flow's samples from
ever being worse than the Gaussian's at the start, and its tails from exploding.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Coupling(nn.Module):
    def __init__(self, dim: int, hidden: int, cond_dim: int, keep: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("keep", keep.float())
        self.net = nn.Sequential(
            nn.Linear(dim + cond_dim, hidden), nn.SiLU(),
            nn.Linear(hidden, hidden), nn.SiLU(),
            nn.Linear(hidden, 2 * dim),
        )  # fmt: skip
        nn.init.zeros_(self.net[-1].weight)  # starts as the identity map
        nn.init.zeros_(self.net[-1].bias)
        self.scale = nn.Parameter(torch.ones(dim))

    def _params(self, x: torch.Tensor, cond: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        inp = x * self.keep if cond is None else torch.cat([x * self.keep, cond], dim=1)
        log_s, shift = self.net(inp).chunk(2, dim=1)
        move = 1.0 - self.keep
        return self.scale.clamp(-2.0, 2.0) * torch.tanh(log_s) * move, shift * move

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """x -> z and log|det dz/dx| per row."""
        log_s, shift = self._params(x, cond)
        return x * torch.exp(log_s) + shift, log_s.sum(dim=1)

    def inverse(self, z: torch.Tensor, cond: torch.Tensor | None) -> torch.Tensor:
        log_s, shift = self._params(z, cond)  # the kept half is the same in x and z
        return (z - shift) * torch.exp(-log_s)


class RealNVP(nn.Module):
    def __init__(self, n_steps: int, n_channels: int, n_conditions: int, *, n_layers: int, hidden: int,
                 condition_dim: int, seed: int = 0) -> None:  # fmt: skip
        super().__init__()
        self.n_steps, self.n_channels = n_steps, n_channels
        dim = n_steps * n_channels
        self.dim = dim
        self.cond = None if n_conditions == 0 else nn.Sequential(nn.Linear(n_conditions, condition_dim), nn.SiLU())
        cond_dim = 0 if n_conditions == 0 else condition_dim
        rng = torch.Generator().manual_seed(seed)
        layers, perms = [], []
        for k in range(n_layers):
            keep = (torch.arange(dim) % 2 == k % 2) if dim > 1 else torch.zeros(dim, dtype=torch.bool)
            layers.append(Coupling(dim, hidden, cond_dim, keep))
            perms.append(torch.randperm(dim, generator=rng))
        self.layers = nn.ModuleList(layers)
        self.register_buffer("perms", torch.stack(perms))
        self.register_buffer("inverse_perms", torch.argsort(torch.stack(perms), dim=1))
        self.register_buffer("center", torch.zeros(dim))
        self.register_buffer("whiten", torch.eye(dim))
        self.register_buffer("unwhiten", torch.eye(dim))
        self.register_buffer("log_det_whiten", torch.zeros(()))

    def set_whitening(self, windows: torch.Tensor, ridge: float = 1e-3) -> None:
        """Fix the first layer to whiten ``windows`` (n, dim): z = W (x - mean), W = Σ^(-1/2)."""
        x = windows.double()
        mean = x.mean(dim=0)
        cov = torch.cov((x - mean).T).reshape(self.dim, self.dim) + ridge * torch.eye(self.dim, dtype=torch.float64)
        eigval, eigvec = torch.linalg.eigh(cov)
        eigval = eigval.clamp_min(ridge)
        self.center.copy_(mean.float())
        self.whiten.copy_((eigvec * eigval.rsqrt()) @ eigvec.T)
        self.unwhiten.copy_((eigvec * eigval.sqrt()) @ eigvec.T)
        self.log_det_whiten.copy_(-0.5 * torch.log(eigval).sum())

    def embed(self, cond: torch.Tensor | None) -> torch.Tensor | None:
        return None if self.cond is None or cond is None else self.cond(cond)

    def log_prob(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        """Exact log-density of flattened windows ``x`` (n, dim) in the model's units."""
        h = self.embed(cond)
        z = (x - self.center) @ self.whiten.T
        total = self.log_det_whiten.expand(x.shape[0])
        for layer, perm in zip(self.layers, self.perms, strict=True):
            z, log_det = layer(z, h)
            total = total + log_det
            z = z[:, perm]
        base = -0.5 * (z.pow(2).sum(dim=1) + self.dim * math.log(2 * math.pi))
        return base + total

    def sample(self, n: int, cond: torch.Tensor | None = None) -> torch.Tensor:
        h = self.embed(cond)
        z = torch.randn(n, self.dim)
        for layer, inv in zip(reversed(self.layers), reversed(self.inverse_perms), strict=True):
            z = layer.inverse(z[:, inv], h)
        return z @ self.unwhiten.T + self.center
