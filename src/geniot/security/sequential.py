"""Sequential tests on each sensor's residual under a Gaussian window model: stealthy false data.

A forged sensor that stays inside its limits is still wrong in two ways that accumulate over
time even when no single window looks odd:

* **level**: its reading drifts away from what the *other* sensors say it should be (a bias, a
  ramp, a held value while the process moves). The residual of sensor ``j``'s newest reading
  predicted from the other sensors' windows (``cross``) shifts; a two-sided CUSUM adds it up.
  A slow adaptive baseline (hours) follows genuine drift of a sensor so it is not flagged; it
  stops adapting while the sensor is under suspicion.
* **dynamics**: predicted from the other sensors *and its own past* (``own``), a real sensor's
  innovation has a learned variance. Values made up with white noise are rougher than the
  physics (variance up); a held value with too little noise is smoother (variance collapse).
  Two CUSUMs of the Gaussian log-likelihood ratio for a variance change add them up.
* **whiteness**: a held value with white noise as large as the sensor's innovations passes both,
  but it has lost the slow wander of the physics: its readings are uncorrelated where the real
  sensor's are not (the von Neumann ratio over an hour, :mod:`geniot.security.whiteness`).

The conditionals come from one Gaussian over flattened windows (unshrunk: the fine temporal
structure is what the own-past test needs), each window with every sensor's lagged views at its
newest step (:mod:`geniot.security.lagged`: a temperature follows the load through a lag far
longer than the window, so the other sensors' lagged views are in its ``cross`` predictor).
Scales and thresholds are learned out of sample: the normal history is cut into contiguous folds, each scored by a model fitted on the others,
and each threshold is the largest CUSUM those normal residuals reached, times ``1 + margin``.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from scipy import linalg

from geniot.core.exceptions import DataError
from geniot.data.windows import make_windows
from geniot.security.lagged import LAG_MINUTES, VALID_AFTER, LagFilters, lagged
from geniot.security.whiteness import WhitenessState, block_steps, fit_thresholds

STATISTICS = ("level", "rougher", "smoother", "white")
_FOLDS = 4
_CLIP = 4.0  # residuals (in scale units) are clipped: one outlier is not evidence of forging
_LEVEL_K = 1.0  # CUSUM reference: half of a 2-scale shift
_UP_RATIO, _DOWN_RATIO = 2.0, 0.25  # innovation variance ratios the variance CUSUMs are tuned to
_MIN_THRESHOLD = 10.0
_BASELINE_H = 12.0  # time constant of the slow baseline of the level residual
_PATTERN_CACHE = 256
_OWN_WITH_OTHERS = False  # True: own-past and the other sensors (measured: fewer false alarms on temperatures, see notes)
HOLD_LEVEL = 0.25  # share of a threshold above which a sensor's baseline stops adapting


def _ridge(cov: np.ndarray) -> np.ndarray:
    d = len(cov)
    return cov + 1e-8 * np.trace(cov) / d * np.eye(d)  # rounding only: keep it positive definite


def _moments_of_sums(windows: np.ndarray, others: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Pooled mean and covariance from this site's windows and the other sites' sums: window
    count ``n_windows``, ``total`` and ``cross`` (uncentred cross-products) of their flattened
    standardised windows (``federated.gaussian_stats`` moment and centred statistics about zero)."""
    flat = windows.reshape(len(windows), -1)
    n = len(flat) + float(others["n_windows"][0])
    mean = (flat.sum(axis=0) + others["total"]) / n
    cross = flat.T @ flat + others["cross"]
    return mean, _ridge((cross - n * np.outer(mean, mean)) / (n - 1.0))


