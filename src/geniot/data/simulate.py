"""Seeded plant simulator: a fleet of centrifugal pumps driven by induction motors.

The fixture for tests and the feed for the demo. ``simulate_plant(PlantConfig(...))`` returns a
:class:`SimulatedPlant` with readings in the long layout ``(ts, asset, signal, value, quality)``,
per-row labels, and wide views.

Physics (per asset, all vectorized over assets; only first-order recursions loop over time):

* **Operating regimes.** A Markov schedule of load regimes (``low`` / ``nominal`` / ``high`` =
  65 / 80 / 95 % of rated speed) with exponential dwell times (mean ``regime_hours``), times a
  small daily demand cycle (2-5 %, peak around midday), so the high regime peaks near rated.
  The VFD follows the setpoint with a first-order ramp (time constant 2 min).
* **Affinity laws.** flow ∝ speed, discharge pressure ∝ speed², hydraulic power ∝ flow·pressure
  ∝ speed³. Motor current = no-load (magnetizing) current + a part proportional to the load.
  Flow and pressure have slow anti-correlated process noise (a throttling valve trades head for
  flow). Rated current follows from rated flow, pressure and efficiency at 400 V.
* **Thermal lag.** Motor and bearing temperatures relax toward a target with a first-order lag
  (``T[k] = a·T[k-1] + (1-a)·target[k]``, ``a = exp(-dt/tau)``, tau 10-40 min). Motor target:
  ambient + rise·(core share + copper share·(I/I_rated)²); bearing target: ambient + rise that
  grows with speed, plus wear heat. Ambient has a daily cycle (peak ~15:00) plus slow noise.
* **Noise.** Smooth AR(1) process noise with physical time constants (so it does not depend on the
  sampling interval) plus small white measurement noise.
* **Degradation.** On a ``degrading_fraction`` of the assets a health index decays from 1 to 0
  along an exponential wear curve that starts at a random onset; wear raises vibration, bearing
  temperature and (slightly) current. **Failure behaviour: the pump is replaced.** When health
  reaches 0 (the failure row, ``rul_h == 0``) the pump is swapped for an identical new one at the
  next sample: health returns to 1 and data keep flowing. **RUL label:** ``rul_h`` is the hours
  to that failure; it is NaN where no failure lies ahead within the horizon (assets that do not
  degrade, and replaced pumps), unless ``rul_cap_h`` is set, in which case ``rul_h`` is clipped
  to the cap and the NaNs become the cap. Degradation is not an injected fault: it shows in
  ``health``/``rul_h``, not in ``anomaly``/``fault``.
* **Faults** (see :mod:`geniot.data.sim_faults`): ``fault_rate`` is the **expected number of
  fault episodes per asset per 7 days** (Poisson). Process faults go through the physics; sensor
  faults corrupt one signal afterwards. Separate random streams are used for the physics,
  degradation, faults and dropouts, so the same seed with ``fault_rate=0`` gives the clean
  counterfactual of a faulty run (identical readings outside the process-fault episodes).
* **Dropped readings.** Single readings vanish with probability ``drop_rate``; outages (all
  signals missing for 5-60 minutes) arrive at ``outage_rate`` per asset per day. Missing
  readings are absent from the long table and NaN in the wide views; labels are unaffected.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError
from geniot.data.sim_attacks import ATTACK_TYPES, AttackedTraffic
from geniot.data.sim_faults import (
    FAULT_TYPES,
    SENSOR_FAULTS,
    FaultEpisode,
    apply_dropouts,
    apply_sensor_faults,
    process_effects,
    schedule_faults,
)

__all__ = [
    "FAULT_TYPES",
    "REGIMES",
    "SIGNALS",
    "UNITS",
    "PlantConfig",
    "SimulatedPlant",
    "simulate_attacked",
    "simulate_plant",
]

SIGNALS: tuple[str, ...] = (
    "speed_rpm",
    "motor_current_a",
    "flow_m3h",
    "pressure_bar",
    "vibration_rms_mms",
    "bearing_temp_c",
    "motor_temp_c",
    "ambient_temp_c",
)
UNITS: dict[str, str] = {
    "speed_rpm": "rpm",
    "motor_current_a": "A",
    "flow_m3h": "m3/h",
    "pressure_bar": "bar",
    "vibration_rms_mms": "mm/s",
    "bearing_temp_c": "degC",
    "motor_temp_c": "degC",
    "ambient_temp_c": "degC",
}
REGIMES: tuple[str, ...] = ("low", "nominal", "high")
_REGIME_SPEED = np.array([0.65, 0.80, 0.95])  # fraction of rated speed

# AR(1) process noise: (time constant in s, stationary standard deviation).
# speed/flow/pressure/current/vibration are relative, ambient is in degC.
_AR_TAU_SD = np.array(
    [
        (300.0, 0.003),  # speed wobble
        (900.0, 0.015),  # flow (system resistance, valve)
        (900.0, 0.010),  # pressure (independent part)
        (600.0, 0.008),  # current
        (600.0, 0.060),  # vibration
        (7200.0, 0.8),  # ambient
    ]
)
_SPEED_RAMP_TAU_S = 120.0


@dataclass
class PlantConfig:
    """Settings of a simulated fleet. Rates are expectations of Poisson counts.

    ``fault_rate``: fault episodes per asset per **7 days**. ``outage_rate``: outages per asset
    per day. ``drop_rate``: fraction of single readings dropped. ``degrading_fraction``: share of
    assets (rounded to the nearest count) that wear out and fail within the horizon.
    ``regime_hours``: mean dwell time of a load regime. ``outage_minutes``: outage length range.
    ``rul_cap_h``: if set, ``rul_h`` is clipped to it and "no failure ahead" reads as the cap
    instead of NaN. Validated on construction; a bad field raises :class:`DataError` naming it.
    """

    n_assets: int = 3
    days: float = 2.0
    interval_s: int = 60
    seed: int = 0
    start: str = "2026-01-01T00:00:00"
    fault_rate: float = 1.0
    degrading_fraction: float = 0.34
    drop_rate: float = 0.005
    outage_rate: float = 0.2
    faults: tuple[str, ...] = FAULT_TYPES
    regime_hours: float = 6.0
    outage_minutes: tuple[float, float] = (5.0, 60.0)
    rul_cap_h: float | None = None
    asset_prefix: str = "P-"

    def __post_init__(self) -> None:
        if isinstance(self.faults, str):
            self.faults = (self.faults,)
        for name in ("faults", "outage_minutes"):
            try:
                setattr(self, name, tuple(getattr(self, name)))
            except TypeError:
                raise DataError(
                    f"PlantConfig.{name} must be a sequence, got {getattr(self, name)!r}",
                    column=name,
                ) from None
        self.validate()

    def validate(self) -> None:
        """Raise :class:`DataError` naming the first bad field."""

        def is_int(v: object) -> bool:
            return isinstance(v, int | np.integer) and not isinstance(v, bool)

        def is_num(v: object) -> bool:
            return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)

        def bad(name: str, why: str) -> DataError:
            return DataError(f"PlantConfig.{name} {why}, got {getattr(self, name)!r}", column=name)

        if not is_int(self.n_assets) or self.n_assets < 1:
            raise bad("n_assets", "must be an integer >= 1")
        if not is_num(self.days) or not math.isfinite(self.days) or self.days <= 0:
            raise bad("days", "must be a finite number > 0")
        if not is_int(self.interval_s) or self.interval_s < 1:
            raise bad("interval_s", "must be an integer >= 1 (seconds)")
        if self.days * 86400.0 / self.interval_s < 2:
            raise bad("days", f"must span at least two intervals of {self.interval_s} s")
        if not is_int(self.seed) or self.seed < 0:
            raise bad("seed", "must be a non-negative integer")
        try:
            pd.Timestamp(self.start)
        except (ValueError, TypeError) as exc:
            raise bad("start", f"is not a timestamp ({exc})") from None
        for name in ("fault_rate", "outage_rate"):
            v = getattr(self, name)
            if not is_num(v) or not math.isfinite(v) or v < 0:
                raise bad(name, "must be a finite number >= 0")
        for name in ("degrading_fraction", "drop_rate"):
            v = getattr(self, name)
            if not is_num(v) or not 0 <= v <= 1:
                raise bad(name, "must be a number in [0, 1]")
        if self.drop_rate >= 1:
            raise bad("drop_rate", "must be < 1")
        unknown = [f for f in self.faults if f not in FAULT_TYPES]
        if unknown:
            raise bad("faults", f"holds unknown fault type(s) {unknown}; known: {FAULT_TYPES}")
        if not is_num(self.regime_hours) or not self.regime_hours > 0:
            raise bad("regime_hours", "must be a number > 0")
        om = self.outage_minutes
        if len(om) != 2 or not all(is_num(v) for v in om) or not 0 < om[0] <= om[1]:
            raise bad("outage_minutes", "must be (low, high) minutes with 0 < low <= high")
        if self.rul_cap_h is not None and (not is_num(self.rul_cap_h) or self.rul_cap_h <= 0):
            raise bad("rul_cap_h", "must be None or a number > 0")
        if not isinstance(self.asset_prefix, str):
            raise bad("asset_prefix", "must be a string")

    @property
    def n_steps(self) -> int:
        """Number of samples per asset on the time grid."""
        return math.floor(self.days * 86400.0 / self.interval_s + 1e-9)


def _empty_events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "asset": pd.Series(dtype=object),
            "fault": pd.Series(dtype=object),
            "fault_signal": pd.Series(dtype=object),
            "start": pd.Series(dtype="datetime64[ns]"),
            "end": pd.Series(dtype="datetime64[ns]"),
            "n_rows": pd.Series(dtype=np.int64),
        }
    )


@dataclass
class SimulatedPlant:
    """What :func:`simulate_plant` returns.

    ``readings``: long table ``ts, asset, signal, value, quality`` sorted by asset, ts and signal
    (in :data:`SIGNALS` order); dropped readings are absent. ``labels``: one row per (asset, ts)
    on the grid: ``ts, asset, anomaly, fault, fault_signal, rul_h, regime, speed_setpoint_rpm,
    health``. ``events``: one row per injected fault episode (``start``/``end`` inclusive;
    ``n_rows`` labelled rows). ``asset_info``: per-asset rated values and degradation timing.
    """

    readings: pd.DataFrame
    labels: pd.DataFrame
    config: PlantConfig
    events: pd.DataFrame = field(default_factory=_empty_events)
    asset_info: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def units(self) -> dict[str, str]:
        """Unit of every signal."""
        return dict(UNITS)

    def assets(self) -> list[str]:
        """Asset names in order (``P-1``, ``P-2``, ...)."""
        return [str(a) for a in pd.unique(self.labels["asset"])]

    def _check_asset(self, asset: str) -> None:
        if asset not in self.assets():
            raise DataError(f"unknown asset {asset!r}; known: {self.assets()}", column="asset")

    def wide(self, asset: str) -> pd.DataFrame:
        """One asset as ``timestamp, *SIGNALS``: every grid timestamp, NaN where dropped."""
        self._check_asset(asset)
        grid = pd.DatetimeIndex(self.labels.loc[self.labels["asset"] == asset, "ts"])
        sub = self.readings[self.readings["asset"] == asset]
        piv = sub.pivot(index="ts", columns="signal", values="value")
        piv = piv.reindex(index=grid, columns=list(SIGNALS))
        out = {"timestamp": grid.to_numpy()}
        out.update({s: piv[s].to_numpy(dtype=np.float64) for s in SIGNALS})
        return pd.DataFrame(out)

    def wide_all(self) -> pd.DataFrame:
        """Every asset as ``timestamp, asset, *SIGNALS`` (asset-major, then time)."""
        piv = self.readings.pivot(index=["asset", "ts"], columns="signal", values="value")
        grid = pd.MultiIndex.from_arrays([self.labels["asset"], self.labels["ts"]])
        piv = piv.reindex(index=grid, columns=list(SIGNALS))
        out = {
            "timestamp": self.labels["ts"].to_numpy(),
            "asset": self.labels["asset"].to_numpy(),
        }
        out.update({s: piv[s].to_numpy(dtype=np.float64) for s in SIGNALS})
        return pd.DataFrame(out)

    def _frame(self, layout: str | None) -> pd.DataFrame:
        if layout is None:
            layout = "long" if len(self.assets()) > 1 else "wide"
        if layout == "long":
            return self.readings
        if layout == "wide":
            return self.wide_all()
        raise DataError(f"layout must be 'long' or 'wide', got {layout!r}")

    def write(self, path: str | Path, layout: str | None = None) -> Path:
        """Write the readings to ``.csv`` or ``.parquet`` (chosen by extension).

        ``layout="long"``: the long table; ``"wide"``: :meth:`wide_all` (with an ``asset``
        column). Default: long for a fleet of several assets, wide for a single asset.
        Labels are not written; use ``plant.labels`` for them.
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return self.to_csv(path, layout)
        if suffix in (".parquet", ".pq"):
            return self.to_parquet(path, layout)
        raise DataError(f"unsupported extension {suffix!r}; use .csv or .parquet", file=str(path))

    def to_csv(self, path: str | Path, layout: str | None = None) -> Path:
        """Write the readings as CSV (layout as in :meth:`write`)."""
        path = Path(path)
        self._frame(layout).to_csv(path, index=False)
        return path

    def to_parquet(self, path: str | Path, layout: str | None = None) -> Path:
        """Write the readings as Parquet (layout as in :meth:`write`)."""
        path = Path(path)
        self._frame(layout).to_parquet(path, index=False)
        return path


