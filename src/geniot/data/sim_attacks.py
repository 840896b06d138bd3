"""Attacks on the data channel of the simulated plant, labelled (:mod:`geniot.data.simulate`).

The plant's readings travel as messages, one per asset and time step, as a gateway publishes
them over MQTT: topic ``<site>/<area>/<asset>``, payload ``{"ts": ..., "values": {...}}``. The
traffic side of every message is written beside its readings (the **message log** layout):

* ``message``: message number (the rows of one message share it),
* ``topic``, ``publisher``: MQTT topic and client id (each asset's gateway is ``gw-<asset>``),
* ``received_at``: when the broker received it (naive UTC; the ``ts`` inside is the sender's),
* ``payload_bytes``: size of the JSON payload.

Attack types (:data:`ATTACK_TYPES`), each an episode on one asset at a random, seeded time that
overlaps neither another attack nor a fault episode of that asset:

* ``fdi`` (false data injection, stealthy): one physically coupled sensor gets a bias, a ramp to a
  bias, or a frozen level with the sensor's own noise (measured robustly just before the episode, as
  an attacker would); every value stays inside that sensor's
  range in clean operation (a limit check sees nothing).
* ``replay``: an earlier stretch of the asset's messages is sent again with current time stamps.
* ``flood``: every genuine message is repeated 10-40 times within its interval.
* ``silence``: the asset's messages are suppressed for 2-6 hours.
* ``spoof``: extra messages from an unknown publisher on the asset's topic, or from its gateway on
  an unknown topic.
* ``stale``: messages carry time stamps 10-120 minutes older than their sending time.

Labels: one row per episode, ``asset, kind, type, signal, mode, start, end`` (``kind`` is
``attack`` or ``fault``; the plant's fault episodes are listed too, so a scorer can check that a
fault is not called an attack). ``start``/``end`` are the first and last affected time steps.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from geniot.core.exceptions import DataError

ATTACK_TYPES: tuple[str, ...] = ("fdi", "replay", "flood", "silence", "spoof", "stale")
#: The coupled sensors an FDI attacker forges (each is predicted by the others through the physics).
FDI_SIGNALS: tuple[str, ...] = (
    "speed_rpm", "motor_current_a", "flow_m3h", "pressure_bar", "bearing_temp_c", "motor_temp_c",
)  # fmt: skip
FDI_MODES: tuple[str, ...] = ("bias", "ramp", "freeze")
#: Episode length range in hours per attack type.
DURATION_H: dict[str, tuple[float, float]] = {
    "fdi": (1.0, 4.0),
    "replay": (0.5, 3.0),
    "flood": (0.1, 0.5),
    "silence": (2.0, 6.0),
    "spoof": (0.2, 1.0),
    "stale": (0.3, 2.0),
}
MESSAGE_COLUMNS: tuple[str, ...] = ("message", "topic", "publisher", "received_at", "payload_bytes")
LABEL_COLUMNS: tuple[str, ...] = ("asset", "kind", "type", "signal", "mode", "start", "end")
_GAP_H = 0.5  # normal operation kept between two episodes of one asset
_LEAD_H = 1.0  # no attack in the first hour of the attacked period


@dataclass(frozen=True)
class AttackEpisode:
    asset: str
    attack: str
    start: int  # first affected row (inclusive)
    stop: int  # exclusive
    signal: str = ""
    mode: str = ""


@dataclass
class AttackedTraffic:
    """``messages``: the message log (long readings plus :data:`MESSAGE_COLUMNS`), sorted by
    ``received_at``; ``labels``: one row per attack and fault episode (:data:`LABEL_COLUMNS`)."""

    messages: pd.DataFrame
    labels: pd.DataFrame
    episodes: list[AttackEpisode]


def parse_attacks(text: str | Sequence[str]) -> tuple[str, ...]:
    """``"fdi,replay"`` -> ``("fdi", "replay")``; an unknown name raises :class:`DataError`."""
    items = [t.strip() for t in (text.split(",") if isinstance(text, str) else text) if t.strip()]
    unknown = [t for t in items if t not in ATTACK_TYPES]
    if unknown or not items:
        raise DataError(f"unknown attack type(s) {unknown or [text]}; known: {', '.join(ATTACK_TYPES)}", column="attacks")
    return tuple(dict.fromkeys(items))


def _iso(ts: pd.Timestamp) -> str:
    return ts.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _payload_bytes(ts: np.ndarray, values: np.ndarray, signals: Sequence[str]) -> np.ndarray:
    """Size of each row's JSON payload as a gateway sends it (NaN readings left out)."""
    out = np.zeros(len(ts), dtype=np.int64)
    for i, (t, row) in enumerate(zip(ts, values, strict=True)):
        vals = {s: float(v) for s, v in zip(signals, row, strict=True) if math.isfinite(v)}
        out[i] = len(json.dumps({"ts": _iso(pd.Timestamp(t)), "values": vals}))
    return out


