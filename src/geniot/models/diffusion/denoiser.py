"""The denoising network: a small transformer over time steps that predicts clean windows.

Input per time step (CSDI-style conditioning on observed values):
``[noisy x_t, observed values * cond_mask, cond_mask]`` for every channel. A local
convolution embeds them, a learned positional embedding marks the step, and each block is
modulated by the diffusion-step embedding (plus an optional condition embedding) through
adaptive layer norm, as in DiT and Diffusion-TS.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class SinusoidalEmbedding(nn.Module):
    """Transformer-style embedding of the integer diffusion step."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        half = self.dim // 2
        freqs = torch.exp(
            -math.log(10000.0) * torch.arange(half, device=t.device) / max(1, half - 1)
        )
        args = t.float()[:, None] * freqs[None]
        emb = torch.cat([args.sin(), args.cos()], dim=-1)
        if self.dim % 2:
            emb = F.pad(emb, (0, 1))
        return emb


class AdaLayerNorm(nn.Module):
    """LayerNorm whose scale and shift come from the step/condition embedding."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim, elementwise_affine=False)
        self.to_scale_shift = nn.Linear(dim, 2 * dim)
        nn.init.zeros_(self.to_scale_shift.weight)
        nn.init.zeros_(self.to_scale_shift.bias)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        scale, shift = self.to_scale_shift(emb).unsqueeze(1).chunk(2, dim=-1)
        return self.norm(h) * (1 + scale) + shift


class Block(nn.Module):
    """Pre-norm transformer block: self-attention over time, then an MLP."""

    def __init__(self, dim: int, n_heads: int, mlp_ratio: int = 2, dropout: float = 0.0) -> None:
        super().__init__()
        if dim % n_heads:
            raise ValueError(f"d_model={dim} must be divisible by n_heads={n_heads}")
        self.n_heads = n_heads
        self.norm1 = AdaLayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm2 = AdaLayerNorm(dim)
        self.mlp = nn.Sequential(
            nn.Linear(dim, mlp_ratio * dim), nn.SiLU(), nn.Linear(mlp_ratio * dim, dim)
        )
        self.dropout = nn.Dropout(dropout)

    def forward(self, h: torch.Tensor, emb: torch.Tensor) -> torch.Tensor:
        b, t, d = h.shape
        q, k, v = (
            self.qkv(self.norm1(h, emb)).view(b, t, 3, self.n_heads, d // self.n_heads).unbind(2)
        )
        attn = F.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)
        )
        h = h + self.dropout(self.proj(attn.transpose(1, 2).reshape(b, t, d)))
        h = h + self.dropout(self.mlp(self.norm2(h, emb)))
        return h


class Denoiser(nn.Module):
    """Predicts clean windows x0 (B, T, C) from noisy ones, the step and the observed values."""

    def __init__(
        self,
        n_steps: int,
        n_channels: int,
        n_conditions: int = 0,
        *,
        d_model: int = 64,
        n_layers: int = 3,
        n_heads: int = 4,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.input_conv = nn.Conv1d(3 * n_channels, d_model, kernel_size=3, padding=1)
        self.pos_emb = nn.Parameter(torch.randn(1, n_steps, d_model) * 0.02)
        self.step_emb = nn.Sequential(
            SinusoidalEmbedding(d_model),
            nn.Linear(d_model, 2 * d_model),
            nn.SiLU(),
            nn.Linear(2 * d_model, d_model),
        )
        self.cond_emb = nn.Linear(n_conditions, d_model) if n_conditions > 0 else None
        self.blocks = nn.ModuleList(
            [Block(d_model, n_heads, dropout=dropout) for _ in range(n_layers)]
        )
        self.norm_out = AdaLayerNorm(d_model)
        self.output = nn.Linear(d_model, n_channels)

    def embed(
        self, t: torch.Tensor, cond: torch.Tensor | None, cond_keep: torch.Tensor | None
    ) -> torch.Tensor:
        """Step embedding plus the condition embedding (dropped where ``cond_keep`` is 0)."""
        emb = self.step_emb(t)
        if self.cond_emb is not None and cond is not None:
            c = self.cond_emb(cond)
            if cond_keep is not None:
                c = c * cond_keep[:, None]
            emb = emb + c
        return F.silu(emb)

    def forward(
        self,
        x_t: torch.Tensor,
        t: torch.Tensor,
        observed: torch.Tensor,
        cond_mask: torch.Tensor,
        cond: torch.Tensor | None = None,
        cond_keep: torch.Tensor | None = None,
    ) -> torch.Tensor:
        inp = torch.cat([x_t, observed * cond_mask, cond_mask], dim=-1)  # (B, T, 3C)
        h = self.input_conv(inp.transpose(1, 2)).transpose(1, 2) + self.pos_emb
        emb = self.embed(t, cond, cond_keep)
        for block in self.blocks:
            h = block(h, emb)
        return self.output(self.norm_out(h, emb))


class DiffusionModule(nn.Module):
    """The online denoiser, its exponential moving average, and the noise schedule."""

    def __init__(self, net: Denoiser, ema: Denoiser, schedule: nn.Module) -> None:
        super().__init__()
        self.net = net
        self.ema = ema
        self.schedule = schedule
        for p in self.ema.parameters():
            p.requires_grad_(False)
        self.register_buffer("ema_updates", torch.zeros((), dtype=torch.long))

    @torch.no_grad()
    def update_ema(self, decay: float) -> None:
        """EMA of the weights with a warm-up (early averages forget the random init fast)."""
        k = int(self.ema_updates)
        d = min(float(decay), (1.0 + k) / (10.0 + k))
        for e, p in zip(self.ema.parameters(), self.net.parameters(), strict=True):
            e.lerp_(p, 1.0 - d)
        self.ema_updates += 1
