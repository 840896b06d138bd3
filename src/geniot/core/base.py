"""The generator contract: scikit-learn's estimator API plus generative verbs and masks.

    fit(X, *, mask=None, conditions=None) -> self
    sample(n_samples, *, conditions=None, random_state=None) -> (n, t, c)
    impute(X, mask, *, n_draws=1, random_state=None, conditions=None) -> (n_draws, n, t, c)
    score_samples(X, *, mask=None) -> (n,)      higher = more typical
    save(path) / geniot.models.load_generator(path)

Windows are channel-last float arrays in the data's own units; every model scales inside.
Persistence is a folder: ``spec.json`` (registry name, params, version), ``state.json``
(fitted statistics), ``arrays.npz`` (numeric state, loaded with ``allow_pickle=False``) and,
for torch models, ``weights.pt`` (a state_dict loaded with ``weights_only=True``). Under the
folder lies the same thing in memory, :class:`ModelState` (``get_state`` / ``restore``): what
federated messages carry without temporary folders.
"""

from __future__ import annotations

import copy
import inspect
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from geniot.core.exceptions import ArtifactError, CapabilityError, DataError, NotFittedError
from geniot.core.record import (
    TrainingRecord,
    check_channel_names,
    record_from_metadata,
    record_summary,
)
from geniot.core.tags import GeneratorTags
from geniot.core.validation import check_conditions, check_mask, check_windows

ARTIFACT_FORMAT = 1


def _version() -> str:
    from geniot import __version__

    return __version__


@dataclass
class ModelState:
    """A fitted generator in memory: the JSON of ``spec.json`` and ``state.json``, the numeric
    arrays of ``arrays.npz`` and, for torch models, the module's weights as numpy arrays."""

    spec: dict[str, Any]
    state: dict[str, Any]
    arrays: dict[str, np.ndarray]
    weights: dict[str, np.ndarray] | None = None


