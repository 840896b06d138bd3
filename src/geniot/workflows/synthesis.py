"""`geniot synthesize`: a long, timestamped synthetic series in the training file's own layout.

Shared by the CLI and (later) the service. The model's training record (``training_``, written
by :func:`geniot.workflows.training.train_and_save`) gives the channels, the window, the
sampling interval, the time span and the source layout; the continuation itself lives in
:mod:`geniot.tasks.long_synthesis`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.core.names import check_name
from geniot.core.record import channel_names
from geniot.core.validation import check_random_state
from geniot.data.io import read_data, read_table, write_frame
from geniot.data.series import SensorSeries
from geniot.tasks.long_synthesis import (
    CALENDAR_CONDITIONS,
    FaultProfile,
    calendar_conditions,
    continue_series,
)
from geniot.workflows.fault_labels import fault_keys, learn_from_labels
from geniot.workflows.regimes import RegimeGuided, RegimeSet, text_column_models

_UNITS_S = {"s": 1, "sec": 1, "min": 60, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str, *, what: str = "--duration") -> float:
    """Seconds in '30d', '6h', '90min', '2w', '45s' (a bare number is seconds)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*", str(text).lower())
    if not m or (m.group(2) and m.group(2) not in _UNITS_S):
        raise DataError(f"{what} {text!r} is not a duration; write e.g. 30d, 12h, 90min, 2w")
    seconds = float(m.group(1)) * _UNITS_S.get(m.group(2) or "s", 1)
    if seconds <= 0:
        raise DataError(f"{what} {text!r} must be longer than zero")
    return seconds


def parse_time(text: str, *, what: str) -> pd.Timestamp:
    try:
        ts = pd.Timestamp(text)
    except (ValueError, TypeError) as exc:
        raise DataError(f"{what} {text!r} is not a date and time; write e.g. 2026-02-03T10:00") from exc
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC").tz_localize(None)
    return ts


def parse_sets(items: list[str], channels: list[str]) -> dict[str, float]:
    """``signal=value`` pairs held fixed over the whole series."""
    out = {}
    for item in items:
        name, sep, value = str(item).partition("=")
        name = name.strip()
        if not sep or name not in channels:
            raise DataError(f"--set {item!r}: write SIGNAL=VALUE with SIGNAL one of {channels}")
        try:
            out[name] = float(value)
        except ValueError:
            raise DataError(f"--set {item!r}: {value!r} is not a number") from None
    return out


@dataclass(frozen=True)
class FaultRequest:
    """One fault on demand: ``TYPE[:SIGNAL]@TIME/DURATION`` on one asset (default all)."""

    fault: str
    start: pd.Timestamp
    duration_s: float
    signal: str | None = None

    @classmethod
    def parse(cls, text: str) -> FaultRequest:
        m = re.fullmatch(r"\s*([A-Za-z0-9_]+)(?::([^@]+))?@([^/]+)/(.+?)\s*", str(text))
        if not m:
            raise DataError(f"--fault {text!r}: write TYPE@TIME/DURATION, e.g. bearing_wear@2026-02-03T10:00/6h")
        return cls(
            fault=m.group(1),
            signal=m.group(2),
            start=parse_time(m.group(3), what=f"--fault {text!r}: the time"),
            duration_s=parse_duration(m.group(4), what=f"--fault {text!r}: the duration"),
        )


