"""FlowGenerator: a normalizing flow (conditional RealNVP) over whole sensor windows.

The fourth family of generators the field uses, beside the VAE, the GAN and diffusion: an
invertible map from windows to a standard normal, so the likelihood is exact and sampling is one
pass through the inverse. Imputation has no closed form for a flow; geniot starts from the exact
conditional of the flow's Gaussian first layer and refines by Langevin dynamics on ``log p(x)``
with the observed values held fixed (an approximate sampler: ``native_impute=False``).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from geniot.core.tags import GeneratorTags
from geniot.models.flow.network import RealNVP
from geniot.models.gaussian.linalg import condition, group_by_pattern, robust_cholesky
from geniot.models.registry import register_generator
from geniot.models.torch_base import TorchGenerator
from geniot.nn.rng import seeded

_CHUNK = 2048


def fill_by_interpolation(X: np.ndarray, mask: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Each window's gaps filled by straight lines between its observed values per channel (held
    flat at the ends), or ``fallback[channel]`` where a window has none of that channel."""
    out = np.where(mask, X, 0.0).astype(np.float64)
    steps = np.arange(X.shape[1])
    for i, j in zip(*np.nonzero(~mask.all(axis=1)), strict=True):
        seen = mask[i, :, j]
        out[i, :, j] = np.interp(steps, steps[seen], X[i, seen, j]) if seen.any() else fallback[j]
    return out


