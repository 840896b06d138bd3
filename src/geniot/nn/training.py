"""The one training loop every torch generator uses.

A model supplies a ``step`` callable (one optimisation step on a batch, returning its
losses) and a ``validate`` callable (loss on a batch without gradients). The loop owns
batching, shuffling, early stopping on the validation loss, keeping the best weights,
the wall-clock budget and progress reporting. GANs pass their own ``step``; they never
rewrite the loop.
"""

from __future__ import annotations

import copy
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

Batch = dict[str, torch.Tensor]
ProgressCallback = Callable[[dict], None]


@dataclass
class LoopConfig:
    epochs: int = 100
    batch_size: int = 64
    max_minutes: float | None = None
    patience: int | None = 20
    val_fraction: float = 0.1
    min_epochs: int = 1


def _batches(data: Batch, index: torch.Tensor, batch_size: int):
    for start in range(0, len(index), batch_size):
        idx = index[start : start + batch_size]
        yield {k: v[idx] for k, v in data.items()}


def split_validation(data: Batch, fraction: float, generator: torch.Generator) -> tuple[Batch, Batch | None]:
    """Random hold-out of windows for early stopping (windows, not time: it guards overfit)."""
    n = next(iter(data.values())).shape[0]
    n_val = int(round(n * fraction))
    if fraction <= 0 or n_val < 1 or n - n_val < 1:
        return data, None
    perm = torch.randperm(n, generator=generator)
    val_idx, train_idx = perm[:n_val], perm[n_val:]
    return {k: v[train_idx] for k, v in data.items()}, {k: v[val_idx] for k, v in data.items()}


def train_loop(
    module: nn.Module,
    data: Batch,
    *,
    step: Callable[[Batch], dict[str, float]],
    validate: Callable[[Batch], float],
    config: LoopConfig,
    generator: torch.Generator,
    progress: ProgressCallback | None = None,
    val_data: Batch | None = None,
) -> list[dict]:
    """Train ``module`` in place and leave it holding the best weights. Returns the history.

    ``val_data`` replaces the random hold-out of ``config.val_fraction`` when samples are not
    independent (e.g. overlapping windows of one machine: hold out whole machines instead)."""
    started = time.monotonic()
    budget_s = None if config.max_minutes is None else float(config.max_minutes) * 60.0
    if val_data is not None:
        train, val = data, val_data
    else:
        train, val = split_validation(data, config.val_fraction, generator)
    n_train = next(iter(train.values())).shape[0]
    batch_size = max(1, min(config.batch_size, n_train))
    history: list[dict] = []
    best_loss, best_state, since_best = math.inf, None, 0
    stop_reason = "epochs"

    for epoch in range(1, int(config.epochs) + 1):
        module.train()
        perm = torch.randperm(n_train, generator=generator)
        sums: dict[str, float] = {}
        n_batches = 0
        out_of_time = False
        for batch in _batches(train, perm, batch_size):
            losses = step(batch)
            for key, value in losses.items():
                sums[key] = sums.get(key, 0.0) + float(value)
            n_batches += 1
            if budget_s is not None and time.monotonic() - started > budget_s:
                out_of_time = True
                break
        record = {"epoch": epoch, **{f"train_{k}": v / max(1, n_batches) for k, v in sums.items()}}
        module.eval()
        if val is not None:
            with torch.no_grad():
                val_losses = [float(validate(b)) for b in _batches(val, torch.arange(len(next(iter(val.values())))), 512)]
            record["val_loss"] = sum(val_losses) / len(val_losses)
            monitored = record["val_loss"]
        else:
            monitored = record.get("train_loss", math.nan)
        record["elapsed_s"] = round(time.monotonic() - started, 3)
        history.append(record)

        if monitored < best_loss:
            best_loss, since_best = monitored, 0
            best_state = copy.deepcopy(module.state_dict())
        else:
            since_best += 1
        if progress is not None:
            progress({**record, "epochs": int(config.epochs), "best_loss": best_loss})
        if out_of_time:
            stop_reason = "time budget"
            break
        if config.patience is not None and since_best >= config.patience and epoch >= config.min_epochs:
            stop_reason = "early stopping"
            break

    if best_state is not None:
        module.load_state_dict(best_state)
    module.eval()
    if history:
        history[-1]["stop_reason"] = stop_reason
    return history


def optimizer_step(
    module: nn.Module,
    optimizer: torch.optim.Optimizer,
    loss_fn: Callable[[Batch], dict[str, torch.Tensor]],
    *,
    grad_clip: float | None = 1.0,
) -> Callable[[Batch], dict[str, float]]:
    """The default ``step``: backpropagate ``loss_fn(batch)["loss"]`` and update."""

    def step(batch: Batch) -> dict[str, float]:
        optimizer.zero_grad(set_to_none=True)
        losses = loss_fn(batch)
        losses["loss"].backward()
        if grad_clip is not None:
            nn.utils.clip_grad_norm_(module.parameters(), grad_clip)
        optimizer.step()
        return {k: float(v.detach()) for k, v in losses.items()}

    return step