def _place(rng, n: int, lo: int, length: int, occupied: np.ndarray, gap: int) -> int:
    """A free start row in [lo, n - length] keeping ``gap`` rows from occupied ones, or -1."""
    if n - length < lo:
        return -1
    for _ in range(60):
        cand = int(rng.integers(lo, n - length + 1))
        if not occupied[max(0, cand - gap) : cand + length + gap].any():
            return cand
    return -1


def schedule_attacks(
    rng: np.random.Generator,
    *,
    asset: str,
    attacks: Sequence[str],
    n_steps: int,
    dt_s: float,
    first_row: int,
    occupied: np.ndarray,
    per_type: int = 1,
) -> list[AttackEpisode]:
    """``per_type`` episodes of each attack type for one asset in rows ``[first_row, n_steps)``;
    ``occupied`` (fault rows) is updated. An episode that finds no free slot is skipped."""
    gap = max(1, round(_GAP_H * 3600.0 / dt_s))
    lo = first_row + round(_LEAD_H * 3600.0 / dt_s)
    out = []
    order = [a for a in attacks for _ in range(per_type)]
    for k in rng.permutation(len(order)):
        attack = order[int(k)]
        hmin, hmax = DURATION_H[attack]
        length = max(2, round(rng.uniform(hmin, hmax) * 3600.0 / dt_s))
        start = _place(rng, n_steps, lo, length, occupied, gap)
        signal = str(FDI_SIGNALS[int(rng.integers(len(FDI_SIGNALS)))]) if attack == "fdi" else ""
        mode = str(FDI_MODES[int(rng.integers(len(FDI_MODES)))]) if attack == "fdi" else ""
        if attack == "spoof":
            mode = "publisher" if rng.random() < 0.5 else "topic"
        if start < 0:
            continue
        occupied[start : start + length] = True
        out.append(AttackEpisode(asset, attack, start, start + length, signal, mode))
    return sorted(out, key=lambda e: e.start)


def _apply_fdi(values: np.ndarray, ep: AttackEpisode, signals: Sequence[str], rng) -> None:
    """Forge one sensor in place; every forged value stays in the sensor's clean range."""
    j = list(signals).index(ep.signal)
    col = values[:, j]
    lo, hi = np.nanmin(col), np.nanmax(col)
    s, e = ep.start, ep.stop
    seg = col[s:e].copy()
    level = float(np.nanmean(seg))
    size = rng.uniform(0.15, 0.30) * (hi - lo)
    sign = 1.0 if hi - level >= level - lo else -1.0  # towards the side with more room
    if ep.mode == "bias":
        forged = seg + sign * size
    elif ep.mode == "ramp":
        forged = seg + sign * size * np.arange(1, e - s + 1) / (e - s)
    else:  # freeze: the level at the start, with the sensor's own white noise (not a stuck sensor)
        # The noise an attacker would measure on the sensor in steady state: from the step-to-step
        # differences just before the episode, robustly (median absolute difference), so regime
        # ramps do not make the forgery rougher than the real sensor.
        before = col[max(0, s - (e - s)) : s]
        diffs = np.diff(before[np.isfinite(before)])
        if diffs.size < 10:
            diffs = np.diff(col[np.isfinite(col)])
        noise = 1.4826 * float(np.median(np.abs(diffs - np.median(diffs)))) / math.sqrt(2.0) if diffs.size else 0.0
        first = seg[np.isfinite(seg)][0] if np.isfinite(seg).any() else level
        forged = first + noise * rng.standard_normal(e - s)
    forged = np.clip(forged, lo, hi)
    col[s:e] = np.where(np.isfinite(seg), forged, np.nan)