@dataclass
class SynthesisResult:
    """The synthetic series, per asset, on one clock, with where the stretches join."""

    timestamps: np.ndarray  # (n_steps,) datetime64[ns]
    values: dict[str, np.ndarray]  # asset -> (n_steps, n_channels)
    channels: list[str]
    interval_s: float
    seams: np.ndarray  # steps where a new stretch starts
    labels: pd.DataFrame  # ts, asset, anomaly, fault, fault_signal
    notes: list[str] = field(default_factory=list)

    def frame(self, layout: dict) -> pd.DataFrame:
        """The series in the training file's layout (wide: its time column and channel order;
        long: ts/asset/signal/value/quality with its column names)."""
        kind = layout.get("layout", "wide")
        if kind == "long" or len(self.values) > 1:
            return self._long(layout)
        return self._wide(layout)

    def _wide(self, layout: dict) -> pd.DataFrame:
        time_col = layout.get("time_column") or "timestamp"
        (values,) = self.values.values()
        frame = pd.DataFrame(values, columns=self.channels)
        frame.insert(0, time_col, self.timestamps)
        columns = layout.get("columns") or []
        ordered = [c for c in columns if c in frame.columns]
        return frame[ordered + [c for c in frame.columns if c not in ordered]]

    def _long(self, layout: dict) -> pd.DataFrame:
        names = {c.lower(): c for c in layout.get("columns") or []}
        pick = lambda canon, *alts: next((names[a] for a in (canon, *alts) if a in names), canon)  # noqa: E731
        parts = []
        n, c = len(self.timestamps), len(self.channels)
        for asset, values in self.values.items():
            parts.append(
                pd.DataFrame(
                    {
                        pick("ts", "timestamp", "time", "datetime", "date"): np.repeat(self.timestamps, c),
                        pick("asset"): asset,
                        pick("signal", "sensor", "tag"): np.tile(self.channels, n),
                        pick("value"): values.reshape(-1),
                        pick("quality"): 1.0,
                    }
                )
            )
        return pd.concat(parts, ignore_index=True)


def model_interval(model: BaseGenerator, override_s: float | None = None) -> float:
    if override_s is not None:
        return float(override_s)
    interval = model.training_.timing.get("interval_s")
    if not interval:
        raise DataError(
            "the model's training record has no sampling interval (trained on data without "
            "timestamps, or before geniot recorded it); pass --interval, e.g. --interval 1h"
        )
    return float(interval)


def default_start(model: BaseGenerator, interval_s: float) -> pd.Timestamp:
    """One interval after the training data end (the synthetic data continue its calendar)."""
    ends = model.training_.timing.get("end") or {}
    if not ends:
        return pd.Timestamp("2026-01-01")
    return pd.Timestamp(max(ends.values())) + pd.Timedelta(seconds=interval_s)


def asset_names(spec: str | None, model: BaseGenerator) -> list[str]:
    """``--assets 5`` (S-1..S-5) or ``--assets P-1,P-7``; default the one training asset's name."""
    if spec is None:
        trained = list(model.training_.assets)
        return [str(trained[0]) if len(trained) == 1 and trained[0] else "synthetic"]
    spec = str(spec).strip()
    if spec.isdigit():
        n = int(spec)
        if not 1 <= n <= 1000:
            raise DataError(f"--assets {spec}: between 1 and 1000 assets")
        return [f"S-{i + 1}" for i in range(n)]
    names = [check_name(a.strip(), "asset") for a in spec.split(",") if a.strip()]
    if len(set(names)) != len(names):
        raise DataError(f"--assets {spec!r} names an asset twice")
    return names


