"""AnomalyDetector: how atypical each step of a series is under a generator, and why.

Policy on top of the generator (which only says how typical a window is):
* the anomaly score of a window is minus the generator's ``score_samples``;
* a step's score is that of the window ending at it (``align="end"``: causal, the same number the
  live scorer gives) or centred on it (``align="center"``: for offline review), optionally a
  trailing mean over ``smoothing`` windows; the first steps of a series, before a whole window
  has been seen, take the first window's score;
* the threshold comes from scores of normal data only (``geniot.tasks.thresholds``);
* attribution: ``score_channels`` (how typical each sensor is given the others), as a z-score
  against the same sensor on normal data; the sensors with the largest z drive the window;
* events: consecutive flagged steps (``geniot.tasks.events``);
* stuck sensors: a frozen value is well explained by its own past, so a likelihood score passes
  it; ``stuck=True`` (default) adds the rule of ``geniot.tasks.flatline.StuckRule``, learned from
  the same normal data: a reading where a sensor has held its value for longer than it ever does
  on normal data is flagged too, the sensor named first and the reason given
  ("stuck: flow held 12.3 for 45 min").
"""

from __future__ import annotations

import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import ArtifactError, CapabilityError, DataError
from geniot.core.moving import MOVING_SENSORS, change_scale, moving_windows
from geniot.core.record import TrainingRecord, fallback_channel_names
from geniot.core.task import BaseTask
from geniot.data.clock import fill_missing_steps
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows
from geniot.models.loading import load_generator
from geniot.tasks._series import (
    check_long_enough,
    fitted_generator,
    model_channels,
    series_values,
)
from geniot.tasks.events import (
    Event,
    EventTracker,
    event_flags,
    feed_tracker,
    flag_scores,
    rank_sensors,
    smooth_scores,
)
from geniot.tasks.flatline import StuckRule
from geniot.tasks.thresholds import Threshold, calibrate_threshold

DETECTOR_FILE = "detector.json"
_MAX_ATTRIBUTION_WINDOWS = 2000  # normal windows used to learn each sensor's typical surprise


@dataclass
class Detection:
    """Per-step results of :meth:`AnomalyDetector.detect` for one series."""

    scores: np.ndarray  # (n_steps,) higher = more anomalous
    flags: np.ndarray  # (n_steps,) bool
    threshold: float
    channel_z: np.ndarray  # (n_steps, n_channels): sensor surprise vs normal; NaN where not computed
    top_sensors: list[tuple[str, ...]]  # per step; empty where not flagged (attribute="flagged")
    events: list[Event] = field(default_factory=list)
    timestamps: np.ndarray | None = None
    reasons: list[str] | None = None  # per step: "stuck: <sensor> held <value> for <time>" or ""
    raw_flags: np.ndarray | None = None  # per step before events are kept or bridged: score above threshold or a stuck sensor
    #: per step: the threshold its window is judged against (``threshold``, the steady one, or
    #: the moving windows' own where several sensors move together: a regime switch)
    thresholds: np.ndarray | None = None

    def event_reason(self, event: Event) -> str:
        """Why an event was raised: each stuck sensor within it and how long it held, else
        "score above threshold"."""
        first: dict[str, str] = {}
        for r in (self.reasons or [])[event.start : event.end + 1]:
            for part in r.split("; ") if r else ():
                first[part.split(" held")[0]] = part  # the latest: how long it held in all
        return "; ".join(first.values()) if first else "score above threshold"

    def to_frame(self):
        import pandas as pd

        frame = pd.DataFrame(
            {
                "score": self.scores,
                "threshold": self.thresholds if self.thresholds is not None else np.full(len(self.scores), self.threshold),
                "flag": self.flags.astype(int),
                "top_sensors": [";".join(t) for t in self.top_sensors],
                "reason": self.reasons if self.reasons is not None else [""] * len(self.scores),
            }
        )
        if self.timestamps is not None:
            frame.insert(0, "timestamp", self.timestamps)
        return frame