# --------------------------------------------------------------------------------------------
# helpers


def _recurse(a: np.ndarray, x: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """Column-wise first-order recursion ``y[k] = a*y[k-1] + x[k]`` with ``y[-1] = y0``.

    ``x`` is ``(n_steps, m)``; ``a`` and ``y0`` are ``(m,)``. One loop over time, vectorized over
    all columns (every asset and every filter at once), written into preallocated rows.
    """
    y = np.empty_like(x)
    y[0] = a * y0 + x[0]
    for k in range(1, x.shape[0]):
        np.multiply(y[k - 1], a, out=y[k])
        y[k] += x[k]
    return y


def _take_str(choices: list[str] | tuple[str, ...], codes: np.ndarray):
    """Strings ``choices[codes]`` as pandas' default string array (fast, no per-item objects)."""
    return pd.Index(list(choices)).take(np.asarray(codes).reshape(-1)).array


def _draw_params(rng: np.random.Generator) -> dict[str, float]:
    """Nameplate and installation of one pump set (4-pole motor on a VFD, 400 V)."""
    p = {
        "speed_r": rng.uniform(1440.0, 1490.0),
        "flow_r": rng.uniform(60.0, 250.0),
        "pressure_r": rng.uniform(3.0, 9.0),
        "eff_pump": rng.uniform(0.60, 0.82),
        "noload_frac": rng.uniform(0.25, 0.35),
        "vib0": rng.uniform(1.0, 2.2),
        "amb0": rng.uniform(12.0, 28.0),
        "amb_amp": rng.uniform(2.0, 6.0),
        "rise_motor": rng.uniform(40.0, 60.0),
        "rise_bearing": rng.uniform(15.0, 25.0),
        "tau_motor_s": rng.uniform(20.0, 40.0) * 60.0,
        "tau_bearing_s": rng.uniform(10.0, 20.0) * 60.0,
        "daily_amp": rng.uniform(0.02, 0.05),
        "daily_peak_h": rng.uniform(10.0, 16.0),
    }
    # Rated current from the hydraulic duty: P_shaft = Q*p/eta, I = P/(sqrt3 * U * pf * eta_m).
    shaft_w = (p["flow_r"] / 3600.0) * (p["pressure_r"] * 1e5) / p["eff_pump"]
    p["current_r"] = shaft_w / (math.sqrt(3.0) * 400.0 * 0.85 * 0.93)
    return p


def _regime_schedule(rng: np.random.Generator, n: int, dt_s: float, mean_h: float) -> np.ndarray:
    """Markov chain over :data:`REGIMES` with exponential dwell times (min a quarter mean)."""
    idx = np.empty(n, dtype=np.int64)
    cur = int(rng.integers(len(REGIMES)))
    k = 0
    while k < n:
        dwell_h = max(0.25 * mean_h, rng.exponential(mean_h))
        length = max(1, round(dwell_h * 3600.0 / dt_s))
        idx[k : k + length] = cur
        k += length
        cur = (cur + int(rng.integers(1, len(REGIMES)))) % len(REGIMES)
    return idx


def _health_curve(
    rng: np.random.Generator, n: int, degrading: bool
) -> tuple[np.ndarray, int | None, int | None, float, float]:
    """Health index, failure row, wear onset row and wear gains (vibration, bearing heat).

    Wear is exponential: ``h = 1 - (exp(c·x) - 1) / (exp(c) - 1)`` with ``x`` the fraction of the
    wear period elapsed, so health is 1 at onset, falls slowly at first and fast near the end,
    and hits exactly 0 at the failure row. After failure the pump is replaced (health 1).
    The draws happen for every asset so that the streams do not depend on who degrades.
    """
    fail_frac = rng.uniform(0.55, 0.95)
    wear_frac = rng.uniform(0.35, 0.80)
    shape = rng.uniform(2.5, 4.0)
    vib_gain = rng.uniform(4.0, 7.0)
    heat_gain = rng.uniform(15.0, 25.0)
    health = np.ones(n)
    if not degrading:
        return health, None, None, vib_gain, heat_gain
    fail = min(n - 1, max(1, round(fail_frac * (n - 1))))
    onset = fail - max(1, round(wear_frac * fail))
    x = (np.arange(onset, fail + 1) - onset) / (fail - onset)
    health[onset : fail + 1] = 1.0 - np.expm1(shape * x) / np.expm1(shape)
    health[fail] = 0.0
    return health, fail, onset, vib_gain, heat_gain


def _resolve_config(config: PlantConfig | None, overrides: dict) -> PlantConfig:
    names = {f.name for f in dataclasses.fields(PlantConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise DataError(
            f"unknown PlantConfig field(s) {unknown}; known: {sorted(names)}", column=unknown[0]
        )
    if config is None:
        return PlantConfig(**overrides)
    if not isinstance(config, PlantConfig):
        raise DataError(f"config must be a PlantConfig or None, got {type(config).__name__}")
    return dataclasses.replace(config, **overrides) if overrides else config


# --------------------------------------------------------------------------------------------
# the simulator


def simulate_plant(config: PlantConfig | None = None, **overrides) -> SimulatedPlant:
    """Simulate a seeded pump fleet. ``overrides`` replace fields of ``config`` (or defaults).

    Deterministic for a given config (including ``seed``). Asset ``i`` draws from its own random
    streams, so adding assets does not change the physics of the existing ones.
    """
    cfg = _resolve_config(config, overrides)
    n, dt, n_a = cfg.n_steps, float(cfg.interval_s), cfg.n_assets
    start = pd.Timestamp(cfg.start)
    if start.tzinfo is not None:
        start = start.tz_convert("UTC").tz_localize(None)
    ts = (start + pd.to_timedelta(np.arange(n) * cfg.interval_s, unit="s")).to_numpy(
        dtype="datetime64[ns]"
    )
    names = [f"{cfg.asset_prefix}{i + 1}" for i in range(n_a)]
    n_sig = len(SIGNALS)

    plant_ss, *asset_ss = np.random.SeedSequence(cfg.seed).spawn(n_a + 1)
    n_deg = math.floor(cfg.degrading_fraction * n_a + 0.5)
    degrading = np.zeros(n_a, dtype=bool)
    degrading[np.random.default_rng(plant_ss).permutation(n_a)[:n_deg]] = True
    # Per asset: physics, degradation, faults, dropouts.
    streams = [[np.random.default_rng(s) for s in ss.spawn(4)] for ss in asset_ss]

    # Hour of day of every sample (for daily cycles).
    t_day_s = (start - start.normalize()).total_seconds() + np.arange(n) * dt
    hour = (t_day_s / 3600.0) % 24.0

    # ---- per-asset draws (each from its own stream) ----
    params = [_draw_params(streams[i][0]) for i in range(n_a)]
    P = {k: np.array([p[k] for p in params]) for k in params[0]}
    reg_idx = np.stack(
        [_regime_schedule(streams[i][0], n, dt, cfg.regime_hours) for i in range(n_a)], axis=1
    )
    n_ar = len(_AR_TAU_SD)
    shocks = np.stack([streams[i][0].standard_normal((n + 1, n_ar)) for i in range(n_a)], axis=1)
    meas = np.stack([streams[i][0].standard_normal((n, n_sig)) for i in range(n_a)], axis=1)

    health = np.empty((n, n_a))
    rul_h = np.full((n, n_a), np.nan)
    fail_row: list[int | None] = []
    onset_row: list[int | None] = []
    gains = np.empty((2, n_a))
    for i in range(n_a):
        h, fail, onset, gv, gt = _health_curve(streams[i][1], n, bool(degrading[i]))
        health[:, i] = h
        gains[:, i] = gv, gt
        fail_row.append(fail)
        onset_row.append(onset)
        if fail is not None:
            rul_h[: fail + 1, i] = (fail - np.arange(fail + 1)) * dt / 3600.0

    episodes: list[list[FaultEpisode]] = []
    effects = []
    for i in range(n_a):
        eps = schedule_faults(
            streams[i][2],
            n_steps=n,
            dt_s=dt,
            faults=cfg.faults,
            fault_rate=cfg.fault_rate,
            signals=SIGNALS,
        )
        episodes.append(eps)
        effects.append(process_effects(eps, streams[i][2], n_steps=n, dt_s=dt))
    eff = {
        k: np.stack([getattr(e, k) for e in effects], axis=1)
        for k in (
            "flow_factor",
            "pressure_factor",
            "current_factor",
            "vibration_add",
            "bearing_temp_add",
        )
    }

    # ---- setpoint schedule ----
    daily = 1.0 + P["daily_amp"] * np.sin(
        2.0 * np.pi * (hour[:, None] - P["daily_peak_h"] + 6.0) / 24.0
    )
    setpoint = _REGIME_SPEED[reg_idx] * P["speed_r"] * daily  # (n, n_a)

    # ---- pass 1: AR(1) noises and the VFD speed ramp, all assets at once ----
    phi = np.exp(-dt / _AR_TAU_SD[:, 0])  # (n_ar,)
    sd = _AR_TAU_SD[:, 1]
    x1 = np.empty((n, n_a, n_ar + 1))
    x1[..., :n_ar] = shocks[1:] * (np.sqrt(1.0 - phi**2) * sd)
    a_ramp = math.exp(-dt / _SPEED_RAMP_TAU_S)
    x1[..., n_ar] = (1.0 - a_ramp) * setpoint
    a1 = np.broadcast_to(np.append(phi, a_ramp), (n_a, n_ar + 1)).reshape(-1)
    y0 = np.empty((n_a, n_ar + 1))
    y0[:, :n_ar] = shocks[0] * sd  # stationary start
    y0[:, n_ar] = setpoint[0]  # steady start
    y1 = _recurse(a1, x1.reshape(n, -1), y0.reshape(-1)).reshape(n, n_a, n_ar + 1)
    ar_speed, ar_flow, ar_pres, ar_cur, ar_vib, ar_amb = (y1[..., j] for j in range(n_ar))
    speed_cmd = y1[..., n_ar]

    # ---- hydraulics and electrics (affinity laws) ----
    speed = speed_cmd * (1.0 + ar_speed)
    r = speed / P["speed_r"]
    flow = P["flow_r"] * r * (1.0 + ar_flow) * eff["flow_factor"]
    pressure = P["pressure_r"] * r**2 * (1.0 + ar_pres - 0.5 * ar_flow) * eff["pressure_factor"]
    flow = np.maximum(flow, 0.0)
    pressure = np.maximum(pressure, 0.0)
    load = (flow / P["flow_r"]) * (pressure / P["pressure_r"])  # ∝ speed³
    wear = 1.0 - health
    i_nl = P["noload_frac"] * P["current_r"]
    current = (i_nl + (P["current_r"] - i_nl) * load) * (1.0 + 0.05 * wear)
    current = current * eff["current_factor"] * (1.0 + ar_cur)
    vibration = (
        P["vib0"] * (0.3 + 0.7 * r**2) * (1.0 + ar_vib)
        + gains[0] * wear * (0.5 + 0.5 * r**2)
        + eff["vibration_add"]
    )
    vibration = np.maximum(vibration, 0.05)
    ambient = P["amb0"] + P["amb_amp"] * np.sin(2.0 * np.pi * (hour[:, None] - 9.0) / 24.0)
    ambient = ambient + ar_amb

    # ---- pass 2: thermal lag of motor and bearing ----
    target_motor = ambient + P["rise_motor"] * (0.3 + 0.7 * (current / P["current_r"]) ** 2)
    target_bearing = (
        ambient + P["rise_bearing"] * (0.4 + 0.6 * r) + gains[1] * wear + eff["bearing_temp_add"]
    )
    a_th = np.exp(-dt / np.stack([P["tau_motor_s"], P["tau_bearing_s"]], axis=1))  # (n_a, 2)
    targets = np.stack([target_motor, target_bearing], axis=2)  # (n, n_a, 2)
    temps = _recurse(
        a_th.reshape(-1),
        ((1.0 - a_th) * targets).reshape(n, -1),
        targets[0].reshape(-1),
    ).reshape(n, n_a, 2)

    # ---- measurements: (n_a, n, n_sig) in SIGNALS order, plus white sensor noise ----
    true = np.stack(
        [speed, current, flow, pressure, vibration, temps[..., 1], temps[..., 0], ambient],
        axis=2,
    )
    noise_sd = np.stack(
        [
            np.full(n_a, 0.5),
            0.003 * P["current_r"],
            0.004 * P["flow_r"],
            0.004 * P["pressure_r"],
            np.full(n_a, 0.03),
            np.full(n_a, 0.15),
            np.full(n_a, 0.15),
            np.full(n_a, 0.1),
        ],
        axis=1,
    )  # (n_a, n_sig)
    values = np.ascontiguousarray((true + meas * noise_sd).transpose(1, 0, 2))

    # ---- labels, sensor faults, dropouts ----
    # Label codes: fault 0 = "normal", else 1 + index in FAULT_TYPES;
    # fault_signal 0 = "", else 1 + index in SIGNALS.
    fault_names = ("normal", *FAULT_TYPES)
    fault_signals = ("", *SIGNALS)
    fault = np.zeros((n_a, n), dtype=np.int64)
    fault_signal = np.zeros((n_a, n), dtype=np.int64)
    event_rows = []
    for i in range(n_a):
        apply_sensor_faults(values[i], episodes[i], streams[i][2], SIGNALS)
        for ep in episodes[i]:
            rows = ep.labelled_rows()
            fault[i, rows] = fault_names.index(ep.fault)
            if ep.fault in SENSOR_FAULTS:
                fault_signal[i, rows] = fault_signals.index(ep.signal)
            event_rows.append(
                (names[i], ep.fault, ep.signal, ts[ep.start], ts[ep.stop - 1], int(rows.size))
            )
        apply_dropouts(
            values[i],
            streams[i][3],
            drop_rate=cfg.drop_rate,
            outage_rate=cfg.outage_rate,
            dt_s=dt,
            outage_minutes=cfg.outage_minutes,
        )

    if cfg.rul_cap_h is not None:
        rul_h = np.where(np.isnan(rul_h), cfg.rul_cap_h, np.minimum(rul_h, cfg.rul_cap_h))

    a_idx, t_idx, s_idx = np.nonzero(~np.isnan(values))
    readings = pd.DataFrame(
        {
            "ts": ts[t_idx],
            "asset": _take_str(names, a_idx),
            "signal": _take_str(SIGNALS, s_idx),
            "value": values[a_idx, t_idx, s_idx],
            "quality": np.ones(a_idx.size),
        }
    )
    labels = pd.DataFrame(
        {
            "ts": np.tile(ts, n_a),
            "asset": _take_str(names, np.repeat(np.arange(n_a), n)),
            "anomaly": (fault != 0).astype(np.int64).reshape(-1),
            "fault": _take_str(fault_names, fault.reshape(-1)),
            "fault_signal": _take_str(fault_signals, fault_signal.reshape(-1)),
            "rul_h": rul_h.T.reshape(-1),
            "regime": _take_str(REGIMES, reg_idx.T),
            "speed_setpoint_rpm": setpoint.T.reshape(-1),
            "health": health.T.reshape(-1),
        }
    )
    events = _empty_events()
    if event_rows:
        events = pd.DataFrame(event_rows, columns=list(events.columns))
        events["n_rows"] = events["n_rows"].astype(np.int64)
    nat = np.datetime64("NaT", "ns")
    asset_info = pd.DataFrame(
        {
            "asset": _take_str(names, np.arange(n_a)),
            "rated_speed_rpm": P["speed_r"],
            "rated_flow_m3h": P["flow_r"],
            "rated_pressure_bar": P["pressure_r"],
            "rated_current_a": P["current_r"],
            "pump_efficiency": P["eff_pump"],
            "degrading": degrading,
            "wear_onset_ts": np.array([nat if o is None else ts[o] for o in onset_row]),
            "failure_ts": np.array([nat if f is None else ts[f] for f in fail_row]),
        }
    )
    return SimulatedPlant(
        readings=readings, labels=labels, config=cfg, events=events, asset_info=asset_info
    )


def simulate_attacked(
    config: PlantConfig | None = None,
    attacks: tuple[str, ...] | str = ATTACK_TYPES,
    *,
    history_days: float = 0.0,
    per_type: int = 1,
    site: str = "plant",
    area: str = "pumps",
    **overrides,
) -> tuple[SimulatedPlant, AttackedTraffic, AttackedTraffic | None]:
    """A plant with attacks on its data channel (:mod:`geniot.data.sim_attacks`).

    The plant runs ``history_days + config.days``; the last ``config.days`` form the attacked
    message log, the history (if any) a clean message log of the same pumps without fault episodes
    (the same seed with ``fault_rate=0``), the normal data a security detector is fitted on. Returns ``(plant,
    attacked, history)``; ``attacked.labels`` lists attack and fault episodes of the attacked part.
    """
    from geniot.data.sim_attacks import attack_plant, fault_labels

    cfg = _resolve_config(config, overrides)
    if not history_days >= 0:
        raise DataError(f"history_days must be >= 0, got {history_days!r}", column="history_days")
    first_row = math.floor(history_days * 86400.0 / cfg.interval_s + 1e-9)
    plant = simulate_plant(dataclasses.replace(cfg, days=cfg.days + history_days))
    ts = plant.labels.loc[plant.labels["asset"] == plant.assets()[0], "ts"].to_numpy()
    values, fault_rows = {}, {}
    for asset in plant.assets():
        values[asset] = plant.wide(asset)[list(SIGNALS)].to_numpy(dtype=np.float64, copy=True)
        fault_rows[asset] = plant.labels.loc[plant.labels["asset"] == asset, "anomaly"].to_numpy() != 0
    for ev in plant.events.itertuples():  # a whole episode counts as fault rows (spikes label only their rows)
        rows = (ts >= np.datetime64(ev.start)) & (ts <= np.datetime64(ev.end))
        fault_rows[str(ev.asset)] |= rows
    quiet = None
    if first_row > 0:
        # The same pumps without fault episodes (separate random streams: identical physics
        # outside the episodes) make the history: neither faults nor holes where they were. It is
        # also the recorded past that a replay copies from.
        quiet = simulate_plant(dataclasses.replace(cfg, days=cfg.days + history_days, fault_rate=0.0))
        for a in quiet.assets():
            values[a][:first_row] = quiet.wide(a)[list(SIGNALS)].to_numpy(dtype=np.float64)[:first_row]
    attacked = attack_plant(ts, values, SIGNALS, attacks=attacks, seed=cfg.seed, dt_s=float(cfg.interval_s),
                            first_row=first_row, fault_rows=fault_rows, per_type=per_type, site=site, area=area)
    in_test = plant.events[plant.events["end"] >= ts[first_row]] if len(ts) > first_row else plant.events.iloc[:0]
    attacked.labels = pd.concat([attacked.labels, fault_labels(in_test)], ignore_index=True).sort_values(["asset", "start"], ignore_index=True)
    history = None
    if quiet is not None:
        clean = {a: v[:first_row] for a, v in values.items()}
        history = attack_plant(ts[:first_row], clean, SIGNALS, attacks=(), seed=cfg.seed, dt_s=float(cfg.interval_s), site=site, area=area)
    return plant, attacked, history
