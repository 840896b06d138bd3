"""Where a fitted generator's windows came from: the typed training record saved with the model.

``BaseGenerator.fit(X, channels=..., record=...)`` is the one writer: it sets ``channel_names_``
(the data's channel names, as scikit-learn sets ``feature_names_in_``) and ``training_`` (a
:class:`TrainingRecord`). ``report``, ``audit``, ``detect`` and the service read the record to
replay the training windows instead of re-deriving them. It is saved as JSON in ``state.json``
(never pickled); folders written before the record existed carry an untyped ``metadata_`` dict,
converted on load by :func:`record_from_metadata`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from geniot.core.exceptions import ArtifactError, DataError

#: how the held-out windows were chosen (``geniot fit --holdout-split``)
HOLDOUT_SPLITS = ("blocks", "time")


@dataclass(frozen=True)
class TrainingRecord:
    """The facts needed to cut the training data into the same windows again.

    ``train_rows`` keeps the first rows of each series; ``holdout`` (of the windows, split by
    ``holdout_split``) stayed out of training for the memorization check; ``calibration`` (of
    the remaining windows, in blocks) calibrated the anomaly detector saved beside the model.
    ``n_training_windows`` is how many windows ``fit`` saw.
    """

    source: str = ""
    assets: tuple[str, ...] = ()
    window: int | None = None
    stride: int = 1
    train_rows: int | None = None
    labels: str | None = None
    holdout: float = 0.0
    holdout_split: str = "blocks"
    calibration: float = 0.0
    calibration_skipped: str | None = None
    n_training_windows: int | None = None
    seed: int | None = None
    budget_minutes: float | None = None
    units: dict[str, str] = field(default_factory=dict)
    #: sampling interval, share of steps at it, first/last timestamp per asset (may be empty)
    timing: dict[str, Any] = field(default_factory=dict)
    #: the source file's layout (format, wide/long, columns, time column; may be empty)
    layout: dict[str, Any] = field(default_factory=dict)
    #: fault type -> learned profile when fitted with labels
    faults: dict[str, Any] = field(default_factory=dict)
    #: sites, strategy, rounds and input normalization of a federated fit (empty otherwise)
    federation: dict[str, Any] = field(default_factory=dict)
    #: names of the per-window conditions fitted with (``geniot fit --calendar``; empty = none)
    conditions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "assets", tuple(str(a) for a in self.assets))
        object.__setattr__(self, "conditions", tuple(str(c) for c in self.conditions))
        if self.holdout_split not in HOLDOUT_SPLITS:
            raise DataError(f"unknown holdout split {self.holdout_split!r}; choose from {list(HOLDOUT_SPLITS)}")
        if not 0.0 <= float(self.holdout) < 1.0:
            raise DataError(f"the holdout must be a fraction in [0, 1), got {self.holdout}")
        if not 0.0 <= float(self.calibration) < 1.0:
            raise DataError(f"the calibration share must be a fraction in [0, 1), got {self.calibration}")
        if self.train_rows is not None and int(self.train_rows) < 1:
            raise DataError(f"train_rows must be at least 1, got {self.train_rows}")
        if int(self.stride) < 1:
            raise DataError(f"the stride must be at least 1, got {self.stride}")

    @property
    def asset(self) -> str | None:
        """The one asset the model was trained on, or None for several (or unknown)."""
        return self.assets[0] if len(self.assets) == 1 else None

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["assets"] = list(self.assets)
        return out

    @classmethod
    def from_json(cls, data: Any, *, where: str = "training record") -> TrainingRecord:
        if not isinstance(data, dict):
            raise ArtifactError(f"{where}: the training record is not an object")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ArtifactError(f"{where}: the training record has unknown field(s) {unknown}")
        try:
            return cls(**data)
        except (TypeError, ValueError, DataError) as exc:
            raise ArtifactError(f"{where}: bad training record ({exc})") from exc


def fallback_channel_names(n_channels: int) -> list[str]:
    """The names of channels fitted from bare arrays: ch0, ch1, ... (the one place they are made)."""
    return [f"ch{j}" for j in range(int(n_channels))]


def channel_names(model: Any) -> list[str]:
    """A fitted model's channel names: the training data's, else ch0..chN."""
    names = getattr(model, "channel_names_", None)
    return list(names) if names else fallback_channel_names(model.n_channels_)


def record_summary(model: Any) -> dict[str, Any]:
    """A fitted model's channel names and training record as one flat dict (for reports and
    listings), leaving out what is unknown or empty."""
    summary = {k: v for k, v in model.training_.to_json().items() if v not in (None, {}, [])}
    return {"channels": channel_names(model), **summary}


def check_channel_names(channels: Any, n_channels: int) -> tuple[str, ...] | None:
    """``channels`` as a tuple of distinct names, one per channel (None stays None)."""
    if channels is None:
        return None
    names = tuple(str(c) for c in channels)
    if len(names) != n_channels:
        raise DataError(f"{len(names)} channel names for {n_channels} channels: {list(names)}")
    if len(set(names)) != len(names):
        raise DataError(f"channel names repeat: {list(names)}")
    return names


def record_from_metadata(meta: Any, *, where: str = "model") -> tuple[tuple[str, ...] | None, TrainingRecord]:
    """(channel names, record) from an old folder's ``metadata_`` dict.

    ``asset`` (one name) and ``assets`` (a list) become ``assets``; the old ``calibration`` dict
    becomes ``calibration`` / ``calibration_skipped``; folders from before blocks existed held out
    the latest windows (``holdout_split="time"``). Unknown keys are an error, not dropped.
    """
    if not isinstance(meta, dict):
        raise ArtifactError(f"{where}: metadata_ is not an object")
    meta = dict(meta)
    channels = meta.pop("channels", None)
    fields: dict[str, Any] = {}
    if "asset" in meta:
        asset = meta.pop("asset")
        fields["assets"] = () if asset is None else (asset,)
    if "assets" in meta:
        fields["assets"] = tuple(meta.pop("assets") or ())
    calibration = meta.pop("calibration", None)
    if isinstance(calibration, dict):
        if "skipped" in calibration:
            fields["calibration_skipped"] = str(calibration["skipped"])
        fields["calibration"] = float(calibration.get("fraction", 0.0))
    federation = dict(meta.pop("federated", None) or {})
    if "input_normalization" in meta:
        federation["input_normalization"] = meta.pop("input_normalization")
    if federation:
        fields["federation"] = federation
    if float(meta.get("holdout") or 0.0) > 0:
        fields["holdout_split"] = meta.pop("holdout_split", "time")
    else:
        meta.pop("holdout_split", None)
    for key in ("source", "window", "stride", "train_rows", "holdout", "n_training_windows", "units",
                "timing", "layout", "faults", "seed", "labels"):
        if key in meta:
            value = meta.pop(key)
            if value is not None or key in ("window", "train_rows", "labels", "seed", "n_training_windows"):
                fields[key] = value
    if meta:
        raise ArtifactError(f"{where}: metadata_ has key(s) geniot does not know: {sorted(meta)}")
    record = TrainingRecord.from_json(fields, where=where)
    names = None if not channels else tuple(str(c) for c in channels)
    return names, record
