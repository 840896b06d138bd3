"""DiffusionGenerator: a denoising diffusion model of sensor windows that fills gaps natively.

In the spirit of Diffusion-TS (x0 prediction, a Fourier term in the loss) and CSDI
(conditioning on observed values through a conditioning mask drawn at random in training):

* ``sample`` runs the reverse chain with an empty conditioning mask (plain generation);
* ``impute`` runs it with the caller's mask, so observed values steer every step;
* ``score_samples`` is minus the masked denoising error averaged over a fixed grid of noise
  levels and fixed noise draws: a deterministic, ELBO-style typicality (higher = more typical).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from geniot.core.exceptions import DataError
from geniot.core.tags import GeneratorTags
from geniot.core.validation import check_mask
from geniot.models.diffusion.denoiser import Denoiser, DiffusionModule
from geniot.models.diffusion.masks import draw_cond_mask
from geniot.models.diffusion.schedule import NoiseSchedule
from geniot.models.marginal_map import apply_marginal_map, fit_marginal_map
from geniot.models.registry import register_generator
from geniot.models.torch_base import TorchGenerator
from geniot.nn.rng import seeded

_CLIP = 1.2  # predicted x0 is clipped to this range (data are scaled to [-1, 1])
_CHUNK = 4096  # windows per forward pass when sampling, imputing and scoring
_SCORE_LEVELS = (0.02, 0.05, 0.1, 0.2, 0.3, 0.45, 0.6, 0.8)  # fractions of the chain
_SCORE_DRAWS = 2  # noise draws per level in score_samples
_VALIDATION_SEED = 12345
_SCORE_SEED = 0
_SIGMA_DATA = 0.5  # assumed spread of the scaled data in the skip preconditioning (as EDM)
_CALIBRATION_WINDOWS = 2048  # windows drawn at the end of fit for the marginal map
_CALIBRATION_SEED = 12345


@register_generator("diffusion")
class DiffusionGenerator(TorchGenerator):
    """Denoising diffusion generator (x0-predicting transformer, DDIM sampling).

    Parameters
    ----------
    d_model, n_layers, n_heads : size of the transformer denoiser.
    timesteps : length of the diffusion chain used in training.
    sampling_steps : DDIM steps when sampling/imputing windows; ``None`` (or ``>= timesteps``)
        runs every step of the chain.
    eta : DDIM stochasticity (0 = deterministic path given the initial noise, 1 = DDPM).
    series_sampling_steps : the sampler of long series (``continue_series``, inside
        :meth:`series_sampler`); ``None`` (the default) runs the full ancestral chain. On ETTh1 it
        kept both the step spread and the daily cycle of continued series, where 50 DDIM steps
        drew rougher series that lost the cycle (eta 0) or smoother ones (eta 1); on Energy's
        windows it scored worse than 50 DDIM steps (discriminative 0.19 vs 0.15), hence two settings.
    beta_schedule : ``"cosine"`` or ``"linear"``.
    fourier_weight : weight of the L1 loss between the Fourier transforms of the predicted
        and true windows (Diffusion-TS).
    p_uncond : probability that a training window is conditioned on nothing; the rest learn
        to fill random gaps (points, blocks, outages, the future).
    max_gap : longest block of time hidden in training, as a share of the window (outages
        longer than it are never practised).
    cond_dropout : probability of dropping the condition embedding in training, so that the
        model also knows the condition-free distribution (used by ``impute``/``score_samples``,
        which take no conditions).
    ema_decay : decay of the exponential moving average of the weights used for inference.
    x0_skip : predict x0 as ``c_skip(t) * x_t + c_out(t) * net(...)`` (Karras et al. 2022's
        preconditioning for the VP schedule): at low noise the prediction is the input plus a
        small correction, so fine detail (step-to-step changes) passes through instead of being
        smoothed by a network that must learn the identity. Models saved without it load with
        ``False``.
    skip_loss : with ``x0_skip``, train the network on its own target
        ``(x0 - c_skip x_t) / c_out`` (EDM's loss weight ``1 / c_out^2``) instead of the x0 error.
        The x0 error weighs low noise levels by ``c_out^2`` (about 3e-4 at the lowest step), so
        the network never learns to remove the last noise: on Energy's smooth temperature
        channels samples stepped about 5x as much as the real ones (exploratory). Models saved
        without it trained on the x0 error (only training reads it).
    calibrate_marginals : map each channel of sampled windows through a monotone quantile map
        from the model's own samples (2,048 windows drawn at the end of fit) to the training
        values. A diffusion model trained for minutes drew Energy's temperatures about 10-15%
        too narrow (exploratory); the map fixes each channel's distribution and keeps the ranks,
        so the timing and the cross-channel order are the model's. Window sampling only
        (``sample``); ``impute``, ``refine``, ``score_samples`` and long series are unchanged.
        Models saved without the map sample as before.
    dropout : dropout inside the transformer blocks.
    epochs, batch_size, learning_rate, max_minutes, patience, val_fraction, random_state :
        the shared training loop's settings (see ``TorchGenerator``).
    """

    tags = GeneratorTags(conditional=True, native_impute=True, likelihood="bound")

    def __init__(
        self,
        *,
        d_model: int = 64,
        n_layers: int = 3,
        n_heads: int = 4,
        timesteps: int = 200,
        sampling_steps: int | None = 50,
        eta: float = 0.0,
        series_sampling_steps: int | None = None,
        beta_schedule: str = "cosine",
        fourier_weight: float = 0.1,
        p_uncond: float = 0.5,
        max_gap: float = 0.5,
        cond_dropout: float = 0.1,
        ema_decay: float = 0.999,
        x0_skip: bool = True,
        skip_loss: bool = True,
        calibrate_marginals: bool = True,
        dropout: float = 0.0,
        epochs: int = 1000,
        batch_size: int = 64,
        learning_rate: float = 1e-3,
        max_minutes: float | None = None,
        patience: int | None = 100,
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
        self.d_model = d_model
        self.n_layers = n_layers
        self.n_heads = n_heads
        self.timesteps = timesteps
        self.sampling_steps = sampling_steps
        self.eta = eta
        self.beta_schedule = beta_schedule
        self.fourier_weight = fourier_weight
        self.p_uncond = p_uncond
        self.max_gap = max_gap
        self.cond_dropout = cond_dropout
        self.ema_decay = ema_decay
        self.x0_skip = x0_skip
        self.skip_loss = skip_loss
        self.calibrate_marginals = calibrate_marginals
        self.series_sampling_steps = series_sampling_steps
        self.dropout = dropout

    @classmethod
    def restore(cls, model_state, *, where: str = "model state"):
        params = model_state.spec.get("params", {})
        old = {}
        if "x0_skip" not in params:  # trained before the skip existed: its weights predict x0 directly
            old["x0_skip"] = False
        if "skip_loss" not in params:  # trained on the x0 error
            old["skip_loss"] = False
        if old:
            spec = {**model_state.spec, "params": {**params, **old}}
            model_state = type(model_state)(spec, model_state.state, model_state.arrays, model_state.weights)
        return super().restore(model_state, where=where)

    @contextmanager
    def series_sampler(self) -> Iterator[None]:
        """Sample and impute with ``series_sampling_steps`` (fresh noise at each step) inside
        the block; the window sampler is restored after it."""
        saved = self.sampling_steps, self.eta, getattr(self, "marginal_map_", None)
        self.sampling_steps, self.eta = self.series_sampling_steps, 1.0
        self.marginal_map_ = None  # long series: every stretch as the model draws it
        try:
            yield
        finally:
            self.sampling_steps, self.eta, self.marginal_map_ = saved

    def _skip_factors(self, t: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(c_skip, c_out) at steps ``t``, shaped (B, 1, 1): x0 = c_skip x_t + c_out net."""
        ab = self.module_.schedule._ab(t)
        s2 = _SIGMA_DATA**2
        denom = ab * s2 + (1.0 - ab)
        return ab.sqrt() * s2 / denom, _SIGMA_DATA * (1.0 - ab).sqrt() / denom.sqrt()

    def _predict_x0(self, net: Denoiser, x_t, t, observed, cond_mask, cond, cond_keep=None) -> torch.Tensor:
        """The denoiser's x0, with the skip preconditioning when ``x0_skip``."""
        out = net(x_t, t, observed, cond_mask, cond, cond_keep)
        if not self.x0_skip:
            return out
        c_skip, c_out = self._skip_factors(t)
        return c_skip * x_t + c_out * out

    # ------------------------------------------------------------ marginal calibration
    def _fit(self, X, mask, conditions, progress) -> None:
        super()._fit(X, mask, conditions, progress)
        self.marginal_map_ = self._marginal_map(X, mask, conditions) if self.calibrate_marginals else None

    def _marginal_map(self, X, mask, conditions) -> np.ndarray:
        """(2, levels, c): per-channel quantiles of raw samples (row 0) and of the observed
        training values (row 1); a channel never observed keeps its raw samples."""
        n = int(min(_CALIBRATION_WINDOWS, max(256, X.shape[0])))
        rng = np.random.default_rng(_CALIBRATION_SEED)
        cond = None if conditions is None else conditions[rng.integers(0, len(conditions), n)]
        self.n_steps_, self.n_channels_ = X.shape[1], X.shape[2]  # fit sets them after _fit, alike
        try:
            raw = super()._sample(n, cond, _CALIBRATION_SEED)
        except BaseException:
            del self.n_channels_  # its presence marks the model as fitted
            raise
        return fit_marginal_map(raw, np.where(mask, X, np.nan))

    def _sample(self, n, conditions, random_state):
        return apply_marginal_map(super()._sample(n, conditions, random_state), getattr(self, "marginal_map_", None))

    def _get_state(self):
        state, arrays = super()._get_state()
        if getattr(self, "marginal_map_", None) is not None:
            arrays["marginal_map_"] = self.marginal_map_
        return state, arrays

    def _set_state(self, state, arrays, weights) -> None:
        self.marginal_map_ = arrays.get("marginal_map_")
        super()._set_state(state, arrays, weights)

    # ------------------------------------------------------------ module
    def _build_module(self, n_steps: int, n_channels: int, n_conditions: int) -> DiffusionModule:
        def make() -> Denoiser:
            return Denoiser(
                n_steps,
                n_channels,
                n_conditions,
                d_model=int(self.d_model),
                n_layers=int(self.n_layers),
                n_heads=int(self.n_heads),
                dropout=float(self.dropout),
            )

        net = make()
        ema = make()
        ema.load_state_dict(net.state_dict())
        return DiffusionModule(net, ema, NoiseSchedule(int(self.timesteps), self.beta_schedule))

    def _make_step(self):
        module = self.module_
        params = list(module.net.parameters())
        optimizer = torch.optim.AdamW(params, lr=self.learning_rate, weight_decay=0.0)

        def step(batch: dict[str, torch.Tensor]) -> dict[str, float]:
            optimizer.zero_grad(set_to_none=True)
            losses = self._loss(batch)
            losses["loss"].backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            module.update_ema(self.ema_decay)
            return {k: float(v.detach()) for k, v in losses.items()}

        return step

    # ------------------------------------------------------------ training objective
    def _loss(
        self, batch: dict[str, torch.Tensor], net: Denoiser | None = None, steps: torch.Tensor | None = None
    ) -> dict[str, torch.Tensor]:
        """Masked denoising loss at noise ``steps`` (one per window; default drawn at random)."""
        net = self.module_.net if net is None else net
        schedule = self.module_.schedule
        x0, observed = batch["x"], batch["mask"]
        cond = batch.get("cond")
        b = x0.shape[0]

        cond_mask = draw_cond_mask(observed, float(self.p_uncond), float(self.max_gap))
        cond_keep = None
        if cond is not None:
            cond_keep = (torch.rand(b) >= float(self.cond_dropout)).float()
        t = torch.randint(0, schedule.timesteps, (b,)) if steps is None else steps
        x_t = schedule.q_sample(x0, t, torch.randn_like(x0))
        x0_hat = self._predict_x0(net, x_t, t, x0, cond_mask, cond, cond_keep)

        # Only entries that were observed and not shown to the network count.
        target = observed * (1.0 - cond_mask)
        n_target = target.sum().clamp(min=1.0)
        err = (x0_hat - x0) * target
        if self.x0_skip and self.skip_loss:  # the error of the network's own output
            mse = (err / self._skip_factors(t)[1]).pow(2).sum() / n_target
        else:
            mse = err.pow(2).sum() / n_target
        spectrum = torch.fft.rfft(err, dim=1, norm="ortho")
        fourier = (spectrum.real.abs() + spectrum.imag.abs()).sum() / n_target
        loss = mse + float(self.fourier_weight) * fourier
        return {"loss": loss, "mse": mse, "fourier": fourier}

    def _validate(self, batch: dict[str, torch.Tensor]) -> float:
        # The same noise, steps and masks at every epoch: a comparable number for early stopping.
        with seeded(_VALIDATION_SEED):
            return float(self._loss(batch, net=self.module_.ema)["loss"])

    # ------------------------------------------------------------ reverse chain
    @torch.no_grad()
    def _reverse(
        self,
        observed: torch.Tensor,
        cond_mask: torch.Tensor,
        cond: torch.Tensor | None,
        start: torch.Tensor | None = None,
        strength: float = 1.0,
    ) -> torch.Tensor:
        """Run the reverse chain; returns scaled windows. From pure noise, or (``start``) from
        windows noised to ``strength`` of the chain (the partial reverse chain of ``refine``)."""
        module = self.module_
        net, schedule = module.ema, module.schedule
        steps = self.sampling_steps
        full = steps is None or int(steps) >= schedule.timesteps
        eta = 1.0 if full else float(self.eta)
        pairs = schedule.step_pairs(None if full else int(steps))
        if start is None:
            x = torch.randn_like(observed)
        else:
            top = strength * (schedule.timesteps - 1)
            pairs = [p for p in pairs if p[0] <= top] or pairs[-1:]  # at least the last step
            t_vec = torch.full((start.shape[0],), pairs[0][0], dtype=torch.long)
            x = schedule.q_sample(start, t_vec, torch.randn_like(start))
        for t, t_prev in pairs:
            t_vec = torch.full((x.shape[0],), t, dtype=torch.long)
            x0_hat = self._predict_x0(net, x, t_vec, observed, cond_mask, cond).clamp(-_CLIP, _CLIP)
            # Shown entries are known: stepping towards their true values keeps x_t there
            # distributed as in training, where x_t is always noised from the real window.
            x0_hat = cond_mask * observed + (1.0 - cond_mask) * x0_hat
            x = schedule.reverse_step(x, x0_hat, t, t_prev, eta)
        return x

    def _sample_scaled(self, n: int, cond: torch.Tensor | None) -> torch.Tensor:
        zeros = torch.zeros(n, self.n_steps_, self.n_channels_)
        return self._reverse(zeros, zeros, cond)

    def _impute(self, X, mask, n_draws, random_state, conditions=None):
        Z = np.where(mask, self._scale(np.where(mask, X, 0.0)), 0.0)
        observed = torch.as_tensor(np.tile(Z, (n_draws, 1, 1)), dtype=torch.float32)
        cond_mask = torch.as_tensor(np.tile(mask, (n_draws, 1, 1)), dtype=torch.float32)
        cond = None if conditions is None else self._cond_tensor(np.tile(conditions, (n_draws, 1)))
        chunks = []
        with seeded(random_state):
            for start in range(0, observed.shape[0], _CHUNK):
                sl = slice(start, start + _CHUNK)
                given = None if cond is None else cond[sl]
                chunks.append(self._reverse(observed[sl], cond_mask[sl], given).double().numpy())
        draws = np.concatenate(chunks, axis=0).reshape((n_draws,) + X.shape)
        return self._unscale(draws)

    def refine(self, X, mask, *, strength: float = 0.1, random_state=None, conditions=None) -> np.ndarray:
        """Redraw the entries of complete windows ``X`` where ``mask`` is False, starting from
        their current values: they are noised to ``strength`` (0-1] of the chain and denoised
        given the entries where ``mask`` is True (partial reverse chain, as SDEdit, Meng et al.
        2022). A low strength keeps the windows' shape and makes the redrawn part agree with the
        rest; long synthesis uses it where two stretches join. Returns (n, t, c); entries where
        ``mask`` is True are copied through unchanged."""
        self._check_fitted()
        X = self._check_input_windows(X)
        mask = check_mask(mask, X)
        if np.isnan(X).any():
            raise DataError("refine needs complete windows (they are the starting point); impute the gaps first")
        if not 0.0 < float(strength) <= 1.0:
            raise DataError(f"strength must be in (0, 1], got {strength}")
        cond = self._cond_tensor(self._check_sample_conditions(conditions, X.shape[0]))
        Z = torch.as_tensor(self._scale(X), dtype=torch.float32)
        cond_mask = torch.as_tensor(mask, dtype=torch.float32)
        chunks = []
        with seeded(random_state):
            for lo in range(0, len(Z), _CHUNK):
                sl = slice(lo, lo + _CHUNK)
                given = None if cond is None else cond[sl]
                out = self._reverse(Z[sl] * cond_mask[sl], cond_mask[sl], given, start=Z[sl], strength=float(strength))
                chunks.append(out.double().numpy())
        return np.where(mask, X, self._unscale(np.concatenate(chunks, axis=0)))

    # ------------------------------------------------------------ typicality
    @torch.no_grad()
    def _denoising_error(self, Z: np.ndarray, mask: np.ndarray, cond_mask: np.ndarray | None) -> np.ndarray:
        """Squared error of the x0 prediction per entry, averaged over a fixed grid of noise
        levels and fixed noise draws: (n, t, c). ``cond_mask`` (True = shown to the network)
        turns it into a conditional error; ``None`` is the unconditional one."""
        schedule = self.module_.schedule
        net = self.module_.ema
        T = schedule.timesteps
        levels = sorted({min(T - 1, int(round(f * (T - 1)))) for f in _SCORE_LEVELS})
        gen = torch.Generator().manual_seed(_SCORE_SEED)
        # One fixed noise per (level, draw), shared by every window: a window's score does
        # not depend on which other windows are scored with it.
        k = len(levels) * _SCORE_DRAWS
        noise = torch.randn(k, self.n_steps_, self.n_channels_, generator=gen)
        t_all = torch.tensor(levels, dtype=torch.long).repeat_interleave(_SCORE_DRAWS)
        x0_all = torch.as_tensor(Z, dtype=torch.float32)
        shown = None if cond_mask is None else torch.as_tensor(cond_mask, dtype=torch.float32)
        per = max(1, _CHUNK // k)  # windows per forward pass; all levels and draws in one batch
        out = []
        for start in range(0, x0_all.shape[0], per):
            x0 = x0_all[start : start + per]
            b = x0.shape[0]
            x0_rep = x0.repeat(k, 1, 1)  # level/draw-major: row i*b + w
            t_vec = t_all.repeat_interleave(b)
            x_t = schedule.q_sample(x0_rep, t_vec, noise.repeat_interleave(b, dim=0))
            if shown is None:
                obs = cm = torch.zeros_like(x0_rep)
            else:
                cm = shown[start : start + per].repeat(k, 1, 1)
                obs = x0_rep * cm
            x0_hat = self._predict_x0(net, x_t, t_vec, obs, cm, None)
            err = (x0_hat - x0_rep).pow(2).reshape(k, b, self.n_steps_, self.n_channels_)
            out.append(err.mean(dim=0))
        return torch.cat(out).double().numpy()

    def _scaled_observed(self, X, mask) -> np.ndarray:
        return np.where(mask, self._scale(np.where(mask, X, 0.0)), 0.0)

    def _score_samples(self, X, mask):
        err = self._denoising_error(self._scaled_observed(X, mask), mask, None)
        n_obs = np.maximum(mask.sum(axis=(1, 2)), 1)
        return -(err * mask).sum(axis=(1, 2)) / n_obs

    def _score_channels(self, X, mask):
        # Channel j is denoised while the network is shown every other observed channel: how
        # well the rest of the machine explains it (the model learned this in training, where
        # random gaps are filled from what is observed).
        Z = self._scaled_observed(X, mask)
        out = np.empty((X.shape[0], X.shape[2]))
        for j in range(X.shape[2]):
            shown = mask.copy()
            shown[:, :, j] = False
            err = self._denoising_error(Z, mask, shown)[:, :, j]
            m = mask[:, :, j]
            out[:, j] = -(err * m).sum(axis=1) / np.maximum(m.sum(axis=1), 1)
        return out
