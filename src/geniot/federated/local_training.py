"""One round of local training of a torch generator at a site, starting from the global weights.

The site runs the model's own ``fit`` (its loss, its optimiser step, its extra statistics, the one
training loop with early stopping on a local hold-out) with three hooks replaced on the instance:

* the scaler is the federation's (pooled per-channel min and max), not the site's, so that every
  site's weights work in the same units;
* the module is built and then loaded with the global weights instead of fresh ones;
* for FedProx, the loss gains ``mu / 2 * ||w - w_global||^2`` over the trainable parameters.

Optional client-side DP: the round's update ``w - w_global`` is clipped to L2 norm ``dp_clip`` and
Gaussian noise of standard deviation ``dp_noise * dp_clip`` is added before it leaves the site
(the Gaussian mechanism on one update; the privacy spent over rounds is not accounted here).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from geniot.core.exceptions import CapabilityError
from geniot.models.torch_base import TorchGenerator


@dataclass
class LocalUpdate:
    generator: TorchGenerator  # fitted at the site (its fitted arrays are the site's own)
    n_windows: int
    train_loss: float
    val_loss: float
    update_norm: float


def check_trainable(generator, strategy: str) -> None:
    """A clear error for generators the round-based federation cannot train."""
    if not isinstance(generator, TorchGenerator):
        raise CapabilityError(f"{type(generator).__name__} is not a torch generator; only torch models train in rounds")
    if strategy == "fedprox" and generator.registry_name == "gan":
        raise CapabilityError("fedprox needs a generator trained through its loss (vae, diffusion); the GAN has its own step")


def train_locally(
    template: TorchGenerator,
    windows: np.ndarray,
    *,
    global_weights: dict,
    data_min: np.ndarray,
    data_scale: np.ndarray,
    epochs: int,
    seed: int,
    proximal_mu: float = 0.0,
    dp_clip: float | None = None,
    dp_noise: float = 0.0,
) -> LocalUpdate:
    import torch

    gen = template.clone().set_params(epochs=int(epochs), random_state=int(seed))
    cls = type(gen)

    def fit_scaler(X):  # the federation's scaling, not this site's
        gen.data_min_ = np.asarray(data_min, dtype=np.float64)
        gen.data_scale_ = np.asarray(data_scale, dtype=np.float64)

    def build_module(n_steps, n_channels, n_conditions):
        module = cls._build_module(gen, n_steps, n_channels, n_conditions)
        module.load_state_dict(global_weights)
        anchor.update({n: p.detach().clone() for n, p in module.named_parameters() if p.requires_grad})
        return module

    anchor: dict[str, torch.Tensor] = {}
    gen._fit_scaler = fit_scaler
    gen._build_module = build_module
    if proximal_mu > 0:
        base_loss = gen._loss

        def proximal_loss(batch, *args, **kwargs):
            out = dict(base_loss(batch, *args, **kwargs))
            params = dict(gen.module_.named_parameters())
            prox = sum(((params[n] - w) ** 2).sum() for n, w in anchor.items())
            out["loss"] = out["loss"] + 0.5 * float(proximal_mu) * prox
            return out

        gen._loss = proximal_loss
    gen.fit(windows)
    # Drop the instance hooks again: the fitted model must behave like any other.
    for hook in ("_fit_scaler", "_build_module", "_loss"):
        gen.__dict__.pop(hook, None)

    state = gen.module_.state_dict()
    norm = _update_norm(state, global_weights)
    if dp_clip is not None:
        norm = _privatise(state, global_weights, float(dp_clip), float(dp_noise), seed)
        gen.module_.load_state_dict(state)
    last = gen.history_[-1] if gen.history_ else {}
    best = min((h.get("val_loss", np.inf) for h in gen.history_), default=np.nan)
    return LocalUpdate(gen, len(windows), float(last.get("train_loss", np.nan)), float(best), norm)


def _float_keys(state: dict) -> list[str]:
    return [k for k, v in state.items() if v.is_floating_point()]


def _update_norm(state: dict, global_weights: dict) -> float:
    total = sum(float(((state[k] - global_weights[k].to(state[k].dtype)) ** 2).sum()) for k in _float_keys(state))
    return float(np.sqrt(total))


def _privatise(state: dict, global_weights: dict, clip: float, noise: float, seed: int) -> float:
    """Clip the update to ``clip`` and add N(0, (noise * clip)^2) to each coordinate, in place."""
    import torch

    keys = _float_keys(state)
    norm = _update_norm(state, global_weights)
    factor = min(1.0, clip / max(norm, 1e-12))
    generator = torch.Generator().manual_seed(int(seed) + 7919)
    for k in keys:
        g = global_weights[k].to(state[k].dtype)
        delta = (state[k] - g) * factor
        if noise > 0:
            delta = delta + torch.randn(delta.shape, generator=generator, dtype=delta.dtype) * (noise * clip)
        state[k] = g + delta
    return norm
