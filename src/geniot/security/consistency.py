"""Physical consistency of one asset's sensors under a generative model of its normal windows.

The model (geniot's Gaussian window model by default) scores each window as a whole and each
sensor given the others (``score_channels``, leave-one-sensor-out). A window is flagged when the
whole window, or one sensor given the rest, is less typical than anything in the held-out normal
data allows. An event is then explained: if setting its most surprising sensor aside leaves the
other sensors typical, one sensor is at fault; a sensor at fault that stays inside its normal
range and keeps moving is **forged** (false data injection: an attacker stays within limits),
one that leaves its range or freezes exactly is an instrument fault, and an event that no single
sensor explains is the machine itself (a process fault).
"""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.data.windows import make_windows
from geniot.models.registry import build_generator

_LIMIT_MARGIN = 0.05  # share of a sensor's normal range added on each side of its limits
_MAX_CAL_WINDOWS = 4000


def _threshold(scores: np.ndarray, margin: float) -> float:
    """Above the largest normal score by ``margin`` times its distance from the median."""
    s = scores[np.isfinite(scores)]
    if s.size == 0:
        raise DataError("no scorable normal windows to calibrate on")
    top, mid = float(np.max(s)), float(np.median(s))
    return top + margin * max(top - mid, 1e-9)


class ConsistencyModel:
    """Per-asset model: a generator over (window, sensors) plus normal-data calibration."""

    def __init__(self, *, window: int = 8, generator: str = "gaussian", calibration_fraction: float = 0.25, margin: float = 0.25) -> None:
        self.window = int(window)
        self.generator = generator
        self.calibration_fraction = float(calibration_fraction)
        self.margin = float(margin)

    def fit(self, values: np.ndarray, channels: list[str]) -> ConsistencyModel:
        values = np.asarray(values, dtype=np.float64)
        n = len(values)
        # Interleaved blocks: every 4th block calibrates, so calibration sees the same regimes
        # and transitions as training (a tail would miss what happened earlier).
        block = max(self.window * 16, 1)
        every = max(2, int(round(1.0 / max(self.calibration_fraction, 1e-3))))
        fit_w, cal_w = [], []
        for b, lo in enumerate(range(0, n, block)):
            part = values[lo : lo + block]
            if len(part) < self.window:
                continue
            (cal_w if b % every == every - 1 else fit_w).append(make_windows(part, self.window))
        if len(fit_w) < 2 or not cal_w:
            raise DataError(f"{n} normal steps are too few to fit and calibrate windows of {self.window} (need {block * every} or more)")
        train = np.concatenate(fit_w)
        train = train[~np.isnan(train).all(axis=(1, 2))]
        self.generator_ = build_generator(self.generator).fit(train, mask=~np.isnan(train))
        self.channels_ = list(channels)
        cal = np.concatenate(cal_w)
        cal = cal[~np.isnan(cal).any(axis=(1, 2))]
        if len(cal) > _MAX_CAL_WINDOWS:
            cal = cal[np.linspace(0, len(cal) - 1, _MAX_CAL_WINDOWS).astype(int)]
        joint = -self.generator_.score_samples(cal)
        surprise = -self.generator_.score_channels(cal)
        self.z_center_ = np.median(surprise, axis=0)
        q75, q25 = np.percentile(surprise, [75, 25], axis=0)
        self.z_scale_ = np.maximum((q75 - q25) / 1.349, 1e-9)
        z = (surprise - self.z_center_) / self.z_scale_
        self.joint_threshold_ = _threshold(joint, self.margin)
        self.z_threshold_ = _threshold(z.max(axis=1), self.margin)
        rest, centre = np.empty(len(self.channels_)), np.empty(len(self.channels_))
        for j in range(len(self.channels_)):
            scores = self._rest_scores(cal, j)
            rest[j] = _threshold(scores, self.margin)
            centre[j] = np.median(scores[np.isfinite(scores)])
        self.rest_threshold_, self.rest_center_ = rest, centre
        lo, hi = np.nanmin(values, axis=0), np.nanmax(values, axis=0)
        span = np.maximum(hi - lo, 1e-9)
        self.lower_, self.upper_ = lo - _LIMIT_MARGIN * span, hi + _LIMIT_MARGIN * span
        return self

    def _rest_scores(self, windows: np.ndarray, j: int) -> np.ndarray:
        """Anomaly score of the windows with sensor ``j`` set aside (its marginal over the rest)."""
        mask = ~np.isnan(windows)
        mask[:, :, j] = False
        return -self.generator_.score_samples(np.where(mask, windows, np.nan), mask=mask)

    # ------------------------------------------------------------ scoring
    def score(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(joint anomaly score (n,), sensor surprise z (n, c)) of windows (n, t, c); NaN = gap."""
        windows = np.asarray(windows, dtype=np.float64)
        mask = ~np.isnan(windows)
        joint = -self.generator_.score_samples(windows, mask=mask)
        z = (-self.generator_.score_channels(windows, mask=mask) - self.z_center_) / self.z_scale_
        z[~mask.any(axis=1)] = np.nan  # a sensor not seen in the window is not judged
        return joint, z

    def flags(self, joint: np.ndarray, z: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return (joint > self.joint_threshold_) | (np.nan_to_num(z, nan=-np.inf).max(axis=1) > self.z_threshold_)

    def isolate(self, windows: np.ndarray, candidates: np.ndarray | None = None) -> tuple[int, np.ndarray]:
        """(most likely forged sensor, (c,) evidence against each hypothesis) over an event's windows.

        A generalised likelihood ratio over the hypotheses "sensor j alone is forged": its readings
        are a free nuisance, so what is left to judge is how typical the *other* sensors are
        together without it (their marginal under the generative model), summed over the event and
        measured from what normal data give for the same sensors. The forged sensor is the one
        whose removal leaves the rest most typical; a sensor that only moves because it is coupled
        to the forged one cannot do that, since the forged one stays in its rest. ``candidates``:
        the hypotheses to weigh (the sensors whose own tests alarmed); all sensors if None.
        """
        c = len(self.channels_)
        candidates = np.arange(c) if candidates is None or not len(candidates) else np.asarray(candidates)
        evidence = np.full(c, np.inf)
        for j in candidates:
            evidence[j] = np.nanmean(self._rest_scores(windows, j)) - self.rest_center_[j]
        return int(np.argmin(evidence)), evidence

    def single_sensor(self, windows: np.ndarray, j: int, *, extremes: tuple[float, float] | None = None,
                      frozen_share: float | None = None) -> tuple[str, str] | None:  # fmt: skip
        """None when sensor ``j`` alone explains the windows and stays a plausible reading (inside
        its range, moving); else (kind, reason): several sensors off together (the machine), or an
        instrument fault (out of range, frozen at one exact value). ``extremes`` (lowest, highest
        reading) and ``frozen_share`` (share of readings exactly equal to the one before), when
        given, cover more of the event than the windows kept for it."""
        name = self.channels_[j]
        rest = self._rest_scores(windows, j)
        explained = float(np.mean(rest <= self.rest_threshold_[j]))
        col = windows[:, :, j]
        if extremes is None:
            observed = col[np.isfinite(col)]
            extremes = (float(observed.min()), float(observed.max())) if observed.size else (np.nan, np.nan)
        out_low, out_high = extremes[0] < self.lower_[j], extremes[1] > self.upper_[j]
        if frozen_share is None:
            frozen_share = float(np.nanmean(np.nanmax(col, axis=1) - np.nanmin(col, axis=1) == 0))
        if explained < 0.7:
            return "process", (f"several sensors are off together (setting {name} aside leaves "
                               f"{1 - explained:.0%} of the windows atypical): the machine, not one reading")  # fmt: skip
        if out_low or out_high:
            side = "below" if out_low else "above"
            return "process", f"{name} left its normal range ({side}) against the other sensors: an instrument fault"
        if frozen_share >= 0.5:
            return "process", f"{name} is frozen at one exact value: a stuck sensor"
        return None

    def explain(self, windows: np.ndarray, z: np.ndarray) -> tuple[str, str, str]:
        """(kind, signal, reason) of an event from its flagged windows and their z."""
        zpos = np.nan_to_num(np.clip(z, 0, None))
        j = int(np.argmax(zpos.sum(axis=0)))
        name = self.channels_[j]
        verdict = self.single_sensor(windows, j)
        if verdict is not None:
            return verdict[0], name, verdict[1]
        zmax = float(np.nanmax(z[:, j]))
        return "integrity", name, (f"{name} is physically inconsistent with the other sensors under the generative "
                                   f"model (z={zmax:.1f}, limit {self.z_threshold_:.1f}) while staying inside its "
                                   "normal range: forged readings (false data injection)")  # fmt: skip

    # ------------------------------------------------------------ persistence
    def state(self) -> tuple[dict, dict[str, np.ndarray]]:
        meta = {"window": self.window, "generator": self.generator, "calibration_fraction": self.calibration_fraction,
                "margin": self.margin, "channels": self.channels_, "joint_threshold": self.joint_threshold_,
                "z_threshold": self.z_threshold_}  # fmt: skip
        arrays = {"z_center": self.z_center_, "z_scale": self.z_scale_, "rest_threshold": self.rest_threshold_,
                  "rest_center": self.rest_center_, "lower": self.lower_, "upper": self.upper_}  # fmt: skip
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray], generator: BaseGenerator) -> ConsistencyModel:
        model = cls(window=meta["window"], generator=meta["generator"], calibration_fraction=meta["calibration_fraction"], margin=meta["margin"])
        model.generator_ = generator
        model.channels_ = list(meta["channels"])
        model.joint_threshold_ = float(meta["joint_threshold"])
        model.z_threshold_ = float(meta["z_threshold"])
        model.z_center_, model.z_scale_ = arrays["z_center"], arrays["z_scale"]
        model.rest_threshold_ = arrays["rest_threshold"]
        model.rest_center_ = arrays.get("rest_center")  # None in artifacts saved before isolation existed
        model.lower_, model.upper_ = arrays["lower"], arrays["upper"]
        return model