def attack_plant(
    ts: np.ndarray,
    values: dict[str, np.ndarray],
    signals: Sequence[str],
    *,
    attacks: Sequence[str],
    seed: int,
    dt_s: float,
    first_row: int = 0,
    fault_rows: dict[str, np.ndarray] | None = None,
    per_type: int = 1,
    site: str = "plant",
    area: str = "pumps",
) -> AttackedTraffic:
    """Turn clean per-asset readings into an attacked message log.

    ``ts`` (n,) is the time grid; ``values[asset]`` (n, c) the readings (NaN = not sent).
    Only rows ``first_row`` onwards appear in the log; earlier rows are history a replay may
    copy. ``fault_rows[asset]`` (bool, n) marks fault episodes, which attacks avoid.
    """
    attacks = parse_attacks(attacks) if attacks else ()
    ts = np.asarray(ts, dtype="datetime64[ns]")
    n = len(ts)
    frames, episodes = [], []
    for a_i, (asset, clean) in enumerate(values.items()):
        rng = np.random.default_rng(np.random.SeedSequence([seed, 7_001, a_i]))
        occupied = np.zeros(n, dtype=bool) if fault_rows is None else np.asarray(fault_rows.get(asset, np.zeros(n, bool))).copy()
        occupied[:first_row] = True
        eps = schedule_attacks(rng, asset=asset, attacks=attacks, n_steps=n, dt_s=dt_s, first_row=first_row, occupied=occupied, per_type=per_type)
        episodes.extend(eps)
        vals = np.array(clean, dtype=np.float64, copy=True)
        msg_ts = ts.copy()
        keep = np.isfinite(vals).any(axis=1)
        latency = rng.lognormal(math.log(0.2), 0.5, n)  # seconds from sending to the broker
        received = ts + (latency * 1e9).astype("timedelta64[ns]")
        topic = np.full(n, f"{site}/{area}/{asset}", dtype=object)
        publisher = np.full(n, f"gw-{asset}", dtype=object)
        extra = []  # (row, ts, received_at, topic, publisher, values)
        for ep in eps:
            s, e = ep.start, ep.stop
            if ep.attack == "fdi":
                _apply_fdi(vals, ep, signals, rng)
            elif ep.attack == "replay":
                lag = int(rng.integers(e - s + 1, max(e - s + 2, s + 1)))
                src = np.arange(s, e) - lag
                vals[s:e] = np.asarray(clean)[src]
                keep[s:e] = np.isfinite(vals[s:e]).any(axis=1)
            elif ep.attack == "flood":
                for row in range(s, e):
                    if not keep[row]:
                        continue
                    k = int(rng.integers(10, 41))
                    offsets = np.sort(rng.uniform(0.0, dt_s, k))
                    for off in offsets:
                        extra.append((row, ts[row], ts[row] + np.timedelta64(int(off * 1e9), "ns"), topic[row], publisher[row], None))
            elif ep.attack == "silence":
                keep[s:e] = False
            elif ep.attack == "spoof":
                fake_pub = f"client-{int(rng.integers(1000, 9999))}"
                fake_topic = f"{site}/{area}-x/{asset}"
                for row in range(s, e):
                    t = ts[row] + np.timedelta64(int(rng.uniform(0.2, 0.8) * dt_s * 1e9), "ns")
                    forged = np.asarray(clean)[row] * (1.0 + 0.05 * rng.standard_normal(len(signals)))
                    if ep.mode == "publisher":
                        extra.append((row, t, t + np.timedelta64(200, "ms"), topic[row], fake_pub, forged))
                    else:
                        extra.append((row, t, t + np.timedelta64(200, "ms"), fake_topic, publisher[row], forged))
            elif ep.attack == "stale":
                shift = np.timedelta64(int(rng.uniform(10.0, 120.0) * 60.0), "s")
                msg_ts[s:e] = ts[s:e] - shift
        rows = np.flatnonzero(keep)
        rows = rows[rows >= first_row]
        base = pd.DataFrame({
            "row": rows, "ts": msg_ts[rows], "received_at": received[rows],
            "topic": topic[rows], "publisher": publisher[rows],
        })  # fmt: skip
        base_vals = vals[rows]
        if extra:
            ex = pd.DataFrame(extra, columns=["row", "ts", "received_at", "topic", "publisher", "values"])
            ex_vals = np.stack([vals[r] if v is None else v for r, v in zip(ex["row"], ex["values"], strict=True)])
            base = pd.concat([base, ex.drop(columns="values")], ignore_index=True)
            base_vals = np.concatenate([base_vals, ex_vals])
        base["payload_bytes"] = _payload_bytes(base["ts"].to_numpy(), base_vals, signals)
        base["asset"] = asset
        frames.append((base, base_vals))
    log = _long_log(frames, signals)
    labels = _attack_labels(episodes, ts)
    return AttackedTraffic(log, labels, episodes)


