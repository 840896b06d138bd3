"""DPGenerator: any supported torch generator, trained with DP-SGD, is itself a generator.

    DPGenerator(generator="vae", epsilon=10.0, delta=1e-5).fit(X).sample(100)

What the guarantee covers, honestly:

* **Unit of privacy: one window.** Neighbouring data sets differ in one window. With overlapping
  windows (stride < window) one reading lies in up to ``window / stride`` windows, so the
  guarantee per reading is that of a group of that size (weaker); use ``stride = window`` for
  a per-reading guarantee.
* **Accountant:** Opacus' RDP accountant for the Poisson-subsampled Gaussian mechanism; batches
  are true Poisson samples. The noise is drawn from torch's seeded generator (reproducible, not
  a cryptographic source: Opacus' ``secure_mode`` is not used), and floating-point effects are
  not accounted for.
* **Scaling:** torch generators scale each channel by its range. That range is a statistic of
  the data and is **not** covered unless it is given as public knowledge (``data_bounds``:
  sensor ranges from a datasheet); data are then clipped to the bounds. Without bounds the range
  is taken from the data and the artifact says so (``bounds_source: "data (not private)"``).
* **No early stopping, no best-epoch selection:** both would look at windows outside the
  accountant; the last weights are released. Sampling and scoring are post-processing.

Supported: generators whose training step is one loss over the windows (the VAE). The WGAN
(critic and generator steps, gradient penalty needing a double backward) and the diffusion model
(a denoiser whose positional embedding is a bare parameter, plus its own EMA step) are refused
with a :class:`CapabilityError` saying why.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import ArtifactError, CapabilityError, DataError
from geniot.core.tags import GeneratorTags
from geniot.models.registry import build_generator, register_generator
from geniot.privacy.dp_training import check_supported, dp_sgd_train, plan_dp_sgd

__all__ = ["DPGenerator"]


def _as_generator(spec) -> BaseGenerator:
    if isinstance(spec, BaseGenerator):
        return spec.clone()
    return build_generator(copy.deepcopy(spec))


def _as_spec(spec) -> Any:
    if isinstance(spec, BaseGenerator):
        return {"name": spec.registry_name, "params": spec.get_params()}
    return spec


@register_generator("dp")
class DPGenerator(BaseGenerator):
    """A generator trained with differentially private SGD (Opacus), with its budget recorded.

    Parameters
    ----------
    generator:
        The model to train privately: a registry name (``"vae"``), a spec
        ``{"name": ..., "params": {...}}`` or an unfitted generator (cloned).
    epsilon, delta:
        The (epsilon, delta) budget for the whole training run. ``epsilon=None`` trains with the
        same clipping and sampling but no budget and (unless ``noise_multiplier`` is given) no
        noise: a non-private reference.
    max_grad_norm:
        Per-window gradient clipping norm C.
    noise_multiplier:
        Gaussian noise std / C. ``None``: calibrated so that ``epochs`` passes spend ``epsilon``.
        Given: training stops when the next step would exceed ``epsilon``.
    epochs, batch_size, learning_rate:
        Expected passes over the data, expected Poisson batch size and Adam's learning rate;
        ``None`` takes the inner generator's value.
    data_bounds:
        Public per-channel value ranges ``[[lo, hi], ...]`` (or one ``[lo, hi]`` for every
        channel) used for scaling instead of the data's own min/max (see the module notes).
    random_state:
        Seed of initialisation, Poisson sampling and noise.
    """

    tags = GeneratorTags(conditional=False, native_impute=False, likelihood="bound")

    def __init__(
        self,
        *,
        generator: Any = "vae",
        epsilon: float | None = 10.0,
        delta: float = 1e-5,
        max_grad_norm: float = 1.0,
        noise_multiplier: float | None = None,
        epochs: int | None = None,
        batch_size: int | None = None,
        learning_rate: float | None = None,
        data_bounds: Any = None,
        random_state: int | None = 0,
    ) -> None:
        self.generator = generator
        self.epsilon = epsilon
        self.delta = delta
        self.max_grad_norm = max_grad_norm
        self.noise_multiplier = noise_multiplier
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.data_bounds = data_bounds
        self.random_state = random_state

    def get_params(self) -> dict[str, Any]:
        # A generator instance is stored as given; specs and clones see its JSON spec.
        params = super().get_params()
        params["generator"] = _as_spec(params["generator"])
        return params

    # ------------------------------------------------------------------ training
    def _inner(self):
        from geniot.models.torch_base import TorchGenerator

        inner = _as_generator(self.generator)
        if not isinstance(inner, TorchGenerator):
            raise CapabilityError(
                f"DPGenerator trains torch generators with DP-SGD; {type(inner).__name__} is not one"
            )
        if type(inner)._make_step is not TorchGenerator._make_step:
            raise CapabilityError(
                f"{type(inner).__name__} trains with its own optimisation step "
                "(e.g. a GAN's critic and generator updates with a gradient penalty, or a diffusion "
                "model's EMA step) that DP-SGD cannot wrap; use generator='vae'"
            )
        return inner

    def _bounds(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray, str]:
        c = X.shape[2]
        if self.data_bounds is None:
            lo, hi = np.nanmin(X, axis=(0, 1)), np.nanmax(X, axis=(0, 1))
            return lo, hi, "data (not private)"
        b = np.asarray(self.data_bounds, dtype=np.float64)
        if b.shape == (2,):
            b = np.tile(b, (c, 1))
        if b.shape != (c, 2) or not np.isfinite(b).all():
            raise DataError(
                f"data_bounds must be [lo, hi] or one [lo, hi] per channel ({c} channels), got shape {b.shape}"
            )
        if np.any(b[:, 1] <= b[:, 0]):
            raise DataError("data_bounds: every hi must be above its lo")
        return b[:, 0], b[:, 1], "given (public)"

    def _fit(self, X, mask, conditions, progress) -> None:
        from geniot.models.vae import TimeVAE
        from geniot.nn.rng import resolve_seed, seeded

        if conditions is not None:  # pragma: no cover - guarded by the tag in BaseGenerator.fit
            raise CapabilityError("DPGenerator does not take conditions")
        inner = self._inner()
        lo, hi, source = self._bounds(X)
        X = np.clip(X, lo, hi)  # NaN stays NaN
        seed = resolve_seed(self.random_state)
        inner.data_min_ = lo
        span = hi - lo
        inner.data_scale_ = np.where(span > 0, span, 1.0)
        inner._fit_condition_scaler(None)
        if isinstance(inner, TimeVAE):
            # The fallback start of imputation chains: the middle of the range, not a data mean.
            inner.channel_mean_ = (lo + hi) / 2.0
        plan = plan_dp_sgd(
            X.shape[0],
            epochs=int(self.epochs if self.epochs is not None else inner.epochs),
            batch_size=int(self.batch_size if self.batch_size is not None else inner.batch_size),
            epsilon=self.epsilon,
            delta=float(self.delta),
            max_grad_norm=float(self.max_grad_norm),
            noise_multiplier=self.noise_multiplier,
        )
        data = inner._to_tensors(X, mask, None)
        with seeded(seed):
            inner.module_ = inner._build_module(X.shape[1], X.shape[2], 0)
            check_supported(inner.module_, type(inner).__name__)
            history, record = dp_sgd_train(
                inner,
                data,
                plan,
                learning_rate=float(self.learning_rate if self.learning_rate is not None else inner.learning_rate),
                seed=seed,
                max_minutes=getattr(inner, "max_minutes", None),
                progress=progress,
            )
        record["bounds_source"] = source
        record["generator"] = inner.registry_name
        inner.n_steps_, inner.n_conditions_ = X.shape[1], 0
        inner.history_ = history
        inner.channel_names_, inner.training_ = self.channel_names_, self.training_
        inner.n_channels_ = X.shape[2]
        self.generator_ = inner
        self.history_ = history
        self.privacy_ = record

    # ------------------------------------------------------------------ delegated verbs
    def _sample(self, n, conditions, random_state):
        return self.generator_._sample(n, None, random_state)

    def _impute(self, X, mask, n_draws, random_state):
        if not self.generator_.can_impute:
            return super()._impute(X, mask, n_draws, random_state)
        return self.generator_._impute(X, mask, n_draws, random_state)

    def _score_samples(self, X, mask):
        if self.generator_.tags.likelihood == "none":
            raise CapabilityError(f"{type(self.generator_).__name__} has no likelihood")
        return self.generator_._score_samples(X, mask)

    def _score_channels(self, X, mask):
        return self.generator_._score_channels(X, mask)

    @property
    def can_impute(self) -> bool:
        inner = getattr(self, "generator_", None)
        return True if inner is None else inner.can_impute

    @property
    def epsilon_spent_(self) -> float:
        """Epsilon spent by training (``math.inf`` for a run without noise)."""
        self._check_fitted()
        spent = self.privacy_["epsilon_spent"]
        return math.inf if spent is None else float(spent)

    # ------------------------------------------------------------------ persistence
    # One folder, the usual files: the inner model's arrays and weights are the artifact's own
    # (``arrays.npz``, ``weights.pt`` loaded with ``weights_only=True``); its spec and fitted
    # statistics sit in ``state.json`` beside the privacy record.
    def _get_state(self):
        inner = self.generator_
        inner_state, arrays = inner._get_state()
        state = {
            "privacy_": self.privacy_,
            "inner_": {
                "name": inner.registry_name,
                "params": inner.get_params(),
                "state": {"history_": inner.history_, **inner_state},
            },
        }
        return state, arrays

    def _get_weights(self):
        return self.generator_._get_weights()

    @classmethod
    def _write_weights(cls, file: Path, weights) -> None:
        from geniot.models.torch_base import TorchGenerator

        TorchGenerator._write_weights(file, weights)  # the inner model is a torch model (VAE)

    @classmethod
    def _read_weights(cls, folder: Path):
        from geniot.models.torch_base import TorchGenerator

        return TorchGenerator._read_weights(folder)

    def _set_state(self, state, arrays, weights) -> None:
        if "privacy_" not in state or "inner_" not in state:
            raise ArtifactError("a DP artifact without its privacy record or inner model")
        spec = state["inner_"]
        inner = build_generator({"name": spec["name"], "params": spec["params"]})
        inner.n_steps_, inner.n_conditions_ = int(state["n_steps_"]), 0
        inner.history_ = list(spec["state"].get("history_", []))
        inner.channel_names_, inner.training_ = self.channel_names_, self.training_
        inner._set_state({**state, **spec["state"]}, arrays, weights)
        inner.n_channels_ = int(state["n_channels_"])
        self.generator_ = inner
        self.privacy_ = dict(state["privacy_"])
