"""WGAN-GP networks: a GRU generator driven by noise sequences and a conv1d critic.

Shapes are channel-last ``(batch, n_steps, n_channels)`` at the boundary.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from geniot.nn.blocks import ConditionEmbedding


class GRUGenerator(nn.Module):
    """Noise sequence -> window. Each step gets its own noise plus a per-window noise vector
    (held over the window, so that window-level traits such as level vary between windows)
    and the condition embedding; a GRU and a linear head with tanh map into [-1, 1]."""

    def __init__(self, n_steps, n_channels, noise_dim, hidden, num_layers, cond_dim) -> None:
        super().__init__()
        self.n_steps, self.noise_dim = n_steps, noise_dim
        self.gru = nn.GRU(2 * noise_dim + cond_dim, hidden, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden, n_channels)

    def noise(self, n: int) -> torch.Tensor:
        step = torch.randn(n, self.n_steps, self.noise_dim)
        window = torch.randn(n, 1, self.noise_dim).expand(-1, self.n_steps, -1)
        return torch.cat([step, window], dim=2)

    def forward(self, noise: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        if emb is not None:
            noise = torch.cat([noise, emb[:, None, :].expand(-1, noise.shape[1], -1)], dim=2)
        h, _ = self.gru(noise)
        return torch.tanh(self.head(h))


class ConvCritic(nn.Module):
    """Conv1d critic (no normalisation layers: the gradient penalty is per sample)."""

    def __init__(self, n_steps, n_channels, hidden, cond_dim) -> None:
        super().__init__()
        layers: list[nn.Module] = [
            nn.Conv1d(n_channels + cond_dim, hidden, kernel_size=5, padding=2),
            nn.LeakyReLU(0.2),
        ]
        length, width = n_steps, hidden
        for _ in range(2):
            layers += [nn.Conv1d(width, 2 * hidden, kernel_size=5, stride=2, padding=2), nn.LeakyReLU(0.2)]
            width, length = 2 * hidden, math.ceil(length / 2)
        self.body = nn.Sequential(*layers, nn.Flatten())
        self.head = nn.Linear(width * length, 1)

    def forward(self, x: torch.Tensor, emb: torch.Tensor | None = None) -> torch.Tensor:
        h = x.transpose(1, 2)
        if emb is not None:
            h = torch.cat([h, emb[:, :, None].expand(-1, -1, h.shape[2])], dim=1)
        return self.head(self.body(h)).squeeze(1)


class WGANNetwork(nn.Module):
    """Generator and critic, each with its own condition embedding."""

    def __init__(
        self,
        n_steps: int,
        n_channels: int,
        n_conditions: int,
        *,
        noise_dim: int,
        hidden: int,
        num_layers: int,
        critic_hidden: int,
        condition_dim: int,
    ) -> None:
        super().__init__()
        cdim = condition_dim if n_conditions > 0 else 0
        self.n_conditions = n_conditions
        self.gen_embed = ConditionEmbedding(n_conditions, cdim) if cdim else None
        self.critic_embed = ConditionEmbedding(n_conditions, cdim) if cdim else None
        self.generator = GRUGenerator(n_steps, n_channels, noise_dim, hidden, num_layers, cdim)
        self.critic = ConvCritic(n_steps, n_channels, critic_hidden, cdim)

    def generator_parameters(self):
        yield from self.generator.parameters()
        if self.gen_embed is not None:
            yield from self.gen_embed.parameters()

    def critic_parameters(self):
        yield from self.critic.parameters()
        if self.critic_embed is not None:
            yield from self.critic_embed.parameters()

    @staticmethod
    def _embed(embed: ConditionEmbedding | None, cond: torch.Tensor | None, n: int):
        if embed is None:
            return None
        return embed(cond, n)

    def generate(self, n: int, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.generator(self.generator.noise(n), self._embed(self.gen_embed, cond, n))

    def criticize(self, x: torch.Tensor, cond: torch.Tensor | None = None) -> torch.Tensor:
        return self.critic(x, self._embed(self.critic_embed, cond, x.shape[0]))
