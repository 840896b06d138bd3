"""WGANGenerator: a Wasserstein GAN with gradient penalty (Gulrajani et al. 2017) for windows.

A GRU generator maps a noise sequence (per-step noise plus a per-window noise vector, and a
condition embedding) to a window in scaled units; a conv1d critic scores windows. The
critic is trained ``n_critic`` times per generator update with the gradient penalty
(weight ``gp_weight``) on random interpolates of real and generated windows.
"""

from __future__ import annotations

import math

import torch

from geniot.core.tags import GeneratorTags
from geniot.models.gan.network import WGANNetwork
from geniot.models.registry import register_generator
from geniot.models.torch_base import TorchGenerator

_BETAS = (0.5, 0.9)


@register_generator("gan")
class WGANGenerator(TorchGenerator):
    """WGAN-GP generator of windows: sample (optionally conditional); no impute, no likelihood.

    Parameters
    ----------
    noise_dim:
        Size of the per-step noise and of the per-window noise vector fed to the generator.
    hidden, num_layers:
        Width and depth of the generator's GRU.
    critic_hidden:
        Channel width of the conv1d critic.
    n_critic:
        Critic updates per generator update. Each call of the training step updates the
        critic on one batch; every ``n_critic``-th call also updates the generator.
    gp_weight:
        Weight (lambda) of the gradient penalty.
    condition_dim:
        Width of the condition embedding (added to the generator's input at every step and
        to the critic's input channels).
    learning_rate:
        Adam's step size for both networks (betas fixed at (0.5, 0.9), as in WGAN-GP).

    Stopping and model selection: GAN losses are poor stopping criteria, so ``patience``
    defaults to ``None`` and training runs for ``epochs`` or ``max_minutes``. The validation
    value (kept in ``history_`` as ``val_loss``, and used by the shared loop to keep the best
    weights) is a critic-independent moment discrepancy between held-out real windows and
    generated ones: the mean absolute difference of per-(step, channel) means and standard
    deviations, plus that of the standard deviations of step-to-step differences.
    With ``val_fraction=0`` the final weights are kept (the step reports no ``loss``).

    Gaps in the training data: when at least half of the windows are complete, the critic
    sees only complete windows (windows with gaps are dropped from each batch); otherwise
    gaps are filled with the window's observed mean of the channel (0, the middle of the
    scaled range, when the window has none). The choice is stored as ``gap_strategy_``.

    ``impute`` and ``score_samples`` raise :class:`~geniot.core.exceptions.CapabilityError`:
    a GAN has neither a likelihood nor an inference network.
    """

    tags = GeneratorTags(conditional=True, native_impute=False, likelihood="none")

    def __init__(
        self,
        *,
        noise_dim: int = 16,
        hidden: int = 64,
        num_layers: int = 2,
        critic_hidden: int = 32,
        n_critic: int = 5,
        gp_weight: float = 10.0,
        condition_dim: int = 8,
        epochs: int = 300,
        batch_size: int = 64,
        learning_rate: float = 2e-4,
        max_minutes: float | None = None,
        patience: int | None = None,
        val_fraction: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(
            epochs=epochs,
            batch_size=batch_size,
            learning_rate=learning_rate,
            max_minutes=max_minutes,
            patience=patience,
            val_fraction=val_fraction,
            random_state=random_state,
        )
        self.noise_dim = noise_dim
        self.hidden = hidden
        self.num_layers = num_layers
        self.critic_hidden = critic_hidden
        self.n_critic = n_critic
        self.gp_weight = gp_weight
        self.condition_dim = condition_dim

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, mask, conditions, progress) -> None:
        complete = mask.all(axis=(1, 2))
        self.gap_strategy_ = "drop" if complete.mean() >= 0.5 else "fill"
        super()._fit(X, mask, conditions, progress)

    def _build_module(self, n_steps: int, n_channels: int, n_conditions: int) -> WGANNetwork:
        return WGANNetwork(
            n_steps,
            n_channels,
            n_conditions,
            noise_dim=int(self.noise_dim),
            hidden=int(self.hidden),
            num_layers=int(self.num_layers),
            critic_hidden=int(self.critic_hidden),
            condition_dim=int(self.condition_dim),
        )

    def _real(self, batch: dict[str, torch.Tensor]):
        """Real windows for the critic, with gaps handled by ``gap_strategy_``."""
        x, m, cond = batch["x"], batch["mask"], batch.get("cond")
        if getattr(self, "gap_strategy_", "fill") == "drop":
            keep = m.flatten(1).all(dim=1)
            if keep.all():
                return x, cond
            if keep.any():
                return x[keep], None if cond is None else cond[keep]
        counts = m.sum(dim=1, keepdim=True)
        means = (x * m).sum(dim=1, keepdim=True) / counts.clamp_min(1.0)
        return m * x + (1.0 - m) * means, cond

    def _make_step(self):
        net: WGANNetwork = self.module_
        lr = float(self.learning_rate)
        opt_g = torch.optim.Adam(net.generator_parameters(), lr=lr, betas=_BETAS)
        opt_d = torch.optim.Adam(net.critic_parameters(), lr=lr, betas=_BETAS)
        n_critic = max(1, int(self.n_critic))
        gp_weight = float(self.gp_weight)
        state = {"calls": 0, "generator_loss": math.nan}

        def step(batch: dict[str, torch.Tensor]) -> dict[str, float]:
            real, cond = self._real(batch)
            n = real.shape[0]
            # ---- critic update
            with torch.no_grad():
                fake = net.generate(n, cond)
            d_real = net.criticize(real, cond).mean()
            d_fake = net.criticize(fake, cond).mean()
            eps = torch.rand(n, 1, 1)
            inter = (eps * real + (1.0 - eps) * fake).requires_grad_(True)
            (grad,) = torch.autograd.grad(
                net.criticize(inter, cond).sum(), inter, create_graph=True
            )
            penalty = (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()
            wasserstein = d_real - d_fake
            critic_loss = -wasserstein + gp_weight * penalty
            opt_d.zero_grad(set_to_none=True)
            critic_loss.backward()
            opt_d.step()
            # ---- generator update every n_critic calls
            state["calls"] += 1
            if state["calls"] % n_critic == 0:
                gen_loss = -net.criticize(net.generate(n, cond), cond).mean()
                opt_g.zero_grad(set_to_none=True)
                gen_loss.backward()
                opt_g.step()
                state["generator_loss"] = float(gen_loss.detach())
            return {
                "critic_loss": float(critic_loss.detach()),
                "wasserstein": float(wasserstein.detach()),
                "gradient_penalty": float(penalty.detach()),
                "generator_loss": state["generator_loss"],
            }

        return step

    def _validate(self, batch: dict[str, torch.Tensor]) -> float:
        """Moment discrepancy between real held-out windows and generated ones (lower = better)."""
        real, cond = self._real(batch)
        fake = self.module_.generate(real.shape[0], cond)

        def stats(x: torch.Tensor) -> list[torch.Tensor]:
            out = [x.mean(0), x.std(0, unbiased=False)]
            if x.shape[1] > 1:
                out.append(x.diff(dim=1).std(0, unbiased=False))
            return out

        return float(
            sum((a - b).abs().mean() for a, b in zip(stats(real), stats(fake), strict=True))
        )

    def _sample_scaled(self, n: int, cond: torch.Tensor | None) -> torch.Tensor:
        return self.module_.generate(n, cond)

    # ------------------------------------------------------------------ persistence
    def _get_state(self):
        state, arrays = super()._get_state()
        state["gap_strategy_"] = self.gap_strategy_
        return state, arrays

    def _set_state(self, state, arrays, weights) -> None:
        self.gap_strategy_ = state.get("gap_strategy_", "fill")
        super()._set_state(state, arrays, weights)