def synthesize(
    model: BaseGenerator,
    *,
    duration_s: float,
    start: pd.Timestamp | None = None,
    interval_s: float | None = None,
    assets: list[str] | None = None,
    sets: dict[str, float] | None = None,
    faults: list[FaultRequest] | None = None,
    profiles: dict[str, FaultProfile] | None = None,
    context: int | None = None,
    seed: int | None = 0,
    regime: str | None = None,
    regimes: RegimeSet | None = None,
) -> SynthesisResult:
    """A continuous synthetic series of ``duration_s`` seconds for each asset; with ``regime``
    (one of ``regimes``' names) held in that operating regime by guidance (see
    :mod:`geniot.workflows.regimes`)."""
    channels = channel_names(model)
    interval = model_interval(model, interval_s)
    n_steps = int(np.floor(duration_s / interval + 1e-9))
    if n_steps < 1:
        raise DataError(f"a duration of {duration_s:g} s is shorter than one interval ({interval:g} s)")
    start = default_start(model, interval) if start is None else start
    timestamps = (start + pd.to_timedelta(np.arange(n_steps) * interval, unit="s")).to_numpy(dtype="datetime64[ns]")
    assets = assets or ["synthetic"]
    fixed = None
    if sets:
        fixed = np.full((n_steps, len(channels)), np.nan)
        for name, value in sets.items():
            fixed[:, channels.index(name)] = value
    rng = check_random_state(seed)
    conditions = model_conditions(model, timestamps)
    drawer = model
    if regime is not None:
        if regimes is None:
            raise DataError(f"--regime {regime!r}: no regimes were learned for this model")
        drawer = RegimeGuided(model, regimes, regime)
    values, seams = continue_series(
        drawer, n_steps, n_series=len(assets), context=context, fixed=fixed, conditions=conditions, random_state=rng
    )
    out = {a: values[i] for i, a in enumerate(assets)}
    fault_col = np.full((len(assets), n_steps), "normal", dtype=object)
    signal_col = np.full((len(assets), n_steps), "", dtype=object)
    notes = wander_notes(model, values, channels, fixed, conditions)
    if regime is not None:
        shares = [regimes.share(v, regime) for v in out.values()]
        notes.append(
            f"regime {regime}: {np.mean(shares):.0%} of the synthetic steps lie nearest its centre "
            f"(lowest asset {min(shares):.0%}), each window kept as the nearest of several draws"
        )
    for req in faults or []:
        key, profile = pick_profile(req, profiles or {})
        lo = int(np.searchsorted(timestamps, req.start.to_datetime64()))
        hi = int(np.searchsorted(timestamps, (req.start + pd.Timedelta(seconds=req.duration_s)).to_datetime64()))
        if hi <= lo or lo >= n_steps:
            raise DataError(
                f"--fault {req.fault}@{req.start}: the fault lies outside the synthetic span "
                f"{pd.Timestamp(timestamps[0])} to {pd.Timestamp(timestamps[-1])}"
            )
        n_labelled = []
        for i, a in enumerate(assets):
            out[a], rows = profile.apply_rows(out[a], lo, hi, rng)
            fault_col[i, rows] = req.fault
            signal_col[i, rows] = key.partition(":")[2]
            n_labelled.append(len(rows))
        impulses = (
            f"; {min(n_labelled)}-{max(n_labelled)} impulses per asset, labelled on their own rows as in the real data"
            if profile.impulses is not None else ""
        )  # fmt: skip
        notes.append(
            f"fault {key} at rows {lo}-{hi - 1} ({pd.Timestamp(timestamps[lo])} to {pd.Timestamp(timestamps[hi - 1])}), "
            f"profile learned from {profile.n_episodes} labelled episode(s){impulses}"
        )
    labels = pd.DataFrame(
        {
            "ts": np.tile(timestamps, len(assets)),
            "asset": np.repeat(assets, n_steps),
            "anomaly": (fault_col.reshape(-1) != "normal").astype(int),
            "fault": fault_col.reshape(-1),
            "fault_signal": signal_col.reshape(-1),
        }
    )
    return SynthesisResult(timestamps, out, channels, interval, seams, labels, notes)


WANDER_WINDOWS = 256  # independent windows drawn for the reference range
WANDER_SHARE = 0.01  # a channel outside the reference range on more than this share of steps is said