@register_generator("flow")
class FlowGenerator(TorchGenerator):
    """Normalizing flow generator: sample, score (exact log-likelihood), impute (Langevin), conditional.

    Parameters
    ----------
    n_layers:
        Affine coupling layers (each moves half of the window's values given the other half).
    hidden:
        Width of each coupling layer's MLP.
    condition_dim:
        Width of the condition embedding fed to every coupling layer.
    impute_steps, step_size:
        Langevin steps per imputation draw and the step size (relative to the whitening
        Gaussian's conditional covariance of the gaps).

    Windows are standardised per channel (mean 0, sd 1) before the flow. Training needs whole
    windows: gaps are filled by straight lines within the window first (the flow then learns
    those lines as data, which is why windows with many gaps should be few).

    ``score_samples`` is the exact log-density of each window in the standardised units (the
    scaling's constant log-Jacobian is left out, as for the other models). A window with gaps is
    scored as completed by its most likely values (gradient ascent on the gaps): a profile
    likelihood, not the marginal, which is what anomaly attribution compares channel by channel.
    For a model fitted with conditions, ``impute`` and ``score_samples`` use the training mean
    of the conditions.
    """

    tags = GeneratorTags(conditional=True, native_impute=False, likelihood="exact")

    def __init__(
        self,
        *,
        n_layers: int = 6,
        hidden: int = 128,
        condition_dim: int = 8,
        impute_steps: int = 50,
        step_size: float = 0.1,
        epochs: int = 300,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        max_minutes: float | None = None,
        patience: int | None = 30,
        val_fraction: float = 0.1,
        random_state: int | None = 0,
    ) -> None:
        super().__init__(
            epochs=epochs, batch_size=batch_size, learning_rate=learning_rate, max_minutes=max_minutes,
            patience=patience, val_fraction=val_fraction, random_state=random_state,
        )  # fmt: skip
        self.n_layers = n_layers
        self.hidden = hidden
        self.condition_dim = condition_dim
        self.impute_steps = impute_steps
        self.step_size = step_size

    # ------------------------------------------------------------------ scaling and data
    def _fit_scaler(self, X: np.ndarray) -> None:
        # The base class maps x to 2 (x - min) / scale - 1; min = mean - sd and scale = 2 sd make
        # that the z-score, which suits a flow with a standard normal base better than [-1, 1].
        mean = np.nanmean(X, axis=(0, 1))
        std = np.nanstd(X, axis=(0, 1))
        std = np.where(std > 0, std, 1.0)
        self.data_min_ = mean - std
        self.data_scale_ = 2.0 * std

    def _to_tensors(self, X, mask, conditions):
        filled = fill_by_interpolation(X, mask, self.data_min_ + self.data_scale_ / 2.0)
        data = super()._to_tensors(filled, np.ones_like(mask), conditions)
        data["mask"] = torch.as_tensor(mask, dtype=torch.float32)
        return data

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, mask, conditions, progress) -> None:
        self._fit_scaler(X)
        self._whitening_data = self._to_tensors(X, mask, None)["x"].flatten(1)
        try:
            super()._fit(X, mask, conditions, progress)
        finally:
            del self._whitening_data

    def _build_module(self, n_steps: int, n_channels: int, n_conditions: int) -> RealNVP:
        net = RealNVP(
            n_steps, n_channels, n_conditions, n_layers=int(self.n_layers), hidden=int(self.hidden),
            condition_dim=int(self.condition_dim),
        )  # fmt: skip
        data = getattr(self, "_whitening_data", None)
        if data is not None:  # while fitting; a loaded model gets its whitening from the weights
            net.set_whitening(data)
        return net

    def _loss(self, batch):
        x = batch["x"].flatten(1)
        nll = -self.module_.log_prob(x, batch.get("cond")).mean() / x.shape[1]
        return {"loss": nll}

    def _sample_scaled(self, n: int, cond):
        return self.module_.sample(n, cond).reshape(n, self.n_steps_, self.n_channels_)

    def _mean_condition(self, n: int) -> torch.Tensor | None:
        if self.cond_mean_ is None:
            return None
        return torch.zeros(n, len(self.cond_mean_))  # the standardised training mean

    # ------------------------------------------------------------------ gaps
    def _complete(self, x: torch.Tensor, m: torch.Tensor, *, steps: int, noise: bool) -> torch.Tensor:
        """Fill the gaps (m == 0) of flattened standardised windows.

        Start from the whitening layer's Gaussian: its exact conditional draw (``noise``) or mean
        given the observed values; then ``steps`` of Langevin dynamics on the flow's ``log p``
        (gradient ascent without ``noise``), preconditioned by that Gaussian's conditional
        covariance so one step size suits every direction. With the coupling layers at their
        identity start this samples the Gaussian exactly."""
        net = self.module_
        cov = (net.unwhiten @ net.unwhiten.T).double().numpy()
        mean = net.center.double().numpy()
        cond = self._mean_condition(x.shape[0])
        values = x.clone()
        observed = m.numpy() > 0.5
        eps = float(self.step_size)
        for pattern, rows in group_by_pattern(observed):
            if pattern.all():
                continue
            gap = torch.as_tensor(~pattern)
            c_mean, c_cov = condition(mean, cov, pattern, x.numpy()[np.ix_(rows, pattern)].astype(np.float64))
            chol = torch.as_tensor(robust_cholesky(c_cov), dtype=torch.float32)
            precond = torch.as_tensor(c_cov, dtype=torch.float32)
            block = values[rows].clone()
            start = torch.as_tensor(c_mean, dtype=torch.float32)
            if noise:
                start = start + torch.randn(len(rows), int(gap.sum())) @ chol.T
            block[:, gap] = start
            for _ in range(max(0, int(steps))):
                block.requires_grad_(True)
                grad = torch.autograd.grad(net.log_prob(block, None if cond is None else cond[rows]).sum(), block)[0]
                with torch.no_grad():
                    move = 0.5 * eps * grad[:, gap] @ precond.T
                    if noise:
                        move = move + math.sqrt(eps) * torch.randn(len(rows), int(gap.sum())) @ chol.T
                    block = block.detach()
                    block[:, gap] = block[:, gap] + move
            values[rows] = block.detach()
        return values

    def _impute(self, X, mask, n_draws, random_state):
        n, t, c = X.shape
        data = self._to_tensors(X, mask, None)
        x, m = data["x"].flatten(1), data["mask"].flatten(1)
        out = np.empty((n_draws, n, t * c))
        with seeded(random_state):
            for d in range(n_draws):
                for s in range(0, n, _CHUNK):
                    xs, ms = x[s : s + _CHUNK], m[s : s + _CHUNK]
                    out[d, s : s + _CHUNK] = self._complete(xs, ms, steps=self.impute_steps, noise=True).double().numpy()
        return self._unscale(out.reshape(n_draws, n, t, c))

    # ------------------------------------------------------------------ likelihood
    def _score_samples(self, X, mask):
        data = self._to_tensors(X, mask, None)
        x, m = data["x"].flatten(1), data["mask"].flatten(1)
        scores = []
        for s in range(0, x.shape[0], _CHUNK):
            xs, ms = x[s : s + _CHUNK], m[s : s + _CHUNK]
            if not bool((ms == 0).any()):
                with torch.no_grad():
                    scores.append(self.module_.log_prob(xs, self._mean_condition(len(xs))).double().numpy())
                continue
            done = self._complete(xs, ms, steps=max(10, int(self.impute_steps) // 3), noise=False)
            with torch.no_grad():
                scores.append(self.module_.log_prob(done, self._mean_condition(len(xs))).double().numpy())
        return np.concatenate(scores)