def _long_log(frames, signals: Sequence[str]) -> pd.DataFrame:
    """Per-message frames and values -> one long table, a row per reading, sorted by arrival."""
    msgs = pd.concat([f for f, _ in frames], ignore_index=True)
    vals = np.concatenate([v for _, v in frames])
    order = np.lexsort((msgs["asset"].to_numpy(), msgs["received_at"].to_numpy()))
    msgs, vals = msgs.iloc[order].reset_index(drop=True), vals[order]
    m_idx, s_idx = np.nonzero(np.isfinite(vals))
    sig = np.asarray(signals, dtype=object)
    return pd.DataFrame({
        "ts": msgs["ts"].to_numpy()[m_idx],
        "asset": msgs["asset"].to_numpy()[m_idx],
        "signal": sig[s_idx],
        "value": vals[m_idx, s_idx],
        "quality": np.ones(m_idx.size),
        "message": m_idx.astype(np.int64),
        "topic": msgs["topic"].to_numpy()[m_idx],
        "publisher": msgs["publisher"].to_numpy()[m_idx],
        "received_at": msgs["received_at"].to_numpy()[m_idx],
        "payload_bytes": msgs["payload_bytes"].to_numpy()[m_idx],
    })  # fmt: skip


def _attack_labels(episodes: list[AttackEpisode], ts: np.ndarray) -> pd.DataFrame:
    rows = [(e.asset, "attack", e.attack, e.signal, e.mode, ts[e.start], ts[e.stop - 1]) for e in episodes]
    return pd.DataFrame(rows, columns=list(LABEL_COLUMNS))


def fault_labels(events: pd.DataFrame) -> pd.DataFrame:
    """The plant's fault episodes (``SimulatedPlant.events``) as label rows of kind ``fault``."""
    return pd.DataFrame({
        "asset": events["asset"].astype(str), "kind": "fault", "type": events["fault"].astype(str),
        "signal": events["fault_signal"].fillna("").astype(str), "mode": "",
        "start": events["start"], "end": events["end"],
    }, columns=list(LABEL_COLUMNS))  # fmt: skip


def scaled_log(messages: pd.DataFrame, *, speedup: float, start, origin=None) -> pd.DataFrame:
    """The message log on a live clock: ``origin`` (default the first arrival) moves to ``start``
    and every time stamp and arrival is ``speedup`` times closer to it (``ts`` and ``received_at``
    alike, so each message's delay shrinks too). A security detector fitted on a log scaled the
    same way sees the same plant, only faster: ``geniot simulate --attacks --mqtt --rate``.
    ``ts`` is kept to the microsecond, as the JSON payloads carry it."""
    if not speedup > 0:
        raise DataError(f"the speed-up must be > 0, got {speedup!r}", column="rate")
    recv = pd.to_datetime(messages["received_at"])
    origin = recv.min() if origin is None else pd.Timestamp(origin)
    start = pd.Timestamp(start)
    out = messages.copy()
    out["ts"] = (start + (pd.to_datetime(messages["ts"]) - origin) / speedup).dt.round("us")
    out["received_at"] = start + (recv - origin) / speedup
    return out