def wander_notes(model: BaseGenerator, values: np.ndarray, channels: list[str], fixed, conditions) -> list[str]:
    """Warnings for channels whose long series left the range the model's own independent
    windows reach (their 0.1-99.9% range widened by half its span): a continuation that drifts
    away step by step (a near unit root in the conditional mean) looks fine window by window and
    is not data from the plant, so it is said with the channel, how far and how often."""
    rng = np.random.default_rng(0)  # its own draws: the synthetic series' seed stays the user's
    cond = None
    if conditions is not None and model.n_conditions_:
        cond = np.asarray(conditions)[rng.integers(0, len(conditions), WANDER_WINDOWS)]
    try:
        ref = np.asarray(model.sample(WANDER_WINDOWS, conditions=cond, random_state=rng), dtype=np.float64)
    except Exception as exc:  # noqa: BLE001 - the check is advice; its failure is said, not fatal
        return [f"warning: the range check could not draw reference windows ({type(exc).__name__}: {exc})"]
    flat = ref.reshape(-1, ref.shape[-1])
    lo, hi = np.nanquantile(flat, 0.001, axis=0), np.nanquantile(flat, 0.999, axis=0)
    margin = 0.5 * (hi - lo)
    said = []
    for j, name in enumerate(channels):
        if fixed is not None and not np.isnan(fixed[:, j]).all():
            continue  # held by --set
        v = values[..., j]
        outside = (v < lo[j] - margin[j]) | (v > hi[j] + margin[j])
        if outside.mean() > WANDER_SHARE:
            said.append(f"{name} on {outside.mean():.0%} of the steps ({np.nanmin(v):.4g} to {np.nanmax(v):.4g}; "
                        f"its windows {lo[j]:.4g} to {hi[j]:.4g})")  # fmt: skip
    if not said:
        return []
    return [
        "warning: the continuation drifts out of the range the model's own windows reach, so this is not data "
        f"the plant makes: {'; '.join(said)}. A shorter --context (e.g. 2) conditions each stretch on less of the drift"
    ]


def model_conditions(model: BaseGenerator, timestamps: np.ndarray) -> np.ndarray | None:
    """The per-step conditions a model was fitted with, on the synthetic clock (the calendar)."""
    names = model.training_.conditions
    if not names:
        return None
    if names != CALENDAR_CONDITIONS:
        raise DataError(f"the model was fitted with conditions {list(names)}; synthesize knows only the calendar")
    return calendar_conditions(timestamps)


def pick_profile(req: FaultRequest, profiles: dict[str, FaultProfile]) -> tuple[str, FaultProfile]:
    """The learned profile for a request: ``TYPE:SIGNAL`` exactly, else the type's most seen one."""
    if not profiles:
        raise DataError(
            f"--fault {req.fault}: no fault was learned; give labelled real data with --fault-labels "
            "(e.g. the labels `geniot simulate --labels` writes)"
        )
    if req.signal:
        key = f"{req.fault}:{req.signal}"
        if key not in profiles:
            raise DataError(f"--fault {key}: not among the learned faults {sorted(profiles)}")
        return key, profiles[key]
    keys = [k for k in profiles if k == req.fault or k.startswith(req.fault + ":")]
    if not keys:
        raise DataError(f"--fault {req.fault}: not among the learned faults {sorted(profiles)}")
    key = max(keys, key=lambda k: profiles[k].n_episodes)
    return key, profiles[key]


def profiles_from_files(data: Path, labels: Path | None, channels: list[str]) -> dict[str, FaultProfile]:
    """Learn fault profiles from a real data file and its labels (see :mod:`fault_labels`)."""
    table = read_table(data)
    missing = {a: [c for c in channels if c not in s.channels] for a, s in table.items()}
    missing = {a: m for a, m in missing.items() if m}
    if missing:
        raise DataError(f"the data lack the model's channels: {missing}", file=str(data))
    return learn_from_labels(table, fault_keys(table, labels, Path(data)), channels)


def model_profiles(model: BaseGenerator) -> dict[str, FaultProfile]:
    """The fault profiles a model learned at `geniot fit --labels` (empty when none)."""
    faults = model.training_.faults
    return {k: FaultProfile.from_dict(v) for k, v in faults.items()}