def _moments(windows: np.ndarray, others: np.ndarray | dict | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of flattened windows, with the other sites' data when a fleet model is
    fitted: their windows pooled here (centralized) or only their sums (federated; the same numbers)."""
    if isinstance(others, dict):
        return _moments_of_sums(windows, others)
    if others is not None:
        windows = np.concatenate([windows, others])
    flat = windows.reshape(len(windows), -1)
    return flat.mean(axis=0), _ridge(np.cov(flat, rowvar=False))


def _gains(cov: np.ndarray, c: int, t: int, observed: np.ndarray, lagged_cross: np.ndarray | None = None) -> np.ndarray:
    """(2, c, d) regression rows: E[z_target | predictors] = gain @ z for the own and cross
    predictors of each sensor's newest reading, using only the ``observed`` dims; NaN gain where
    the target is unobserved or nothing predicts it. The features are the window's ``c * t``
    readings, then the lagged views (filter by filter, sensor by sensor); ``lagged_cross`` (c,):
    which sensors' cross predictors use the other sensors' lagged views (None: none)."""
    d = len(cov)
    n_lags = (d - c * t) // c
    out = np.full((2, c, d), np.nan)
    for j in range(c):
        tgt = (t - 1) * c + j
        if not observed[tgt]:
            continue
        own = np.zeros(d, dtype=bool)
        own[np.arange(j, c * t, c)] = True
        left_out = own.copy()  # from the cross predictor
        if lagged_cross is not None and lagged_cross[j]:
            left_out[c * t + np.arange(n_lags) * c + j] = True
        else:
            left_out[c * t :] = True
        for k in range(2):
            # own: every reading but the newest of the sensor (its dynamics given the physics);
            # cross: the other sensors alone, with their lagged views (the sensor's own past
            # cannot excuse a level).
            pred = observed & (np.ones(d, dtype=bool) if k == 0 and _OWN_WITH_OTHERS else own if k == 0 else ~left_out)
            pred[tgt] = False
            if not pred.any():
                continue
            g = linalg.solve(cov[np.ix_(pred, pred)], cov[pred, tgt], assume_a="pos")
            row = np.zeros(d)
            row[pred] = g
            out[k, j] = row
    return out


def _cond_sd(cov: np.ndarray, gains: np.ndarray, c: int, t: int) -> np.ndarray:
    """(2, c) conditional standard deviations of the full-pattern regressions."""
    out = np.empty((2, c))
    for k in range(2):
        for j in range(c):
            tgt = (t - 1) * c + j
            g = gains[k, j]
            out[k, j] = np.sqrt(max(cov[tgt, tgt] - cov[tgt] @ g, 1e-12))
    return out


class CusumState:
    """Per-asset running statistics: (c, 4) CUSUMs (level+, level-, rougher, smoother), the level
    baseline, for each sensor the step its evidence started accumulating, the newest block of
    readings for the whiteness test, and the lag filters (None: a model without lagged views)."""

    def __init__(self, c: int, block: int, lags: LagFilters | None = None) -> None:
        self.lags = lags
        self.s = np.zeros((c, 4))
        self.baseline = np.zeros(c)
        self.since = np.full((c, 4), -1, dtype=np.int64)
        self.suspect = np.zeros(c, dtype=bool)  # set by the caller while an event names the sensor: baseline held
        self.white = WhitenessState(block, c)


class SequentialResidualTest:
    """Fit on normal values (n, c) of one asset; ``step`` scores one window (t, c) at a time."""

    def __init__(self, *, window: int = 8, margin: float = 1.0, level_margin: float = 3.0, interval_s: float = 60.0,
                 lag_minutes: tuple[float, ...] = LAG_MINUTES) -> None:  # fmt: skip
        self.window = int(window)
        self.margin = float(margin)
        self.level_margin = float(level_margin)
        self.interval_s = float(interval_s)
        self.lag_minutes = tuple(float(m) for m in lag_minutes)

    # ------------------------------------------------------------ fit
    def _standardised(self, values: np.ndarray, lags: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(centre, spread, features of every window of the standardised values: its readings
        flattened, then the views lagged by ``lags`` minutes at its newest step, (n, d); which are complete)."""
        values = np.asarray(values, dtype=np.float64)
        center = np.nanmean(values, axis=0)
        std = np.nanstd(values, axis=0)
        spread = np.where(np.isfinite(std) & (std > 0), std, 1.0)
        z = (values - center) / spread
        wins = make_windows(z, self.window)
        feats = np.concatenate([wins.reshape(len(wins), -1), lagged(z, self.interval_s, lags)[self.window - 1 :]], axis=1)
        return center, spread, feats, ~np.isnan(feats).any(axis=1)

    def _usable_lags(self, n_steps: int) -> tuple[float, ...]:
        """The lag time constants a history of ``n_steps`` can learn: a filter warms up over
        ``VALID_AFTER`` time constants, which must leave most of the history to fit on."""
        return tuple(m for m in self.lag_minutes if VALID_AFTER * m * 60.0 / self.interval_s <= n_steps / 4)

    def site_windows(self, values: np.ndarray) -> np.ndarray:
        """The complete window features (n, d) of one site's normal values, standardised by the
        site's own centre and spread (what a fleet model pools; the centre and spread stay at the site)."""
        _, _, feats, full = self._standardised(values, self._usable_lags(len(values)))
        return feats[full]

    def fit(self, values: np.ndarray, others: np.ndarray | dict | None = None) -> SequentialResidualTest:
        """``others``: the rest of the fleet for a fleet model, as their standardised windows
        (``site_windows``, centralized) or their sums (federated, see :func:`_moments_of_sums`); None: this
        site alone. Calibration (scales, thresholds) is always on this site's own data, out of fold."""
        t = self.window
        self.lag_minutes_ = self._usable_lags(len(values))
        self.center_, self.spread_, wins, full = self._standardised(values, self.lag_minutes_)
        c = len(self.center_)
        if full.sum() < max(10 * c * t, 200):
            raise DataError(f"{int(full.sum())} complete windows of {t} steps are too few for the sensor residual model (need {max(10 * c * t, 200)})")
        # Out-of-sample residuals of the history, fold by fold (contiguous folds: no leak from
        # neighbours), with the other sensors' lagged views in the cross predictor and without.
        fold = np.minimum((np.arange(len(wins)) * _FOLDS) // len(wins), _FOLDS - 1)
        variants = (False, True) if self.lag_minutes_ else (False,)
        resid = {v: np.full((2, len(wins), c), np.nan) for v in variants}
        for f in range(_FOLDS):
            train = full & (fold != f)
            mean, cov = _moments(wins[train], others)
            test = full & (fold == f)
            for v in variants:
                g = _gains(cov, c, t, np.ones(len(cov), dtype=bool), np.full(c, v))
                resid[v][:, test] = self._residuals(wins[test] - mean, g, _cond_sd(cov, g, c, t), t)
        self.mean_, self.cov_ = _moments(wins[full], others)
        scales, tops, gains, sds = {}, {}, {}, {}
        for v in variants:
            med = np.nanmedian(resid[v], axis=1, keepdims=True)
            scales[v] = np.maximum(1.4826 * np.nanmedian(np.abs(resid[v] - med), axis=1), 1e-6)  # (2, c)
            tops[v] = self._largest_cusums(resid[v] / scales[v][:, None, :], fold)
            gains[v] = _gains(self.cov_, c, t, np.ones(len(self.cov_), dtype=bool), np.full(c, v))
            sds[v] = _cond_sd(self.cov_, gains[v], c, t)
        # Per sensor, the cross predictor that finds a given bias soonest: the smaller largest
        # normal level CUSUM in the units of the reading (a temperature needs the lagged load;
        # for a fast sensor the extra predictors can only overfit a fold).
        level = {v: np.maximum(tops[v][:, 0], tops[v][:, 1]) * scales[v][1] * sds[v][1] for v in variants}
        self.lagged_cross_ = level[True] < level[False] if self.lag_minutes_ else np.zeros(c, dtype=bool)
        # The own predictor is the same in both; the cross rows are taken per sensor.
        lag, pick = variants[-1], self.lagged_cross_
        self.gains_ = np.where(pick[None, :, None], gains[lag], gains[False])
        self.sd_ = np.where(pick[None, :], sds[lag], sds[False])
        self.scale_ = np.where(pick[None, :], scales[lag], scales[False])
        tops = np.where(pick[:, None], tops[lag], tops[False])
        top = np.stack([np.maximum(tops[:, 0], tops[:, 1]), tops[:, 2], tops[:, 3]], axis=1)
        # The level residual of a lagged sensor (a temperature) wanders more than its dynamics do.
        headroom = 1.0 + np.array([self.level_margin, self.margin, self.margin])
        self.threshold_ = np.maximum(top * headroom, _MIN_THRESHOLD)  # (c, 3)
        self.white_threshold_ = fit_thresholds(values, self.block)  # (c,), inf: the sensor is not tested
        self._cache: OrderedDict = OrderedDict()
        return self

    def _largest_cusums(self, resid: np.ndarray, fold: np.ndarray) -> np.ndarray:
        """(c, 4) largest CUSUMs of normal residuals (2, n, c) in scale units, fold by fold (a fold
        boundary restarts them)."""
        c = resid.shape[2]
        tops = np.zeros((c, 4))
        for f in range(_FOLDS):
            st = CusumState(c, self.block)
            for e in resid[:, fold == f].transpose(1, 0, 2):
                self._update(st, e[0], e[1], hold=np.zeros(c, dtype=bool))
                tops = np.maximum(tops, st.s)
        return tops

    @property
    def lag_memory_s(self) -> float:
        """How long (seconds) the lagged views remember a disturbance: three time constants of the
        slowest filter (95% forgotten)."""
        return 3.0 * max(self.lag_minutes_, default=0.0) * 60.0

    @property
    def block(self) -> int:
        """Readings in one block of the whiteness test."""
        return block_steps(self.interval_s)

    @staticmethod
    def _residuals(zc: np.ndarray, gains: np.ndarray, sd: np.ndarray, t: int) -> np.ndarray:
        """(2, n, c) standardized residuals of each sensor's newest reading; zc = features - mean (n, d)."""
        c = gains.shape[1]
        target = zc[:, (t - 1) * c : t * c]
        return (target[None] - np.einsum("kjd,nd->knj", gains, zc)) / sd[:, None, :]

    # ------------------------------------------------------------ streaming
    def state(self) -> CusumState:
        c = len(self.center_)
        return CusumState(c, self.block, LagFilters(c, self.interval_s, self.lag_minutes_) if self.lag_minutes_ else None)

    def _pattern(self, observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        key = observed.tobytes()
        hit = self._cache.get(key)
        if hit is None:
            c, t = len(self.center_), self.window
            g = _gains(self.cov_, c, t, observed, self.lagged_cross_)
            sd = np.full((2, c), np.nan)
            for k in range(2):
                for j in range(c):
                    if np.isfinite(g[k, j]).all():
                        tgt = (t - 1) * c + j
                        sd[k, j] = np.sqrt(max(self.cov_[tgt, tgt] - self.cov_[tgt] @ g[k, j], 1e-12))
            hit = self._cache[key] = (g, sd)
            if len(self._cache) > _PATTERN_CACHE:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(key)
        return hit

    def residuals(self, window: np.ndarray, lags: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(own, cross) residuals (c,) of the window's newest readings in scale units; NaN where
        the newest reading is missing. ``lags``: the lagged views at the newest step
        (:meth:`LagFilters.now`; None: not known). Missing predictors are marginalised out (exact Gaussian)."""
        z = ((np.asarray(window, dtype=np.float64) - self.center_) / self.spread_).reshape(-1)
        n_lags = len(self.mean_) - len(z)
        z = np.concatenate([z, np.full(n_lags, np.nan) if lags is None else np.asarray(lags, dtype=np.float64)])
        observed = np.isfinite(z)
        if observed.all():
            g, sd = self.gains_, self.sd_
        else:
            g, sd = self._pattern(observed)
        zc = np.where(observed, z - self.mean_, 0.0)
        c = len(self.center_)
        with np.errstate(invalid="ignore"):
            r = (zc[(self.window - 1) * c : self.window * c][None] - np.einsum("kjd,d->kj", np.nan_to_num(g), zc)) / sd
        r[~np.isfinite(g).all(axis=2)] = np.nan
        return r[0] / self.scale_[0], r[1] / self.scale_[1]

    def _update(self, st: CusumState, own: np.ndarray, cross: np.ndarray, *, hold: np.ndarray) -> None:
        s = st.s
        ok_c, ok_o = np.isfinite(cross), np.isfinite(own)
        lev = np.clip(np.where(ok_c, cross, 0.0) - st.baseline, -_CLIP, _CLIP)
        e2 = np.minimum(np.where(ok_o, own, 0.0) ** 2, _CLIP**2)
        up = 0.5 * e2 * (1.0 - 1.0 / _UP_RATIO) - 0.5 * np.log(_UP_RATIO)
        down = 0.5 * e2 * (1.0 - 1.0 / _DOWN_RATIO) - 0.5 * np.log(_DOWN_RATIO)
        incr = np.stack([lev - _LEVEL_K, -lev - _LEVEL_K, up, down], axis=1)
        ok = np.stack([ok_c, ok_c, ok_o, ok_o], axis=1)
        new = np.where(ok, np.maximum(0.0, s + incr), s)  # a missing reading neither adds nor resets
        started = (s == 0) & (new > 0)
        st.since = np.where(started, 0, np.where(new > 0, st.since + ok, -1))
        st.s = new
        rate = self.interval_s / (_BASELINE_H * 3600.0)
        learn = ok_c & ~hold
        st.baseline = np.where(learn, st.baseline + rate * (np.where(ok_c, cross, 0.0) - st.baseline), st.baseline)

    def step(self, st: CusumState, window: np.ndarray) -> np.ndarray:
        """Update the statistics with one window (t, c) whose newest row follows the last one's
        (:meth:`skip` first after missing steps); (c, 4) evidence over threshold (level, rougher,
        smoother, white): > 1 is an alarm for that sensor."""
        window = np.asarray(window, dtype=np.float64)
        if st.lags is not None:
            st.lags.push((window[-1] - self.center_) / self.spread_)
        lags = None if st.lags is None else st.lags.now()
        own, cross = self.residuals(window, lags)
        if lags is not None and (np.isnan(lags).reshape(-1, len(self.center_)) & np.isfinite(window[-1])).any():
            # A level that needs the lagged load is not judged while a filter of a sensor now
            # reading warms up (after a start or an outage): the window alone cannot say where a
            # temperature should be, and its residual would wander into an alarm.
            cross = np.where(self.lagged_cross_, np.nan, cross)
        # The baseline must not learn a forgery: it holds still on a sensor under suspicion.
        hold = (self.levels(st).max(axis=1) > HOLD_LEVEL) | st.suspect
        self._update(st, own, cross, hold=hold)
        st.white.push(window[-1])
        return np.column_stack([self.levels(st), self.white_levels(st)])

    def skip(self, st: CusumState, n_missing: int) -> None:
        """``n_missing`` steps with no reading at all before the next :meth:`step`."""
        if st.lags is not None:
            st.lags.skip(n_missing)
        if n_missing >= self.block:
            st.white.clear()  # the whole block is a gap: no need to push a day's outage row by row
            return
        for _ in range(max(0, int(n_missing))):
            st.white.push(np.full(len(self.center_), np.nan))

    def levels(self, st: CusumState) -> np.ndarray:
        """(c, 3) CUSUM evidence over threshold (level, rougher, smoother)."""
        s = st.s
        return np.stack([np.maximum(s[:, 0], s[:, 1]), s[:, 2], s[:, 3]], axis=1) / self.threshold_

    def white_levels(self, st: CusumState) -> np.ndarray:
        """(c,) the newest block's von Neumann ratio over each sensor's alarm level (0: not judged)."""
        eta = st.white.ratio_now()
        tested = np.isfinite(self.white_threshold_) & np.isfinite(eta)
        return np.where(tested, np.nan_to_num(eta) / np.where(tested, self.white_threshold_, 1.0), 0.0)

    def evidence_steps(self, st: CusumState, j: int, stat: int) -> int:
        """How many steps back sensor ``j``'s evidence on statistic ``stat`` began (0: now)."""
        if STATISTICS[stat] == "white":
            return self.block - 1
        col = int(np.argmax(st.s[j, :2])) if stat == 0 else stat + 1  # CUSUM columns: level+, level-, rougher, smoother
        return max(int(st.since[j, col]), 0)

    def reset(self, st: CusumState, j: int) -> None:
        """After an alarm on sensor ``j``: its statistics start again (the classical CUSUM restart)."""
        st.s[j] = 0.0
        st.since[j] = -1

    # ------------------------------------------------------------ persistence
    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"seq_center": self.center_, "seq_spread": self.spread_, "seq_mean": self.mean_, "seq_cov": self.cov_,
                "seq_scale": self.scale_, "seq_threshold": self.threshold_, "seq_white_threshold": self.white_threshold_,
                "seq_lag_minutes": np.asarray(self.lag_minutes_, dtype=np.float64), "seq_lagged_cross": self.lagged_cross_}  # fmt: skip

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray], *, window: int, interval_s: float) -> SequentialResidualTest:
        # the margins live in the saved thresholds; saved before the lagged views: none
        test = cls(window=window, interval_s=interval_s, lag_minutes=tuple(arrays.get("seq_lag_minutes", ())))
        test.lag_minutes_ = test.lag_minutes
        test.center_, test.spread_ = arrays["seq_center"], arrays["seq_spread"]
        test.mean_, test.cov_ = arrays["seq_mean"], arrays["seq_cov"]
        test.scale_, test.threshold_ = arrays["seq_scale"], arrays["seq_threshold"]
        c = len(test.center_)
        # saved before the whiteness test: no sensor is tested by it (as such a model was trained)
        test.white_threshold_ = arrays.get("seq_white_threshold", np.full(c, np.inf))
        test.lagged_cross_ = arrays.get("seq_lagged_cross", np.zeros(c, dtype=bool)).astype(bool)
        test.gains_ = _gains(test.cov_, c, test.window, np.ones(len(test.cov_), dtype=bool), test.lagged_cross_)
        test.sd_ = _cond_sd(test.cov_, test.gains_, c, test.window)
        test._cache = OrderedDict()
        return test
