"""Tools that read the store: what the plant has, statistics, anomaly events, a summary.

Every query goes through :class:`SensorStore`'s parameterized methods; the arguments are asset
and signal names the slot parser took from the store itself, numbers and datetimes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from geniot.ask.answer import ToolResult, fmt_number, fmt_range, fmt_time, say
from geniot.ask.plant import PlantView
from geniot.ask.timewords import TimeRange
from geniot.ask.vocabulary import percentile_of, statistic_name

#: the anomaly tools answer about process events (security events share the table and are not anomalies of the machine)
PROCESS = ("process",)
_AGG = {"mean": np.mean, "max": np.max, "min": np.min, "std": lambda v: np.std(v, ddof=1), "median": np.median}


def _aggregate(statistic: str, values: np.ndarray) -> float:
    q = percentile_of(statistic)
    return float(np.percentile(values, q) if q is not None else _AGG[statistic](values))


def _bounds(rng: TimeRange | None):
    return (None, None) if rng is None else (rng.start, rng.end)


def overview(plant: PlantView, *, assets: list[str] | None, lang: str) -> ToolResult:
    names = assets or plant.assets
    spans = {a: plant.store.time_range(a) for a in names}
    values = {
        "assets": list(names),
        "signals": {a: plant.signals[a] for a in names},
        "start": {a: spans[a][0].isoformat() for a in names},
        "end": {a: spans[a][1].isoformat() for a in names},
    }
    first = min(s[0] for s in spans.values())
    last = max(s[1] for s in spans.values())
    if assets:
        lines = [f"{a}: {', '.join(f'{s} ({plant.unit(s)})' if plant.unit(s) else s for s in plant.signals[a])}" for a in names]
        text = say(lang, "Signals measured — ", "Gemessene Signale — ") + "; ".join(lines) + "."
    else:
        text = say(
            lang,
            f"The plant has {len(names)} assets ({', '.join(names)}) with {len(plant.all_signals)} signals: {', '.join(plant.all_signals)}.",
            f"Die Anlage hat {len(names)} Maschinen ({', '.join(names)}) mit {len(plant.all_signals)} Signalen: {', '.join(plant.all_signals)}.",
        )
    text += say(lang, f" Data from {fmt_time(first)} to {fmt_time(last)}.", f" Daten von {fmt_time(first)} bis {fmt_time(last)}.")
    return ToolResult(values, text)


def stats(plant: PlantView, *, assets: list[str] | None, signal: str, statistic: str, range: TimeRange | None,
          lang: str) -> ToolResult:  # fmt: skip
    start, end = _bounds(range)
    per_asset, counts, traces = {}, {}, []
    for asset in assets or plant.assets:
        if signal not in plant.signals.get(asset, []):
            continue
        readings = plant.readings(asset, signal, start, end).dropna()
        counts[asset] = int(len(readings))
        per_asset[asset] = _aggregate(statistic, readings.to_numpy()) if len(readings) > 1 or statistic != "std" and len(readings) else None
        if len(readings):
            hourly = readings.resample("10min").mean()
            traces.append({"type": "scatter", "mode": "lines", "name": asset, "x": [t.isoformat() for t in hourly.index],
                           "y": [None if v != v else float(v) for v in hourly.to_numpy()]})  # fmt: skip
    name = statistic_name(statistic, lang)
    unit = plant.unit(signal)
    found = {a: v for a, v in per_asset.items() if v is not None}
    if not found:
        text = say(lang, f"There are no {signal} readings {fmt_range(range, lang)}.", f"Es gibt keine Messwerte für {signal} {fmt_range(range, lang)}.")
    else:
        parts = [f"{a}: {fmt_number(v)} {unit}".rstrip() + f" ({counts[a]:,} {say(lang, 'readings', 'Messwerte')})" for a, v in found.items()]
        text = say(lang, f"The {name} of {signal} {fmt_range(range, lang)}: ", f"{name} von {signal} {fmt_range(range, lang)}: ") + "; ".join(parts) + "."
        if len(found) > 1:
            hi = max(found, key=found.get)
            text += say(lang, f" Highest: {hi}.", f" Am höchsten: {hi}.")
    figure = {"data": traces, "layout": {"title": {"text": f"{signal} ({unit})"}, "yaxis": {"title": {"text": unit}}}} if traces else None
    return ToolResult({"statistic": statistic, "signal": signal, "unit": unit, "values": per_asset, "readings": counts}, text, figure)


def _event_rows(plant: PlantView, assets: list[str] | None, rng: TimeRange | None) -> pd.DataFrame:
    start, end = _bounds(rng)
    frames = [plant.store.events(a, start=start, end=end, limit=10_000, kinds=PROCESS) for a in (assets or [None])]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["asset", "start_ts", "end_ts", "top_sensors"])


def anomalies(plant: PlantView, *, assets: list[str] | None, range: TimeRange | None, lang: str) -> ToolResult:
    if plant.store.count_events() == 0:
        text = say(
            lang,
            "No anomaly detection has run on this plant's data yet, so I cannot say which assets had anomalies. "
            "Start the service with detectors (`geniot serve`) or run `geniot demo`, which scans the history.",
            "Auf diesen Daten lief noch keine Anomalieerkennung, daher kann ich das nicht sagen. "
            "Starten Sie den Dienst mit Detektoren (`geniot serve`) oder `geniot demo`, das die Historie prüft.",
        )
        return ToolResult({"assets": [], "n_events": None, "detected": False}, text)
    events = _event_rows(plant, assets, range).sort_values("start_ts")
    scope = assets or plant.assets
    per_asset = events.groupby("asset").size().to_dict() if len(events) else {}
    hit = [a for a in scope if per_asset.get(a)]
    when = fmt_range(range, lang)
    if not hit:
        who = ", ".join(scope) if assets else say(lang, "any asset", "keiner Maschine")
        text = say(lang, f"No anomalies on {who} {when}.", f"Keine Anomalien bei {who} {when}.")
    else:
        parts = []
        for a in sorted(hit, key=lambda a: -per_asset[a]):
            rows = events[events["asset"] == a]
            sensors = pd.Series([s for t in rows["top_sensors"] for s in str(t).split(";")[:1] if s]).value_counts()
            latest = rows.iloc[-1]
            top = f"{say(lang, 'mostly', 'meist')} {sensors.index[0]}" if len(sensors) else ""
            parts.append(f"{a}: {per_asset[a]} {say(lang, 'events' if per_asset[a] > 1 else 'event', 'Ereignisse' if per_asset[a] > 1 else 'Ereignis')}"
                         f" ({top}; {say(lang, 'latest', 'zuletzt')} {fmt_time(latest['start_ts'])}–{fmt_time(latest['end_ts'])})")  # fmt: skip
        text = say(
            lang,
            f"{len(hit)} of {len(scope)} assets had anomalies {when}: ",
            f"{len(hit)} von {len(scope)} Maschinen hatten Anomalien {when}: ",
        ) + "; ".join(parts) + "."
    listed = [
        {"asset": r.asset, "start": pd.Timestamp(r.start_ts).isoformat(), "end": pd.Timestamp(r.end_ts).isoformat(),
         "top_sensors": [s for s in str(r.top_sensors).split(";") if s]}
        for r in events.itertuples()
    ][-50:]  # fmt: skip
    figure = None
    if listed:
        figure = {
            "data": [{"type": "scatter", "mode": "lines", "name": e["asset"], "showlegend": False, "line": {"width": 10},
                      "x": [e["start"], e["end"]], "y": [e["asset"], e["asset"]], "hovertext": ", ".join(e["top_sensors"])}
                     for e in listed],  # fmt: skip
            "layout": {"title": {"text": say(lang, "Anomaly events", "Anomalie-Ereignisse")}, "xaxis": {"type": "date"}},
        }
    values = {"assets": hit, "n_events": int(len(events)), "per_asset": {a: int(per_asset[a]) for a in hit}, "events": listed, "detected": True}
    return ToolResult(values, text, figure)


def _gaps(index: pd.DatetimeIndex) -> tuple[int, float]:
    """(number of gaps longer than three typical steps, longest gap in minutes)."""
    if len(index) < 3:
        return 0, 0.0
    d = np.diff(index.asi8) / 6e10
    step = float(np.median(d))
    long = d[d > 3 * step]
    return int(len(long)), float(long.max()) if len(long) else 0.0


def summary(plant: PlantView, *, assets: list[str] | None, signal: str | None, range: TimeRange | None,
            lang: str) -> ToolResult:  # fmt: skip
    start, end = _bounds(range)
    values, sentences = {}, []
    has_events = plant.store.count_events() > 0
    for asset in assets or plant.assets:
        signals = [signal] if signal else plant.signals[asset]
        long = plant.store.read_long(asset, start=start, end=end, signals=signals)
        if long.empty:
            sentences.append(say(lang, f"{asset}: no readings.", f"{asset}: keine Messwerte."))
            continue
        wide = long.pivot_table(index="ts", columns="signal", values="value")
        n_gaps, longest = _gaps(pd.DatetimeIndex(wide.index))
        trends = {}
        for s in signals:
            col = wide[s].dropna() if s in wide else pd.Series(dtype=float)
            if len(col) < 10:
                continue
            quarter = max(1, len(col) // 4)
            first, last = float(col.iloc[:quarter].mean()), float(col.iloc[-quarter:].mean())
            scale = float(col.std()) or 1.0
            trends[s] = {"min": float(col.min()), "mean": float(col.mean()), "max": float(col.max()),
                         "change": last - first, "change_in_sd": (last - first) / scale}  # fmt: skip
        n_events = int(len(plant.store.events(asset, start=start, end=end, limit=10_000, kinds=PROCESS))) if has_events else None
        values[asset] = {"readings": int(len(long)), "gaps": n_gaps, "longest_gap_minutes": longest, "anomaly_events": n_events, "signals": trends}
        moving = sorted(((s, t) for s, t in trends.items() if abs(t["change_in_sd"]) >= 1.0), key=lambda kv: -abs(kv[1]["change_in_sd"]))
        parts = [say(lang, f"{len(long):,} readings", f"{len(long):,} Messwerte")]
        if n_gaps:
            parts.append(say(lang, f"{n_gaps} outages (longest {longest:.0f} min)", f"{n_gaps} Ausfälle (längster {longest:.0f} min)"))
        else:
            parts.append(say(lang, "no outages", "keine Ausfälle"))
        if n_events is not None:
            parts.append(say(lang, f"{n_events} anomaly events", f"{n_events} Anomalie-Ereignisse"))
        if moving:
            words = [f"{s} {'↑' if t['change'] > 0 else '↓'} {fmt_number(abs(t['change']))} {plant.unit(s)}".rstrip() for s, t in moving[:3]]
            parts.append(say(lang, "trends: ", "Trends: ") + ", ".join(words))
        else:
            parts.append(say(lang, "no marked trends", "keine deutlichen Trends"))
        if signal and signal in trends:
            t = trends[signal]
            unit = plant.unit(signal)
            parts.append(f"{signal} {fmt_number(t['min'])}–{fmt_number(t['max'])} {unit}, {say(lang, 'mean', 'Mittel')} {fmt_number(t['mean'])} {unit}")
        sentences.append(f"{asset}: " + "; ".join(parts) + ".")
    intro = say(lang, f"Summary {fmt_range(range, lang)}. ", f"Zusammenfassung {fmt_range(range, lang)}. ")
    return ToolResult({"assets": values}, intro + " ".join(sentences), _summary_figure(plant, (assets or plant.assets)[0], signal, range, lang))


def _summary_figure(plant: PlantView, asset: str, signal: str | None, rng: TimeRange | None, lang: str) -> dict | None:
    """One asset's signals as hourly means in standard units (what moved, and when), with its events."""
    start, end = _bounds(rng)
    long = plant.store.read_long(asset, start=start, end=end, signals=[signal] if signal else None)
    if long.empty:
        return None
    wide = long.pivot_table(index="ts", columns="signal", values="value").resample("1h").mean()
    traces = []
    for name in wide.columns:
        col = wide[name]
        z = (col - col.mean()) / (col.std() or 1.0)
        traces.append({"type": "scatter", "mode": "lines", "name": name, "x": [t.isoformat() for t in wide.index],
                       "y": [None if v != v else round(float(v), 3) for v in z]})  # fmt: skip
    shapes = [{"type": "rect", "xref": "x", "yref": "paper", "x0": pd.Timestamp(e.start_ts).isoformat(), "x1": pd.Timestamp(e.end_ts).isoformat(),
               "y0": 0, "y1": 1, "fillcolor": "red", "opacity": 0.15, "line": {"width": 0}}
              for e in plant.store.events(asset, start=start, end=end, limit=200, kinds=PROCESS).itertuples()]  # fmt: skip
    title = say(lang, f"{asset}: hourly means in standard units (red: anomaly events)", f"{asset}: Stundenmittel, standardisiert (rot: Anomalien)")
    return {"data": traces, "layout": {"title": {"text": title}, "shapes": shapes}}
