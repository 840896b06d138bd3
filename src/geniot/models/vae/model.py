"""TimeVAE: a variational autoencoder of sensor windows (Desai et al. 2021).

Encoder: strided conv1d stack -> mean and log-variance of ``q(z | x)``. Decoder: an
interpretable level/trend block (a polynomial in time with per-channel coefficients drawn
from z), optional seasonal blocks, and a residual conv-transpose decoder, summed. The
likelihood is Gaussian with a fixed variance set by ``reconstruction_weight`` (TimeVAE's
``reconstruction_wt``), in the model's scaled units ([-1, 1] per channel).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import torch

from geniot.core.tags import GeneratorTags
from geniot.models.marginal_map import apply_marginal_map, fit_marginal_map
from geniot.models.registry import register_generator
from geniot.models.torch_base import TorchGenerator
from geniot.models.vae.network import TimeVAENetwork
from geniot.nn.rng import seeded

_CHUNK = 4096
_DEFAULT_HIDDEN = (32, 64, 128)
_SCORE_SEED = 0
_CALIBRATION_SEED = 0
_CALIBRATION_WINDOWS = 8192


@register_generator("vae")
class TimeVAE(TorchGenerator):
    """TimeVAE generator: sample, impute (pseudo-Gibbs), score (ELBO), conditional.

    Parameters
    ----------
    latent_dim:
        Size of z.
    hidden:
        Channel widths of the encoder's strided conv1d layers (the decoder mirrors them).
        Each layer halves the length. ``None`` means (32, 64, 128) (a default that JSON
        specs round-trip unchanged; TimeVAE's paper uses (50, 100, 200)).
    trend_degree:
        Degree of the level/trend polynomial in time (0 = level only).
    seasonality:
        Optional seasonal blocks as ``[(num_seasons, len_per_season), ...]``: each adds one
        learned value per season and channel, held for ``len_per_season`` steps.
    reconstruction_weight:
        Weight of the summed squared reconstruction error against the KL term (TimeVAE's
        ``reconstruction_wt``; 3.0 in the paper). It is the Gaussian likelihood with variance
        ``1 / (2 * reconstruction_weight)`` in scaled units, which ``score_samples`` uses.
    kl_weight:
        Weight of the KL term (1.0 = the ELBO).
    condition_dim:
        Width of the condition embedding, concatenated to the encoder's input features
        (at every step) and to z for the decoder.
    impute_iterations:
        Number K of pseudo-Gibbs iterations per imputation chain.
    white_noise:
        Sample ``decoder mean + white noise``, the noise being the step-to-step covariation
        across channels that the decoder mean lacks on the training windows (see
        ``_white_noise_factor``). Off: samples are decoder means, flat on noise-like channels.
    calibrate_marginals:
        Map each channel of the samples through a monotone quantile map so that its
        distribution over all steps matches the training values' (1,001 quantiles), keeping
        the samples' ranks, hence their temporal and cross-channel structure. It fixes what a
        Gaussian decoder cannot draw: bounded, skewed, spiky or discrete channels.

    Training uses only observed entries: the reconstruction term is masked (TimeVAE's loss,
    summed squared error plus the error of per-channel time means, over observed entries);
    the encoder sees gaps as 0 (the middle of the scaled range).

    Imputation (``native_impute=False``: an approximation, not exact conditioning) is the
    pseudo-Gibbs / Markov-chain method of Rezende et al. (2014): gaps are first filled with
    the window's observed mean of the channel (the training mean of the channel where the
    window has none), then K times: encode, draw z from ``q(z | x)``, decode, and replace
    only the missing entries with the decoder mean. Each draw is an independent chain;
    observed values are returned bit for bit.

    ``score_samples`` is the evidence lower bound per window (higher = more typical) with
    only observed entries in the reconstruction term, averaged over a fixed set of z draws
    (deterministic), in scaled units (the scaling's log-Jacobian, a constant, is left out).

    For a model fitted with conditions, ``impute`` and ``score_samples`` (which take no
    conditions) use the training mean of the conditions.
    """

    tags = GeneratorTags(conditional=True, native_impute=False, likelihood="bound")

    def __init__(
        self,
        *,
        latent_dim: int = 8,
        hidden: Sequence[int] | None = None,
        trend_degree: int = 2,
        seasonality: Sequence[Sequence[int]] | None = None,
        reconstruction_weight: float = 3.0,
        kl_weight: float = 1.0,
        condition_dim: int = 8,
        impute_iterations: int = 20,
        white_noise: bool = True,
        calibrate_marginals: bool = True,
        epochs: int = 300,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        max_minutes: float | None = None,
        patience: int | None = 30,
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
        self.latent_dim = latent_dim
        self.hidden = hidden
        self.trend_degree = trend_degree
        self.seasonality = seasonality
        self.reconstruction_weight = reconstruction_weight
        self.kl_weight = kl_weight
        self.condition_dim = condition_dim
        self.impute_iterations = impute_iterations
        self.white_noise = white_noise
        self.calibrate_marginals = calibrate_marginals

    # ------------------------------------------------------------------ hooks
    def _fit(self, X, mask, conditions, progress) -> None:
        self.channel_mean_ = np.nanmean(X, axis=(0, 1))
        super()._fit(X, mask, conditions, progress)
        # Both are fitted statistics of the sampler only: impute and score_samples use the
        # decoder mean and the ELBO, unchanged.
        self.noise_factor_ = self._white_noise_factor(X, mask, conditions) if self.white_noise else None
        self.duplicate_of_ = self._duplicate_channels(X)
        self.marginal_map_ = None
        if self.calibrate_marginals:
            self.marginal_map_ = self._marginal_map(X, conditions)

    @staticmethod
    def _duplicate_channels(X) -> np.ndarray:
        """Per channel, the first earlier channel equal to it in every training value (-1: none).

        Plants store one signal under two tags (Energy's ``rv2`` is ``rv1``). A decoder draws
        two slightly different copies, and a classifier spots the difference at once; samples
        copy the earlier channel instead.
        """
        c = X.shape[2]
        dup = np.full(c, -1, dtype=np.int64)
        for j in range(1, c):
            for i in range(j):
                if dup[i] < 0 and np.array_equal(X[..., i], X[..., j], equal_nan=True):
                    dup[j] = i
                    break
        return dup

    def _marginal_map(self, X, conditions) -> np.ndarray:
        """(2, levels, c): per-channel quantiles of raw samples (row 0) and training values (row 1)."""
        n = int(min(max(X.shape[0], 1024), _CALIBRATION_WINDOWS))
        rng = np.random.default_rng(_CALIBRATION_SEED)
        cond = None if conditions is None else conditions[rng.integers(0, len(conditions), n)]
        return fit_marginal_map(super()._sample(n, cond, _CALIBRATION_SEED), X)

    def _white_noise_factor(self, X, mask, conditions) -> np.ndarray:
        """Factor ``L`` (c x c, ``L @ L.T = S``) of the step-to-step noise the decoder mean lacks.

        A decoder mean has no white noise: on channels that are noise (Energy's ``rv1`` and
        ``rv2``, one random series stored twice) it is flat, and a classifier tells every
        sampled window from a real one. ``S`` restores the real step-to-step covariation:
        ``E[dx dx'] = E[dmu dmu'] + 2 S``, with ``mu`` the reconstruction of the training windows
        at the posterior mean and ``d`` the difference of consecutive observed steps; its
        negative eigenvalues (channels the decoder already varies enough) are set to 0. Across
        channels, not per channel: noise that two channels share must stay shared.
        """
        data = self._to_tensors(X, mask, conditions)
        x, m = data["x"].double(), data["mask"].double()
        c = x.shape[2]
        if x.shape[1] < 2:
            return np.zeros((c, c))
        net = self.module_
        gap = torch.zeros(c, c, dtype=torch.float64)
        pairs = torch.zeros(c, c, dtype=torch.float64)
        with torch.no_grad():
            for s in range(0, x.shape[0], _CHUNK):
                xs, ms = x[s : s + _CHUNK], m[s : s + _CHUNK]
                cs = None if data.get("cond") is None else data["cond"][s : s + _CHUNK]
                emb = net.embed(cs, xs.shape[0])
                mu = net.decode(net.encode(xs.float(), emb)[0], emb).double()
                pm = ms[:, 1:] * ms[:, :-1]
                dx = (xs[:, 1:] - xs[:, :-1]) * pm
                dmu = (mu[:, 1:] - mu[:, :-1]) * pm
                gap += torch.einsum("btc,btd->cd", dx, dx) - torch.einsum("btc,btd->cd", dmu, dmu)
                pairs += torch.einsum("btc,btd->cd", pm, pm)
        cov = (gap / (2.0 * pairs.clamp_min(1.0))).numpy()
        vals, vecs = np.linalg.eigh((cov + cov.T) / 2.0)
        return vecs * np.sqrt(np.clip(vals, 0.0, None))

    def _build_module(self, n_steps: int, n_channels: int, n_conditions: int) -> TimeVAENetwork:
        return TimeVAENetwork(
            n_steps,
            n_channels,
            n_conditions,
            latent_dim=int(self.latent_dim),
            hidden=_DEFAULT_HIDDEN if self.hidden is None else tuple(self.hidden),
            trend_degree=int(self.trend_degree),
            seasonality=self.seasonality,
            condition_dim=int(self.condition_dim),
        )

    @staticmethod
    def _kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """KL(q(z|x) || N(0, I)) per window."""
        return 0.5 * torch.sum(mean.pow(2) + logvar.exp() - 1.0 - logvar, dim=1)

    def _loss(self, batch: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        x, m = batch["x"], batch["mask"]
        recon, mean, logvar = self.module_(x, batch.get("cond"))
        sq = (recon - x).pow(2) * m
        rec = sq.sum(dim=(1, 2))
        # TimeVAE's second term: error of each channel's mean over time (observed steps only).
        counts = m.sum(dim=1).clamp_min(1.0)
        mean_err = ((recon * m).sum(dim=1) / counts - (x * m).sum(dim=1) / counts).pow(2)
        rec = rec + mean_err.sum(dim=1)
        kl = self._kl(mean, logvar)
        w = float(self.reconstruction_weight)
        loss = (w * rec + float(self.kl_weight) * kl).mean()
        return {"loss": loss, "reconstruction": rec.mean(), "kl": kl.mean()}

    def _sample(self, n, conditions, random_state):
        out = super()._sample(n, conditions, random_state)
        # no map: switched off, or DP training (the map reads the data)
        apply_marginal_map(out, getattr(self, "marginal_map_", None))
        dup = getattr(self, "duplicate_of_", None)
        if dup is not None:
            for j in np.flatnonzero(dup >= 0):
                out[..., j] = out[..., dup[j]]
        return out

    def _sample_scaled(self, n: int, cond: torch.Tensor | None) -> torch.Tensor:
        net = self.module_
        z = torch.randn(n, net.latent_dim)
        mean = net.decode(z, net.embed(cond, n))
        factor = getattr(self, "noise_factor_", None)
        if factor is None:  # trained without it (DP training: it would be read from the data)
            return mean
        return mean + torch.randn_like(mean) @ torch.as_tensor(factor, dtype=mean.dtype).T

    # ------------------------------------------------------------------ imputation
    def _impute(self, X, mask, n_draws, random_state, conditions=None):
        n, t, c = X.shape
        data = self._to_tensors(X, mask, None)
        x0, m = data["x"], data["mask"]
        # Start: the window's observed mean of each channel, else the training channel mean.
        fallback = torch.as_tensor(
            self._scale(self.channel_mean_), dtype=torch.float32
        ).expand(n, c)
        counts = m.sum(dim=1)
        start_mean = torch.where(counts > 0, x0.sum(dim=1) / counts.clamp_min(1.0), fallback)
        x0 = m * x0 + (1.0 - m) * start_mean[:, None, :]
        # Chains of all draws run side by side: rows d * n ... (d + 1) * n are draw d.
        x0, m = x0.repeat(n_draws, 1, 1), m.repeat(n_draws, 1, 1)
        cond = None if conditions is None else self._cond_tensor(np.tile(conditions, (n_draws, 1)))
        out = np.empty((n_draws * n, t, c), dtype=np.float64)
        net = self.module_
        iters = max(1, int(self.impute_iterations))
        with seeded(random_state), torch.no_grad():
            for s in range(0, n_draws * n, _CHUNK):
                xs, ms = x0[s : s + _CHUNK], m[s : s + _CHUNK]
                emb = net.embed(None if cond is None else cond[s : s + _CHUNK], xs.shape[0])
                for _ in range(iters):
                    mean, logvar = net.encode(xs, emb)
                    z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
                    xs = ms * xs + (1.0 - ms) * net.decode(z, emb)
                out[s : s + _CHUNK] = xs.double().numpy()
        out = out.reshape(n_draws, n, t, c)
        return self._unscale(out)

    # ------------------------------------------------------------------ likelihood
    def _score_samples(self, X, mask):
        data = self._to_tensors(X, mask, None)
        x, m = data["x"], data["mask"]
        net = self.module_
        var = 1.0 / (2.0 * float(self.reconstruction_weight))
        const = 0.5 * math.log(2.0 * math.pi * var)
        n_mc = 8
        scores = []
        with seeded(_SCORE_SEED), torch.no_grad():
            for s in range(0, x.shape[0], _CHUNK):
                xs, ms = x[s : s + _CHUNK], m[s : s + _CHUNK]
                emb = net.embed(None, xs.shape[0])
                mean, logvar = net.encode(xs, emb)
                loglik = torch.zeros(xs.shape[0])
                for _ in range(n_mc):
                    z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)
                    err = (net.decode(z, emb) - xs).pow(2) * ms
                    loglik += -(err.sum(dim=(1, 2)) / (2.0 * var)) - const * ms.sum(dim=(1, 2))
                scores.append((loglik / n_mc - self._kl(mean, logvar)).double().numpy())
        return np.concatenate(scores)

    # ------------------------------------------------------------------ persistence
    def _get_state(self):
        state, arrays = super()._get_state()
        arrays["channel_mean_"] = self.channel_mean_
        for name in ("noise_factor_", "marginal_map_", "duplicate_of_"):
            if getattr(self, name, None) is not None:
                arrays[name] = getattr(self, name)
        return state, arrays

    def _set_state(self, state, arrays, weights) -> None:
        self.channel_mean_ = arrays["channel_mean_"]
        self.noise_factor_ = arrays.get("noise_factor_")
        self.marginal_map_ = arrays.get("marginal_map_")
        self.duplicate_of_ = arrays.get("duplicate_of_")
        super()._set_state(state, arrays, weights)
