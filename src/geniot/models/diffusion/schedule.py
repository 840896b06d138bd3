"""Noise schedule and sampling steps of a Gaussian diffusion that predicts x0.

Forward process: ``x_t = sqrt(a_t) * x0 + sqrt(1 - a_t) * eps`` with ``a_t`` the cumulative
product of ``1 - beta``. The network predicts ``x0`` directly (as Diffusion-TS does for time
series); the reverse step is DDIM's (Song et al. 2021), whose ``eta`` interpolates between a
deterministic path (``eta=0``) and ancestral DDPM sampling (``eta=1`` over every step).
"""

from __future__ import annotations

import math

import torch
from torch import nn


def cosine_betas(timesteps: int, s: float = 0.008) -> torch.Tensor:
    """Nichol & Dhariwal's cosine schedule."""
    steps = torch.arange(timesteps + 1, dtype=torch.float64) / timesteps
    f = torch.cos((steps + s) / (1 + s) * math.pi / 2) ** 2
    alphas_cumprod = f / f[0]
    betas = 1 - alphas_cumprod[1:] / alphas_cumprod[:-1]
    return betas.clamp(1e-5, 0.999)


def linear_betas(timesteps: int) -> torch.Tensor:
    """Ho et al.'s linear schedule, rescaled so that any length ends at the same noise level."""
    scale = 1000.0 / timesteps
    return torch.linspace(scale * 1e-4, scale * 0.02, timesteps, dtype=torch.float64).clamp(
        max=0.999
    )


class NoiseSchedule(nn.Module):
    """Buffers of the forward process and the DDIM/DDPM reverse step."""

    def __init__(self, timesteps: int, kind: str = "cosine") -> None:
        super().__init__()
        if kind == "cosine":
            betas = cosine_betas(timesteps)
        elif kind == "linear":
            betas = linear_betas(timesteps)
        else:
            raise ValueError(f"unknown beta schedule {kind!r}; use 'cosine' or 'linear'")
        self.timesteps = int(timesteps)
        alphas_cumprod = torch.cumprod(1.0 - betas, dim=0)
        # Buffers are derived, not learned: keep them out of the state_dict.
        self.register_buffer("alphas_cumprod", alphas_cumprod.float(), persistent=False)

    def _ab(self, t: torch.Tensor) -> torch.Tensor:
        """Cumulative alpha at integer steps ``t`` (-1 means "no noise": 1.0), shaped (B, 1, 1)."""
        ab = torch.where(
            t >= 0, self.alphas_cumprod[t.clamp(min=0)], torch.ones_like(t, dtype=torch.float32)
        )
        return ab.view(-1, 1, 1)

    def q_sample(self, x0: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        """Noise clean windows ``x0`` to level ``t``."""
        ab = self._ab(t)
        return ab.sqrt() * x0 + (1 - ab).sqrt() * noise

    def step_pairs(self, sampling_steps: int | None) -> list[tuple[int, int]]:
        """(t, t_prev) pairs from the noisiest step down to clean (t_prev = -1)."""
        n = (
            self.timesteps
            if sampling_steps is None
            else max(1, min(int(sampling_steps), self.timesteps))
        )
        ts = torch.linspace(self.timesteps - 1, 0, n).round().long().tolist()
        ts = list(dict.fromkeys(ts))  # unique, order kept
        return list(zip(ts, ts[1:] + [-1], strict=True))

    def reverse_step(
        self,
        x_t: torch.Tensor,
        x0_hat: torch.Tensor,
        t: int,
        t_prev: int,
        eta: float,
    ) -> torch.Tensor:
        """One DDIM step from level ``t`` to ``t_prev`` given the predicted clean windows."""
        if t_prev < 0:
            return x0_hat
        ab = self.alphas_cumprod[t]
        ab_prev = self.alphas_cumprod[t_prev]
        eps = (x_t - ab.sqrt() * x0_hat) / (1 - ab).sqrt()
        sigma = eta * ((1 - ab_prev) / (1 - ab) * (1 - ab / ab_prev)).clamp(min=0).sqrt()
        direction = (1 - ab_prev - sigma**2).clamp(min=0).sqrt() * eps
        x_prev = ab_prev.sqrt() * x0_hat + direction
        if eta > 0:
            x_prev = x_prev + sigma * torch.randn_like(x_t)
        return x_prev
