"""TimeVAE network (Desai et al. 2021): conv1d encoder, trend + seasonal + residual decoder.

Shapes are channel-last ``(batch, n_steps, n_channels)`` at the boundary; the module
transposes to ``(batch, channels, steps)`` only around its convolutions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from geniot.nn.blocks import ConditionEmbedding


class TimeVAENetwork(nn.Module):
    """Encoder ``q(z | x, c)`` and decoder mean ``mu(z, c)`` of TimeVAE.

    Decoder output = level/trend block (polynomial of degree ``trend_degree`` in time, with
    per-channel coefficients from z) + optional seasonal blocks (one value per season and
    channel, repeated for ``len_per_season`` steps) + a residual conv-transpose decoder.
    """

    def __init__(
        self,
        n_steps: int,
        n_channels: int,
        n_conditions: int,
        *,
        latent_dim: int,
        hidden: Sequence[int],
        trend_degree: int,
        seasonality: Sequence[Sequence[int]] | None,
        condition_dim: int,
    ) -> None:
        super().__init__()
        hidden = [int(h) for h in hidden]
        if not hidden:
            raise ValueError("hidden needs at least one layer width")
        self.n_steps, self.n_channels, self.latent_dim = n_steps, n_channels, latent_dim
        self.n_conditions = n_conditions
        cdim = condition_dim if n_conditions > 0 else 0
        self.cond_embed = (
            ConditionEmbedding(n_conditions, cdim) if n_conditions > 0 else None
        )

        # ---- encoder: strided conv1d stack -> flatten -> mean, logvar
        layers: list[nn.Module] = []
        in_ch, length = n_channels + cdim, n_steps
        for h in hidden:
            layers += [nn.Conv1d(in_ch, h, kernel_size=3, stride=2, padding=1), nn.ReLU()]
            in_ch, length = h, math.ceil(length / 2)
        self.encoder = nn.Sequential(*layers, nn.Flatten())
        self.enc_len = length
        self.to_mean = nn.Linear(hidden[-1] * length, latent_dim)
        self.to_logvar = nn.Linear(hidden[-1] * length, latent_dim)

        # ---- decoder input: z (+ condition embedding)
        zin = latent_dim + cdim

        # level + trend: coefficients of 1, s, s^2, ... (s = step / n_steps) per channel
        self.n_poly = int(trend_degree) + 1
        self.trend = nn.Sequential(
            nn.Linear(zin, n_channels * self.n_poly),
            nn.ReLU(),
            nn.Linear(n_channels * self.n_poly, n_channels * self.n_poly),
        )
        s = torch.arange(n_steps, dtype=torch.float32) / max(n_steps, 1)
        self.register_buffer("poly", torch.stack([s**p for p in range(self.n_poly)], dim=0))

        # optional seasonal blocks: (num_seasons, len_per_season) pairs
        self.seasons = nn.ModuleList()
        self._season_index: list[str] = []
        for k, (num, length_per) in enumerate(seasonality or ()):
            num, length_per = int(num), int(length_per)
            self.seasons.append(nn.Linear(zin, n_channels * num))
            idx = (torch.arange(n_steps) // length_per) % num
            name = f"season_index_{k}"
            self.register_buffer(name, idx, persistent=False)
            self._season_index.append(name)

        # residual decoder: dense -> conv-transpose stack (doubling length) -> dense
        self.dec_in = nn.Sequential(nn.Linear(zin, hidden[-1] * self.enc_len), nn.ReLU())
        tlayers: list[nn.Module] = []
        widths = list(reversed(hidden))
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            tlayers += [
                nn.ConvTranspose1d(a, b, kernel_size=3, stride=2, padding=1, output_padding=1),
                nn.ReLU(),
            ]
        tlayers += [
            nn.ConvTranspose1d(widths[-1], n_channels, kernel_size=3, stride=2, padding=1, output_padding=1),
            nn.Flatten(),
        ]
        self.dec_conv = nn.Sequential(*tlayers)
        dec_len = self.enc_len * 2 ** len(hidden)
        self.dec_out = nn.Linear(n_channels * dec_len, n_steps * n_channels)

    # ------------------------------------------------------------------ parts
    def embed(self, cond: torch.Tensor | None, n: int) -> torch.Tensor | None:
        if self.cond_embed is None:
            return None
        return self.cond_embed(cond, n)

    def encode(self, x: torch.Tensor, emb: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        h = x.transpose(1, 2)  # (B, c, t)
        if emb is not None:
            h = torch.cat([h, emb[:, :, None].expand(-1, -1, h.shape[2])], dim=1)
        h = self.encoder(h)
        return self.to_mean(h), self.to_logvar(h).clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor, emb: torch.Tensor | None) -> torch.Tensor:
        if emb is not None:
            z = torch.cat([z, emb], dim=1)
        b = z.shape[0]
        coeffs = self.trend(z).view(b, self.n_channels, self.n_poly)
        out = torch.matmul(coeffs, self.poly)  # (B, c, t)
        for block, name in zip(self.seasons, self._season_index, strict=True):
            vals = block(z).view(b, self.n_channels, -1)
            out = out + vals[:, :, getattr(self, name)]
        out = out.transpose(1, 2)  # (B, t, c)
        h = self.dec_in(z).view(b, -1, self.enc_len)
        resid = self.dec_out(self.dec_conv(h)).view(b, self.n_steps, self.n_channels)
        return out + resid

    def forward(self, x: torch.Tensor, cond: torch.Tensor | None = None):
        emb = self.embed(cond, x.shape[0])
        mean, logvar = self.encode(x, emb)
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
        return self.decode(z, emb), mean, logvar