class AnomalyDetector(BaseTask):
    """Anomaly scores, calibrated flags, sensor attribution and events from a generator.

    Parameters
    ----------
    generator:
        Any generator with a likelihood (``gaussian``, ``vae``, ``diffusion``). ``fit`` clones
        it and fits the clone on the first ``1 - calibration_fraction`` of the normal windows;
        with ``prefit=True`` it is used as given and all the normal data calibrates.
    window:
        Steps per window when fitting from a series (a fitted generator brings its own).
    threshold, risk, level, quantile:
        Threshold rule: ``"pot"`` (default; exceedance probability ``risk`` per window under a
        Pareto tail fitted above the ``level`` quantile), ``"quantile"`` or a fixed number.
    calibration_fraction:
        Share of the normal windows (the latest) held out from training to calibrate.
    smoothing:
        Trailing mean over this many consecutive window scores (1 = none).
    align:
        ``"end"`` (a step gets the window ending at it) or ``"center"``.
    attribute:
        ``"flagged"`` (sensor attribution for flagged steps only: cheaper), ``"all"`` or ``"none"``.
    given:
        Operating conditions (e.g. a speed setpoint or mode signal): channels whose values are taken
        as given, not judged. A window then scores ``-log p(rest | given)`` (the generator's score
        with and without the other channels), so a change of operating regime that the machine
        follows as it should is no anomaly, while the other sensors not following it is; the
        given channels are never named as the sensors behind an event.
    score:
        ``"window"`` (minus the log-likelihood of the whole window) or ``"step"`` (of the window's
        last step given the steps before it: a one-step-ahead surprise). Under ``"window"`` a
        regime change raises every window it lies in by the whole change; under ``"step"`` only
        what the recent past does not explain counts (it needs ``align="end"``).
    stuck:
        Also flag sensors that hold a value longer than they ever do on the normal data
        (``geniot.tasks.flatline.StuckRule``, learned in ``fit``/``calibrate_windows``).
    moving:
        Judge windows in which several sensors move together (a regime switch, a start or stop:
        ``geniot.core.moving``) against a threshold calibrated on such windows of the normal data,
        and every other window against one calibrated on steady windows. One threshold over all
        windows is set by the switches, the rarest normal windows, and then misses faults in
        steady operation (on the default simulated plant it sat 10-30x above the steady one).
        Needs at least ``1/risk`` steady calibration windows (a tail is a guess from fewer);
        otherwise, or with a fixed threshold, one threshold judges every window.
    top_k, merge_gap, min_event_steps:
        Sensors named per step/event; runs of at most ``merge_gap`` unflagged steps between
        flagged ones are bridged; runs of flags shorter than ``min_event_steps`` are dropped.
        Either setting makes ``detect``'s flags those of the kept events (offline: it looks ahead
        up to ``min_event_steps`` steps); the streaming scorer flags each reading on its own.
    """

    def __init__(
        self,
        *,
        generator: BaseGenerator | None = None,
        window: int = 24,
        threshold: str | float = "pot",
        risk: float = 1e-3,
        level: float = 0.95,
        quantile: float = 0.99,
        calibration_fraction: float = 0.25,
        smoothing: int = 1,
        align: str = "end",
        attribute: str = "flagged",
        top_k: int = 3,
        merge_gap: int = 0,
        min_event_steps: int = 1,
        given: tuple[str, ...] | list[str] | None = None,
        score: str = "window",
        prefit: bool = False,
        stuck: bool = True,
        moving: bool = True,
    ) -> None:
        self.generator = generator
        self.window = window
        self.threshold = threshold
        self.risk = risk
        self.level = level
        self.quantile = quantile
        self.calibration_fraction = calibration_fraction
        self.smoothing = smoothing
        self.align = align
        self.attribute = attribute
        self.top_k = top_k
        self.merge_gap = merge_gap
        self.min_event_steps = min_event_steps
        self.given = given
        self.score = score
        self.prefit = prefit
        self.stuck = stuck
        self.moving = moving

    @staticmethod
    def _check_generator(generator: BaseGenerator) -> None:
        if not isinstance(generator, BaseGenerator):
            raise TypeError(f"generator must be a geniot generator, got {type(generator).__name__}")
        if generator.tags.likelihood == "none":
            raise CapabilityError(
                f"{type(generator).__name__} has no likelihood to score windows with; use "
                "'gaussian', 'vae' or 'diffusion'"
            )

    def _validate(self) -> None:
        self._check_generator(self.generator)
        if self.align not in ("end", "center"):
            raise DataError(f"align must be 'end' or 'center', got {self.align!r}")
        if self.attribute not in ("flagged", "all", "none"):
            raise DataError(f"attribute must be 'flagged', 'all' or 'none', got {self.attribute!r}")
        if self.score not in ("window", "step"):
            raise DataError(f"score must be 'window' or 'step', got {self.score!r}")
        if self.score == "step" and self.align != "end":
            raise DataError("score='step' judges the last step of each window: it needs align='end'")
        if int(self.smoothing) < 1:
            raise DataError(f"smoothing must be at least 1, got {self.smoothing}")
        if not 0.0 <= float(self.calibration_fraction) < 1.0:
            raise DataError(f"calibration_fraction must be in [0, 1), got {self.calibration_fraction}")
        if self.given is not None and (isinstance(self.given, str) or not all(isinstance(g, str) for g in self.given)):
            raise DataError(f"given must be a list of channel names, got {self.given!r}")

    # ------------------------------------------------------------ fit
    def fit(self, normal, *, progress=None, record: TrainingRecord | None = None) -> AnomalyDetector:
        """Fit (unless prefit) and calibrate on normal data: a series, an array (n_steps, c), or
        a list of them (e.g. one per asset). ``record`` (where the data came from) is saved with
        the generator; by default it holds the window and the calibration share."""
        self.validate()
        items = normal if isinstance(normal, (list, tuple)) else [normal]
        if not items:
            raise DataError("no normal data to fit on")
        items = [fill_missing_steps(x).series if isinstance(x, SensorSeries) else x for x in items]  # no window spans an outage
        if self.prefit:
            self.generator_ = self.generator
            gen = self.generator
            calib = [series_values(x, gen.n_channels_, model_channels(gen)) for x in items]
            normal_values = [values for values, _ in calib]
        else:
            calib = []
            train_windows = []
            normal_values = []
            for x in items:
                values, source = series_values(x, _n_channels(x), None)
                normal_values.append(values)
                n_cal = int(round(len(values) * float(self.calibration_fraction)))
                if n_cal and n_cal < int(self.window):
                    n_cal = int(self.window)  # at least one whole window to calibrate on
                fit_part = values[: len(values) - n_cal]
                check_long_enough(fit_part, int(self.window), source)
                w = make_windows(fit_part, int(self.window))
                train_windows.append(w[~np.isnan(w).all(axis=(1, 2))])  # a window inside an outage holds nothing
                calib.append((values[len(values) - n_cal :] if n_cal else values, source))
            first = items[0] if isinstance(items[0], SensorSeries) else None
            self.generator_ = self.generator.clone().fit(
                np.concatenate(train_windows), progress=progress,
                channels=None if first is None else first.channels,
                record=record or TrainingRecord(window=int(self.window), calibration=float(self.calibration_fraction)),
            )  # fmt: skip
        gen = self.generator_
        step_scores, windows = [], []
        for values, source in calib:
            check_long_enough(values, gen.n_steps_, source)
            w = make_windows(values, gen.n_steps_)
            step_scores.append(self._smooth(self.window_scores(w)))
            windows.append(w)
        return self._calibrate(np.concatenate(step_scores), np.concatenate(windows), normal_values)

    def calibrate_windows(self, windows: np.ndarray, *, stuck_windows: np.ndarray | None = None) -> AnomalyDetector:
        """Calibrate on normal windows (n, t, c) of a prefit generator that it never saw in
        training (``geniot fit`` keeps such a part of the data out); each window counts once.
        The stuck rule learns from these and ``stuck_windows`` (e.g. the training windows: more
        normal data to see how long each sensor may sit still), joined back into series."""
        from geniot.tasks.flatline import join_windows

        self.validate()
        if not self.prefit:
            raise DataError("calibrate_windows needs a prefit generator (AnomalyDetector(..., prefit=True))")
        self.generator_ = self.generator
        windows = np.asarray(windows, dtype=np.float64)
        series = join_windows(windows) + ([] if stuck_windows is None else join_windows(stuck_windows))
        return self._calibrate(self.window_scores(windows), windows, series)

    def _calibrate(self, scores: np.ndarray, windows: np.ndarray, normal_series: list[np.ndarray]) -> AnomalyDetector:
        self.change_scale_ = change_scale(windows) if self.moving else None
        moving = self.moving_mask(windows)
        steady = np.isfinite(scores) & ~moving
        self.moving_threshold_ = None
        if moving.any() and steady.sum() >= self._steady_windows_needed():
            calm = self._threshold_of(scores[steady])
            self.threshold_ = Threshold(calm.value, f"steady windows ({int(steady.sum())}): {calm.rule}")
            own = scores[moving & np.isfinite(scores)]
            own = self._threshold_of(own) if own.size >= 2 else Threshold(calm.value, "too few to calibrate: the steady threshold")
            raised = ", raised to the steady threshold" if own.value < calm.value else ""
            self.moving_threshold_ = Threshold(max(own.value, calm.value), f"windows in which {MOVING_SENSORS}+ sensors move "
                                               f"together ({int(moving.sum())}, regime switches): {own.rule}{raised}")  # fmt: skip
        else:
            self.threshold_ = self._threshold_of(scores)
        self.n_calibration_windows_ = int(np.isfinite(scores).sum())
        self._fit_channel_stats(windows)
        self.stuck_rule_ = StuckRule().fit(normal_series, skip=self.given_index()) if self.stuck else None
        return self

    def thresholds_text(self) -> str:
        """The thresholds in words: the steady one and, where there is one, the regime switches'."""
        text = f"threshold {self.threshold_.value:.6g} ({self.threshold_.rule})"
        moving = getattr(self, "moving_threshold_", None)
        if moving is not None:
            text += f"; regime switches: threshold {moving.value:.6g} ({moving.rule})"
        return text

    def _steady_windows_needed(self) -> float:
        """Steady calibration windows needed to judge them on their own: a tail of one window in
        ``1/risk`` is a guess from fewer (a guess below the real tail is a stream of false
        alarms; then one threshold over all windows holds, as before); a fixed number needs none
        of them, so it is one threshold for all."""
        if self.threshold == "pot":
            return float(np.ceil(1.0 / float(self.risk)))
        if self.threshold == "quantile":
            return float(np.ceil(10.0 / (1.0 - float(self.quantile))))
        return np.inf

    def _threshold_of(self, scores: np.ndarray) -> Threshold:
        """This detector's threshold rule on normal scores."""
        return calibrate_threshold(scores, self.threshold, risk=float(self.risk), level=float(self.level), quantile=float(self.quantile))

    def moving_mask(self, windows: np.ndarray) -> np.ndarray:
        """(n,) windows (n, t, c) judged against the moving windows' threshold (see ``moving``)."""
        scale = getattr(self, "change_scale_", None)
        if scale is None:
            return np.zeros(len(windows), dtype=bool)
        return moving_windows(windows, scale)

    def window_thresholds(self, windows: np.ndarray) -> np.ndarray:
        """(n,) the threshold each window (n, t, c) is judged against: the steady one, or the
        moving windows' own where several sensors move together."""
        out = np.full(len(windows), float(self.threshold_.value))
        moving = getattr(self, "moving_threshold_", None)
        if moving is not None:
            out[self.moving_mask(windows)] = float(moving.value)
        return out

    def stuck_flags(self, values: np.ndarray) -> np.ndarray | None:
        """(n_steps, c): the sensors stuck at each step of a series; None without a stuck rule."""
        rule = getattr(self, "stuck_rule_", None)
        return None if rule is None else rule.channel_flags(values)

    def _fit_channel_stats(self, windows: np.ndarray) -> None:
        if len(windows) > _MAX_ATTRIBUTION_WINDOWS:
            pick = np.random.default_rng(0).choice(len(windows), _MAX_ATTRIBUTION_WINDOWS, replace=False)
            windows = windows[np.sort(pick)]
        surprise = -self.generator_.score_channels(windows, mask=~np.isnan(windows))
        self.channel_center_ = np.nanmedian(surprise, axis=0)
        q75, q25 = np.nanpercentile(surprise, [75, 25], axis=0)
        spread = (q75 - q25) / 1.349
        std = np.nanstd(surprise, axis=0)
        self.channel_scale_ = np.where(spread > 1e-12, spread, np.where(std > 1e-12, std, 1.0))

    # ------------------------------------------------------------ scoring
    def window_scores(self, windows: np.ndarray) -> np.ndarray:
        """Anomaly score of each window (n, t, c) (NaN = gap): minus the generator's score, given
        the operating conditions (``given``) when there are any. A window with nothing observed
        scores NaN; with ``score="step"``, one whose last step is unread."""
        if self.score != "step":
            return self._joint_scores(windows)
        windows = np.asarray(windows, dtype=np.float64)
        past = windows.copy()
        past[:, -1, :] = np.nan
        whole = self._joint_scores(windows)
        with np.errstate(invalid="ignore"):  # -log p(last | past) = -log p(window) + log p(past)
            step = np.where(np.isinf(whole), whole, whole - self._joint_scores(past))
        step[np.isnan(windows[:, -1, :]).all(axis=1)] = np.nan
        return step

    def _joint_scores(self, windows: np.ndarray) -> np.ndarray:
        gen = fitted_generator(getattr(self, "generator_", None), "AnomalyDetector")
        given = self.given_index()
        if not given:
            return anomaly_scores(gen, windows)
        windows = np.asarray(windows, dtype=np.float64)
        only_given = windows.copy()
        only_given[:, :, [j for j in range(windows.shape[2]) if j not in given]] = np.nan
        joint, conditions = anomaly_scores(gen, windows), anomaly_scores(gen, only_given)
        # -log p(rest | given) = -log p(all) + log p(given); with no given value seen, the joint score
        return np.where(np.isnan(conditions), joint, joint - conditions)

    def given_index(self) -> list[int]:
        """Channel positions of the ``given`` operating conditions."""
        if not self.given:
            return []
        names = self.channel_names(self.generator_.n_channels_)
        missing = [g for g in self.given if g not in names]
        if missing:
            raise DataError(f"operating condition(s) {missing} are not channels of the model ({', '.join(names)})")
        if len(self.given) >= len(names):
            raise DataError("every channel is an operating condition: nothing would be left to judge")
        return [names.index(g) for g in self.given]

    def channel_z(self, windows: np.ndarray) -> np.ndarray:
        """Each sensor's surprise given the others, in normal-data z units: (n, c)."""
        gen = fitted_generator(getattr(self, "generator_", None), "AnomalyDetector")
        mask = ~np.isnan(windows)
        out = np.full((len(windows), gen.n_channels_), np.nan)
        seen = mask.any(axis=(1, 2))
        if seen.any():
            try:
                with np.errstate(over="ignore", invalid="ignore"):
                    surprise = -gen.score_channels(windows[seen], mask=mask[seen])
            except Exception as exc:
                if not _numeric_failure(exc):
                    raise
                # overflow: rank channels by how extreme their values are (no z units here)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    out[seen] = np.nanmax(np.abs(np.where(mask[seen], windows[seen], np.nan)), axis=1)
                return out
            out[seen] = (surprise - self.channel_center_) / self.channel_scale_
        out[:, self.given_index()] = np.nan  # operating conditions are given, never "the sensor behind it"
        return out

    def _smooth(self, scores: np.ndarray) -> np.ndarray:
        return smooth_scores(scores, int(self.smoothing))  # the one rule, shared with live and edge

    def _step_index(self, n_steps: int, n_windows: int) -> np.ndarray:
        """The window whose score each step takes."""
        t = self.generator_.n_steps_
        offset = t - 1 if self.align == "end" else t // 2
        return np.clip(np.arange(n_steps) - offset, 0, n_windows - 1)

    def anomaly_score(self, X) -> np.ndarray:
        """Anomaly score per step of a series (n_steps,); higher = more anomalous."""
        return self._score_series(X)[0]

    def _score_series(self, X):
        self.validate()
        gen = fitted_generator(getattr(self, "generator_", None), "AnomalyDetector")
        # windows on the series' own clock (an outage's missing timestamps as gaps); each row
        # takes the score of its window there
        fill = fill_missing_steps(X) if isinstance(X, SensorSeries) else None
        grid, source = series_values(X if fill is None else fill.series, gen.n_channels_, model_channels(gen))
        check_long_enough(grid, gen.n_steps_, source)
        windows = make_windows(grid, gen.n_steps_)
        smoothed = self._smooth(self.window_scores(windows))
        index = self._step_index(len(grid), len(windows))
        if fill is not None:
            index, grid = index[fill.rows], grid[fill.rows]
        return smoothed[index], windows, index, grid

    def detect(self, X) -> Detection:
        """Scores, flags, sensor attribution, reasons and events for a series."""
        scores, windows, index, values = self._score_series(X)
        threshold = float(self.threshold_.value)
        thresholds = self.window_thresholds(windows)[index]  # a regime switch's window has its own
        flags = flag_scores(scores, thresholds)
        stuck = self.stuck_flags(values)
        if stuck is not None:
            flags = flags | stuck.any(axis=1)  # a stuck sensor flags the step whatever its score
        n_channels = windows.shape[2]
        channel_z = np.full((len(scores), n_channels), np.nan)
        if self.attribute != "none":
            wanted = np.unique(index[flags]) if self.attribute == "flagged" else np.arange(len(windows))
            if wanted.size:
                z = np.full((len(windows), n_channels), np.nan)
                z[wanted] = self.channel_z(windows[wanted])
                channel_z = z[index]
        timestamps = X.timestamps if isinstance(X, SensorSeries) else None
        reasons = [""] * len(scores)
        if stuck is not None and stuck.any():
            if self.attribute != "none":
                channel_z[stuck] = np.inf  # the stuck sensor is the one behind the step (ranked first)
            reasons = self.stuck_rule_.reasons(values, self.channel_names(n_channels), timestamps)
        events = self.events_of(flags, scores, channel_z, timestamps)  # the tracker live scoring runs too
        raw_flags = flags
        if int(self.min_event_steps) > 1 or int(self.merge_gap) > 0:
            flags = event_flags(events, len(flags))
        names = self.channel_names(n_channels)
        top = [self._top(z_row, names) if (flag or self.attribute == "all") else () for z_row, flag in zip(channel_z, flags, strict=True)]
        return Detection(scores, flags, threshold, channel_z, top, events, timestamps, reasons, raw_flags, thresholds)

    def channel_names(self, n_channels: int) -> list[str]:
        return model_channels(self.generator_) or fallback_channel_names(n_channels)

    def events_of(self, flags: np.ndarray, scores: np.ndarray, channel_z: np.ndarray, timestamps=None,
                  asset: str | None = None) -> list[Event]:  # fmt: skip
        """Events of per-step flags (raw or already debounced: the same events), with this
        detector's grouping settings (``geniot.core.events.EventTracker``)."""
        tracker = self.event_tracker(asset=asset, n_channels=channel_z.shape[1])
        return feed_tracker(tracker, flags, scores, channel_z=channel_z, timestamps=timestamps).finish()

    def event_tracker(self, *, asset: str | None = None, n_channels: int | None = None, keep_closed: bool = True) -> EventTracker:
        """An empty event tracker with this detector's settings: what batch, live and edge use."""
        n = self.generator_.n_channels_ if n_channels is None else n_channels
        return EventTracker(channels=self.channel_names(n), merge_gap=int(self.merge_gap), min_steps=int(self.min_event_steps),
                            top_k=int(self.top_k), asset=asset, keep_closed=keep_closed)  # fmt: skip

    def _top(self, z_row: np.ndarray, names: list[str]) -> tuple[str, ...]:
        return rank_sensors(z_row, names, int(self.top_k))

    def stream(self, *, asset: str | None = None):
        """A scorer that takes one reading at a time (bounded memory) for live data; its events
        have ids ``asset@start``."""
        from geniot.tasks.streaming import StreamingScorer

        return StreamingScorer(self, asset=asset)

    # ------------------------------------------------------------ persistence
    def save(self, path) -> Path:
        """The generator's artifact folder plus ``detector.json`` (settings and calibration)."""
        gen = fitted_generator(getattr(self, "generator_", None), "AnomalyDetector")
        path = Path(path)
        gen.save(path)
        state = {
            "params": {k: v for k, v in self.get_params(deep=False).items() if k not in ("generator", "prefit")},
            "threshold_": {"value": self.threshold_.value, "rule": self.threshold_.rule},
            "moving_threshold_": None if getattr(self, "moving_threshold_", None) is None
            else {"value": self.moving_threshold_.value, "rule": self.moving_threshold_.rule},
            "change_scale_": None if getattr(self, "change_scale_", None) is None else self.change_scale_.tolist(),
            "n_calibration_windows_": self.n_calibration_windows_,
            "channel_center_": self.channel_center_.tolist(),
            "channel_scale_": self.channel_scale_.tolist(),
            "stuck_rule_": None if getattr(self, "stuck_rule_", None) is None else self.stuck_rule_.to_dict(),
        }
        (path / DETECTOR_FILE).write_text(json.dumps(state, indent=2))
        return path

    @classmethod
    def load(cls, path) -> AnomalyDetector:
        path = Path(path)
        file = path / DETECTOR_FILE
        if not file.is_file():
            raise ArtifactError(f"{path} holds no calibrated detector ({DETECTOR_FILE} is missing)")
        try:
            state = json.loads(file.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise ArtifactError(f"{file}: unreadable ({exc})") from exc
        detector = cls(generator=load_generator(path), prefit=True, **state["params"])
        detector.generator_ = detector.generator
        detector.threshold_ = Threshold(float(state["threshold_"]["value"]), str(state["threshold_"]["rule"]))
        moving = state.get("moving_threshold_")  # absent: saved before regime switches had their own
        detector.moving_threshold_ = None if not moving else Threshold(float(moving["value"]), str(moving["rule"]))
        scale = state.get("change_scale_")
        detector.change_scale_ = None if scale is None else np.asarray(scale, dtype=np.float64)
        detector.n_calibration_windows_ = int(state["n_calibration_windows_"])
        detector.channel_center_ = np.asarray(state["channel_center_"], dtype=np.float64)
        detector.channel_scale_ = np.asarray(state["channel_scale_"], dtype=np.float64)
        saved = state.get("stuck_rule_")  # absent: a detector saved before the rule existed
        detector.stuck_rule_ = StuckRule.from_dict(saved) if saved else None
        return detector


def _n_channels(x) -> int:
    if isinstance(x, SensorSeries):
        return x.n_channels
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise DataError(f"a series must be shaped (n_steps, n_channels), got {arr.shape}")
    return arr.shape[1]


def anomaly_scores(generator: BaseGenerator, windows: np.ndarray) -> np.ndarray:
    """Minus the generator's score of each window (n, t, c) (NaN = gap); a window with nothing
    observed scores NaN. What a detector scores, also used where no detector exists yet (the
    federated calibration)."""
    windows = np.asarray(windows, dtype=np.float64)
    mask = ~np.isnan(windows)
    out = np.full(len(windows), np.nan)
    seen = mask.any(axis=(1, 2))
    if seen.any():
        out[seen] = _minus_scores(generator, windows[seen], mask[seen])
    return out


def _numeric_failure(exc: Exception) -> bool:
    """An overflow inside a model's arithmetic (not a bad argument, which stays an error)."""
    return isinstance(exc, FloatingPointError | OverflowError | np.linalg.LinAlgError) or (
        type(exc) is ValueError and "inf" in str(exc).lower()
    )


def _minus_scores(generator: BaseGenerator, windows: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Minus ``score_samples``. A finite window so extreme that the model's arithmetic overflows
    (e.g. 1e308 in every sensor) is infinitely anomalous, not an exception that stops scoring."""
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            return -generator.score_samples(windows, mask=mask)
        except Exception as exc:
            if not _numeric_failure(exc):
                raise
        out = np.empty(len(windows))
        for i in range(len(windows)):  # only the windows that overflow get +inf
            try:
                out[i] = -generator.score_samples(windows[i : i + 1], mask=mask[i : i + 1])[0]
            except Exception as exc:
                if not _numeric_failure(exc):
                    raise
                out[i] = np.inf
        return out