def training_table(model: BaseGenerator) -> tuple[dict[str, SensorSeries] | None, str | None]:
    """The training file the model records, read again (once per command: its layout, its text
    columns and its regimes all come from it); (None, why) when it cannot be."""
    source = model.training_.source or None
    if not source or not Path(source).is_file():
        return None, f"the training file {source!r} is not here"
    try:
        return read_data(Path(source)).table, None
    except DataError as exc:
        return None, f"could not read the training file again ({exc})"


def training_file_layout(table: dict[str, SensorSeries] | None, why: str | None = None) -> tuple[object | None, str | None]:
    """The training file's full layout (separator, decimal marks, time format, headers with
    units) from :func:`training_table`'s result; (None, why) when there is none."""
    if table is None:
        return None, f"{why}, so only its column names are kept"
    layout = getattr(next(iter(table.values())), "layout", None)
    return layout, None if layout is not None else "the data reader gives no layout; only the column names are kept"


def text_columns(table: dict[str, SensorSeries] | None, result: SynthesisResult) -> tuple[dict[str, np.ndarray], str | None]:
    """Values for the training file's text columns (a Status, a mode) the generator does not
    learn: per step the value whose real rows' centre lies nearest the synthetic numbers, and a
    sentence saying so; ({}, None) when the file (``table``, from :func:`training_table`) has none
    or is not here (the layout's message says that)."""
    if table is None:
        return {}, None
    try:
        models = text_column_models(table, result.channels)
    except DataError as exc:
        return {}, f"text columns not synthesized: {exc}"
    if not models:
        return {}, None
    (values,) = result.values.values() if len(result.values) == 1 else (None,)
    if values is None:
        return {}, (
            f"not synthesized: text column(s) {', '.join(models)} (a fleet is written in the long layout, "
            "which holds numbers only)"
        )
    out = {name: np.asarray(m.names, dtype=object)[m.classify(values)] for name, m in models.items()}
    return out, (
        f"text column(s) {', '.join(models)}: not generated by the model; each step gets the value whose real rows' "
        "centre lies nearest its synthetic readings"
    )


def geniot_frame(result: SynthesisResult, long: bool) -> pd.DataFrame:
    """The series with geniot's own names (``timestamp`` and channels, or ts/asset/signal/value)."""
    if not long:
        (frame,) = wide_frames(result).values()
        return frame
    return result.frame({"layout": "long"})


def wide_frames(result: SynthesisResult) -> dict[str, pd.DataFrame]:
    """Per asset, ``timestamp`` + one column per channel (what the MQTT publisher sends)."""
    out = {}
    for asset, values in result.values.items():
        frame = pd.DataFrame(values, columns=result.channels)
        frame.insert(0, "timestamp", result.timestamps)
        out[asset] = frame
    return out


def write_synthesis(
    result: SynthesisResult, out: Path, layout: dict, file_layout=None, texts: dict[str, np.ndarray] | None = None
) -> pd.DataFrame:
    """Write the series in the training layout (CSV or Parquet by ``out``'s extension).

    With ``file_layout`` (the data reader's layout of the training file) the output gets its
    separator, decimal marks, time format and headers through :func:`geniot.data.io.write_frame`;
    otherwise the wide or long columns recorded at fit time. A fleet from a wide file is written
    long (the wide layout holds one asset).
    """
    long = layout.get("layout") == "long" or len(result.values) > 1
    if file_layout is not None and (getattr(file_layout, "layout", None) == "long") == long:
        frame = _with_texts(geniot_frame(result, long), texts, long)
        write_frame(frame, out, layout=file_layout)
        return frame
    frame = _with_texts(result.frame(layout), texts, long)
    write_frame(frame, out)
    return frame


def _with_texts(frame: pd.DataFrame, texts: dict[str, np.ndarray] | None, long: bool) -> pd.DataFrame:
    if long or not texts:
        return frame
    frame = frame.copy()
    for name, values in texts.items():
        frame[name] = values
    return frame
