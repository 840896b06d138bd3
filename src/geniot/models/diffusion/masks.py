"""Random conditioning masks for training the denoiser to fill gaps (CSDI-style).

Each training window gets a mask of the entries the denoiser may *see* (1) as conditioning.
With probability ``p_uncond`` it sees nothing (plain generation); otherwise it sees the
observed entries minus one hidden pattern: random points, a block of time in some channels,
a whole-row outage, or the future (last steps hidden: forecasting).
"""

from __future__ import annotations

import torch

PATTERNS = ("points", "channel_block", "row_block", "future")


def draw_cond_mask(observed: torch.Tensor, p_uncond: float, max_gap: float = 0.5) -> torch.Tensor:
    """A float conditioning mask shaped like ``observed`` (B, T, C), using torch's global RNG.

    ``max_gap`` is the longest block of time hidden, as a share of the window: outages of a few
    channels longer than it are never seen in training (at 0.5, a 30-step outage in a 48-step
    window is not)."""
    b, t, c = observed.shape
    longest = max(1, int(round(float(max_gap) * t)))
    steps = torch.arange(t).view(1, t, 1)

    # random points: each entry hidden with a per-window rate in U(0.1, 0.9)
    rate = 0.1 + 0.8 * torch.rand(b, 1, 1)
    points = torch.rand(b, t, c) < rate

    # a block of time: start anywhere, 1 .. longest steps long
    length = torch.randint(1, longest + 1, (b, 1, 1))
    start = (torch.rand(b, 1, 1) * (t - length + 1)).long()
    in_block = (steps >= start) & (steps < start + length)
    channels = torch.rand(b, 1, c) < 0.5
    channels[torch.arange(b), 0, torch.randint(0, c, (b,))] = True  # at least one channel
    channel_block = in_block & channels
    row_block = in_block.expand(b, t, c)

    # the future: the last 1 .. t//2 steps of every channel
    horizon = torch.randint(1, max(2, t // 2 + 1), (b, 1, 1))
    future = (steps >= t - horizon).expand(b, t, c)

    hidden = torch.stack([points, channel_block, row_block, future])  # (4, B, T, C)
    choice = torch.randint(0, len(PATTERNS), (b,))
    hidden = hidden[choice, torch.arange(b)]
    uncond = (torch.rand(b, 1, 1) < p_uncond).expand(b, t, c)
    hidden = hidden | uncond
    return observed * (~hidden).float()