class BaseGenerator:
    """Base class of every generator. Subclasses implement the ``_fit``/``_sample``/... hooks."""

    tags: ClassVar[GeneratorTags] = GeneratorTags()
    registry_name: ClassVar[str] = ""

    # ---------------------------------------------------------------- parameters
    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [
            p.name
            for p in sig.parameters.values()
            if p.name != "self" and p.kind == p.KEYWORD_ONLY
        ]

    def get_params(self, deep: bool = False) -> dict[str, Any]:
        """The constructor's parameters as given (``deep`` is accepted for scikit-learn and ignored)."""
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> BaseGenerator:
        valid = set(self._param_names())
        for key, value in params.items():
            if key not in valid:
                raise ValueError(f"{type(self).__name__} has no parameter {key!r}")
            setattr(self, key, value)
        return self

    def clone(self) -> BaseGenerator:
        """An unfitted copy with the same parameters."""
        return type(self)(**copy.deepcopy(self.get_params()))

    def __sklearn_clone__(self) -> BaseGenerator:  # what sklearn.base.clone calls (tasks clone their generator)
        return self.clone()

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    # ---------------------------------------------------------------- state
    @property
    def is_fitted(self) -> bool:
        return hasattr(self, "n_channels_")

    def _check_fitted(self) -> None:
        if not self.is_fitted:
            raise NotFittedError(f"{type(self).__name__} is not fitted yet; call fit first")

    @property
    def metadata_(self) -> dict[str, Any]:
        """Read-only view of ``channel_names_`` and ``training_`` under the keys older code read.

        New code reads ``channel_names_`` and ``training_`` (typed); this view exists so that
        readers not yet moved keep working. It cannot be assigned: the record is written by
        ``fit`` only.
        """
        if not self.is_fitted:
            return {}
        view = record_summary(self)
        if not self.channel_names_:
            del view["channels"]  # fitted on bare arrays: no names to check data against
        return view

    # ---------------------------------------------------------------- public verbs
    def fit(self, X, *, mask=None, conditions=None, progress=None, channels=None, record=None) -> BaseGenerator:
        """Learn the distribution of windows ``X`` (NaN or ``mask == False`` = gap).

        ``channels`` names the channels (``channel_names_``; None for bare arrays) and ``record``
        (a :class:`~geniot.core.record.TrainingRecord`) says where the windows came from
        (``training_``); both are saved with the model.
        """
        X = check_windows(X)
        names = check_channel_names(channels, X.shape[2])
        if record is not None and not isinstance(record, TrainingRecord):
            raise TypeError(f"record must be a TrainingRecord, got {type(record).__name__}")
        mask = check_mask(mask, X)
        if not mask.any(axis=(0, 1)).all():
            empty = [names[i] if names else int(i) for i in np.flatnonzero(~mask.any(axis=(0, 1)))]
            raise DataError(
                f"channel(s) {empty} have no observed value at all in the training windows: "
                "drop the column, or train on a stretch where it reads"
            )
        cond = None
        if conditions is not None:
            self._require("conditional", "fit with conditions")
            cond = check_conditions(conditions, X.shape[0])
        X = np.where(mask, X, np.nan)
        self.n_steps_ = X.shape[1]
        self.n_conditions_ = 0 if cond is None else cond.shape[1]
        self.history_: list[dict[str, float]] = []
        self.channel_names_ = names
        self.training_ = record if record is not None else TrainingRecord()
        self._fit(X, mask, cond, progress)
        self.n_channels_ = X.shape[2]  # set last: marks the model as fitted
        return self

    def sample(self, n_samples: int, *, conditions=None, random_state=None) -> np.ndarray:
        """Draw ``n_samples`` synthetic windows, shaped (n_samples, n_steps, n_channels)."""
        self._check_fitted()
        if int(n_samples) < 1:
            raise DataError(f"n_samples must be at least 1, got {n_samples}")
        cond = self._check_sample_conditions(conditions, int(n_samples))
        out = self._sample(int(n_samples), cond, random_state)
        return np.asarray(out, dtype=np.float64)

    def impute(self, X, mask=None, *, n_draws: int = 1, random_state=None, conditions=None) -> np.ndarray:
        """Draws of the missing values given the observed ones: (n_draws, n, t, c).

        Observed values (``mask`` True) are copied through unchanged, bit for bit. A model
        fitted with conditions imputes given ``conditions`` (n, n_conditions) when passed, else
        marginally over them.
        """
        self._check_fitted()
        X = self._check_input_windows(X)
        mask = check_mask(mask, X)
        if int(n_draws) < 1:
            raise DataError(f"n_draws must be at least 1, got {n_draws}")
        given = {} if conditions is None else {"conditions": self._check_sample_conditions(conditions, X.shape[0])}
        if given and "conditions" not in inspect.signature(type(self)._impute).parameters:
            raise CapabilityError(f"{type(self).__name__} cannot impute given conditions")
        draws = np.asarray(self._impute(X, mask, int(n_draws), random_state, **given), dtype=np.float64)
        # Enforce the contract here once, rather than trusting every model to do it.
        draws = np.where(mask[None], X[None], draws)
        return draws

    def score_samples(self, X, *, mask=None) -> np.ndarray:
        """How typical each window is (higher = more typical): (n_windows,)."""
        self._check_fitted()
        if self.tags.likelihood == "none":
            raise CapabilityError(
                f"{type(self).__name__} has no likelihood; use a model with "
                "likelihood='exact' or 'bound' (e.g. 'gaussian', 'vae', 'diffusion')"
            )
        X = self._check_input_windows(X)
        mask = check_mask(mask, X)
        return np.asarray(self._score_samples(X, mask), dtype=np.float64)

    def score_channels(self, X, *, mask=None) -> np.ndarray:
        """How typical each channel of each window is given the other channels: (n, c).

        Higher = more typical. By default ``log p(x_j | x_rest)`` as the difference of two
        :meth:`score_samples` calls (all channels, and all but channel ``j``): exact for an exact
        likelihood, an estimate for a bound. Models whose masked score is not a marginal
        likelihood override ``_score_channels``. Anomaly detection uses it to say which sensor
        drives a window's score.
        """
        self._check_fitted()
        if self.tags.likelihood == "none":
            raise CapabilityError(f"{type(self).__name__} has no likelihood to attribute")
        X = self._check_input_windows(X)
        mask = check_mask(mask, X)
        return np.asarray(self._score_channels(X, mask), dtype=np.float64)

    def score(self, X, *, mask=None) -> float:
        """Mean of :meth:`score_samples` (scikit-learn's convention)."""
        return float(np.mean(self.score_samples(X, mask=mask)))

    # ---------------------------------------------------------------- helpers
    def _require(self, tag: str, what: str) -> None:
        if not getattr(self.tags, tag):
            raise CapabilityError(f"{type(self).__name__} cannot {what} (capability {tag!r} is off)")

    def _check_input_windows(self, X) -> np.ndarray:
        X = check_windows(X)
        if X.shape[2] != self.n_channels_:
            raise DataError(
                f"the model was fitted on {self.n_channels_} channels, got {X.shape[2]}"
            )
        if X.shape[1] != self.n_steps_:
            raise DataError(
                f"the model was fitted on windows of {self.n_steps_} steps, got {X.shape[1]}"
            )
        return X

    def _check_sample_conditions(self, conditions, n: int):
        if self.n_conditions_ == 0:
            if conditions is not None:
                raise DataError("the model was fitted without conditions; pass conditions=None")
            return None
        if conditions is None:
            raise DataError(f"the model was fitted with {self.n_conditions_} condition columns; pass conditions")
        return check_conditions(conditions, n, n_conditions=self.n_conditions_)

    # ---------------------------------------------------------------- hooks
    def _fit(self, X, mask, conditions, progress) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _sample(self, n, conditions, random_state):  # pragma: no cover - abstract
        raise NotImplementedError

    def _impute(self, X, mask, n_draws, random_state):
        raise CapabilityError(
            f"{type(self).__name__} cannot impute; use a model with native imputation "
            "(e.g. 'gaussian', 'diffusion') or the VAE"
        )

    def _score_samples(self, X, mask):  # pragma: no cover - guarded by tags
        raise CapabilityError(f"{type(self).__name__} has no likelihood")

    def _score_channels(self, X, mask):
        full = self._score_samples(X, mask)
        out = np.empty((X.shape[0], X.shape[2]))
        for j in range(X.shape[2]):
            rest = mask.copy()
            rest[:, :, j] = False
            out[:, j] = full - self._score_samples(X, rest)
        return out

    @property
    def can_impute(self) -> bool:
        """Whether ``impute`` works for this model (natively or by an approximate method)."""
        return type(self)._impute is not BaseGenerator._impute

    def _get_state(self) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
        """Fitted state as (JSON-able dict, numeric arrays)."""
        return {}, {}

    def _set_state(self, state: dict[str, Any], arrays: dict[str, np.ndarray], weights: dict[str, np.ndarray] | None) -> None:
        pass

    def _get_weights(self) -> dict[str, np.ndarray] | None:
        """A torch module's weights as numpy arrays (None for models without one)."""
        return None

    # Weight files are the torch models' business (core never imports torch).
    @classmethod
    def _write_weights(cls, file: Path, weights: dict[str, np.ndarray]) -> None:
        raise ArtifactError(f"{cls.__name__} has no weights to write")

    @classmethod
    def _read_weights(cls, folder: Path) -> dict[str, np.ndarray] | None:
        return None

    # ---------------------------------------------------------------- persistence
    def get_state(self) -> ModelState:
        """The fitted model in memory (what ``save`` writes)."""
        self._check_fitted()
        state, arrays = self._get_state()
        common = {
            "n_channels_": int(self.n_channels_),
            "n_steps_": int(self.n_steps_),
            "n_conditions_": int(self.n_conditions_),
            "history_": self.history_,
            "channel_names_": None if self.channel_names_ is None else list(self.channel_names_),
            "training_": self.training_.to_json(),
        }
        spec = {
            "format": ARTIFACT_FORMAT,
            "name": self.registry_name,
            "params": self.get_params(),
            "geniot_version": _version(),
            "tags": self.tags.to_dict(),
        }
        return ModelState(spec, {**common, **state}, dict(arrays), self._get_weights())

    @classmethod
    def restore(cls, model_state: ModelState, *, where: str = "model state") -> BaseGenerator:
        """A fitted ``cls`` from :meth:`get_state`'s result. Loading by registry name (a folder,
        or a state whose class is not known) is ``geniot.models.load_generator`` /
        ``generator_from_state``."""
        spec, state = model_state.spec, model_state.state
        if spec.get("format") != ARTIFACT_FORMAT:
            raise ArtifactError(f"{where}: unsupported artifact format {spec.get('format')!r}")
        if spec.get("name") != cls.registry_name:
            raise ArtifactError(f"{where}: the state is of model {spec.get('name')!r}, not {cls.registry_name!r}")
        missing = [k for k in ("n_channels_", "n_steps_") if k not in state]
        if missing:
            raise ArtifactError(f"{where}: the state lacks {missing}")
        model = cls(**spec.get("params", {}))
        model.n_steps_ = int(state["n_steps_"])
        model.n_conditions_ = int(state.get("n_conditions_", 0))
        model.history_ = list(state.get("history_", []))
        model.channel_names_, model.training_ = read_record(state, int(state["n_channels_"]), where)
        model._set_state(state, model_state.arrays, model_state.weights)
        model.n_channels_ = int(state["n_channels_"])
        return model

    def save(self, path) -> Path:
        """Write the fitted model to folder ``path`` (created if needed)."""
        model_state = self.get_state()
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        (path / "spec.json").write_text(json.dumps(model_state.spec, indent=2))
        (path / "state.json").write_text(json.dumps(model_state.state, indent=2))
        np.savez(path / "arrays.npz", **model_state.arrays)
        if model_state.weights is not None:
            type(self)._write_weights(path / "weights.pt", model_state.weights)
        return path


def read_record(state: dict[str, Any], n_channels: int, where: str) -> tuple[tuple[str, ...] | None, TrainingRecord]:
    """(channel names, training record) from a state; folders from before the record hold an
    untyped ``metadata_`` dict instead, converted here."""
    if "training_" in state or "channel_names_" in state:
        record = TrainingRecord.from_json(state.get("training_", {}), where=where)
        names = state.get("channel_names_")
    else:
        names, record = record_from_metadata(state.get("metadata_", {}), where=where)
    try:
        return check_channel_names(names, n_channels), record
    except DataError as exc:
        raise ArtifactError(f"{where}: {exc}") from exc
