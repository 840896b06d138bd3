"""Physical consistency of one asset's sensors under a generative model of its normal windows.

The model (geniot's Gaussian window model by default) scores each window as a whole and each
sensor given the others (``score_channels``, leave-one-sensor-out). A window is flagged when the
whole window, or one sensor given the rest, is less typical than anything in the held-out normal
data allows. An event is then explained: if setting its most surprising sensor aside leaves the
other sensors typical, one sensor is at fault; a sensor at fault that stays inside its normal
range and keeps moving is **forged** (false data injection: an attacker stays within limits),
one that leaves its range or freezes exactly is an instrument fault, and an event that no single
sensor explains is the machine itself (a process fault).

A window in which several sensors move together far beyond their usual change (a regime switch:
speed, current, flow and pressure step at once), and the windows of the half hour after it while
the machine settles, are judged against thresholds of their own. Two days of
history hold a handful of switches, so a quarter held out for calibration may hold none or the
largest: the thresholds of moving windows come from every switch of the history, each scored by a
generator fitted without its block (out of fold). A forged reading moves one sensor, never
several, so it is always judged against the steady thresholds.
"""

from __future__ import annotations

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.core.moving import change_scale, moving_windows
from geniot.data.windows import make_windows
from geniot.models.registry import build_generator

_LIMIT_MARGIN = 0.05  # share of a sensor's normal range added on each side of its limits
_MAX_CAL_WINDOWS = 4000
_SETTLE_WINDOWS = 4  # windows after a moving one that are judged as moving too (the machine settles)


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
        block = max(self.window * 16, 1)
        every = max(2, int(round(1.0 / max(self.calibration_fraction, 1e-3))))
        too_few = f"{n} normal steps are too few to fit and calibrate windows of {self.window} (need {block * every} or more)"
        if n < self.window:
            raise DataError(too_few)
        self.channels_ = list(channels)
        windows = make_windows(values, self.window)
        self.change_scale_ = change_scale(windows)
        settling = self.settling(self.moving(windows))
        # Interleaved blocks: every 4th block calibrates, so calibration sees the same regimes
        # and transitions as training (a tail would miss what happened earlier). A window
        # belongs to the block it lies in whole.
        start = np.arange(len(windows))
        fold = np.where(start % block + self.window <= block, (start // block + 1) % every, -1)  # fold 0: every `every`-th block
        folds = [(windows[fold == f], settling[fold == f]) for f in range(every)]
        if (fold > 0).sum() < 2 or not (fold == 0).any():
            raise DataError(too_few)
        self.generator_ = self._fit_generator(windows[fold > 0])
        complete = ~np.isnan(folds[0][0]).any(axis=(1, 2))
        cal = folds[0][0][complete]
        if len(cal) > _MAX_CAL_WINDOWS:
            cal = cal[np.linspace(0, len(cal) - 1, _MAX_CAL_WINDOWS).astype(int)]
        # The steady thresholds keep every calibration window: calibrated on steady windows alone
        # they fell by up to 15x and the steady false alarms rose by half (BENCHMARKS 21e).
        joint = -self.generator_.score_samples(cal)
        surprise = -self.generator_.score_channels(cal)
        self.z_center_ = np.median(surprise, axis=0)
        q75, q25 = np.percentile(surprise, [75, 25], axis=0)
        self.z_scale_ = np.maximum((q75 - q25) / 1.349, 1e-9)
        z = (surprise - self.z_center_) / self.z_scale_
        self.joint_threshold_ = _threshold(joint, self.margin)
        self.z_threshold_ = _threshold(z.max(axis=1), self.margin)
        self.moving_joint_threshold_, self.moving_z_threshold_ = self._moving_thresholds(folds, joint, z.max(axis=1))
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

    def _fit_generator(self, train: np.ndarray) -> BaseGenerator:
        train = train[~np.isnan(train).all(axis=(1, 2))]
        return build_generator(self.generator).fit(train, mask=~np.isnan(train))

    def _moving_thresholds(self, folds: list[tuple[np.ndarray, np.ndarray]], joint: np.ndarray, zmax: np.ndarray) -> tuple[float, float]:
        """(joint, z) thresholds of moving and settling windows: every such window of the history
        scored out of fold (fold 0 by the fitted generator, each other fold by one fitted without
        it), the steady thresholds at least; the margin is measured from the calibration windows'
        median (the typical window)."""
        scores_j, scores_z = [], []
        for f, (windows, settling) in enumerate(folds):
            windows = windows[settling & ~np.isnan(windows).any(axis=(1, 2))]
            if not len(windows):
                continue
            gen = self.generator_ if f == 0 else self._fit_generator(np.concatenate([w for g, (w, _) in enumerate(folds) if g != f]))
            scores_j.append(-gen.score_samples(windows))
            scores_z.append(((-gen.score_channels(windows) - self.z_center_) / self.z_scale_).max(axis=1))
        if not scores_j:
            return self.joint_threshold_, self.z_threshold_
        out = []
        for normal, moving, steady_threshold in ((joint, scores_j, self.joint_threshold_), (zmax, scores_z, self.z_threshold_)):
            top, mid = float(np.max(np.concatenate(moving))), float(np.median(normal))
            out.append(max(steady_threshold, top + self.margin * max(top - mid, 1e-9)))
        return out[0], out[1]

    @property
    def settle_steps(self) -> int:
        """Steps after a moving window that are still judged as moving: the machine settles (a
        motor temperature follows a speed step for half an hour)."""
        return _SETTLE_WINDOWS * self.window

    def settling(self, moving: np.ndarray) -> np.ndarray:
        """(n,) of consecutive windows: moving, or at most ``settle_steps`` after one that was."""
        moving = np.asarray(moving, dtype=bool)
        seen = np.concatenate([[0], np.cumsum(moving)])
        lo = np.maximum(np.arange(len(moving)) - self.settle_steps, 0)
        return seen[np.arange(len(moving)) + 1] - seen[lo] > 0

    def moving(self, windows: np.ndarray) -> np.ndarray:
        """(n,) whether several sensors move together in each window (n, t, c), far beyond their
        median change over a window (a regime switch, a start or stop)."""
        return moving_windows(windows, self.change_scale_)

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

    def flags(self, joint: np.ndarray, z: np.ndarray, settling: np.ndarray) -> np.ndarray:
        """(n,) windows beyond their thresholds: a moving or settling window's (``settling``,
        see :meth:`settling`) own, else the steady ones."""
        moving = np.asarray(settling, dtype=bool)
        joint_limit = np.where(moving, self.moving_joint_threshold_, self.joint_threshold_)
        z_limit = np.where(moving, self.moving_z_threshold_, self.z_threshold_)
        with np.errstate(invalid="ignore"):
            return (joint > joint_limit) | (np.nan_to_num(z, nan=-np.inf).max(axis=1) > z_limit)

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
                "z_threshold": self.z_threshold_, "moving_joint_threshold": self.moving_joint_threshold_,
                "moving_z_threshold": self.moving_z_threshold_}  # fmt: skip
        arrays = {"z_center": self.z_center_, "z_scale": self.z_scale_, "rest_threshold": self.rest_threshold_,
                  "rest_center": self.rest_center_, "lower": self.lower_, "upper": self.upper_,
                  "change_scale": self.change_scale_}  # fmt: skip
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict[str, np.ndarray], generator: BaseGenerator) -> ConsistencyModel:
        model = cls(window=meta["window"], generator=meta["generator"], calibration_fraction=meta["calibration_fraction"], margin=meta["margin"])
        model.generator_ = generator
        model.channels_ = list(meta["channels"])
        model.joint_threshold_ = float(meta["joint_threshold"])
        model.z_threshold_ = float(meta["z_threshold"])
        # Saved before moving windows had their own thresholds: every window is judged as steady.
        model.moving_joint_threshold_ = float(meta.get("moving_joint_threshold", model.joint_threshold_))
        model.moving_z_threshold_ = float(meta.get("moving_z_threshold", model.z_threshold_))
        model.change_scale_ = arrays.get("change_scale", np.full(len(model.channels_), np.inf))
        model.z_center_, model.z_scale_ = arrays["z_center"], arrays["z_scale"]
        model.rest_threshold_ = arrays["rest_threshold"]
        model.rest_center_ = arrays.get("rest_center")  # None in artifacts saved before isolation existed
        model.lower_, model.upper_ = arrays["lower"], arrays["upper"]
        return model
