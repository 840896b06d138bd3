"""Tools that use a generative model of an asset: fill gaps, forecast, what-if, remaining life,
synthesize. Outputs that are files (filled series, synthetic data) go to the answers folder."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from geniot.ask.answer import ToolResult, fmt_number, fmt_range, say
from geniot.ask.plant import PlantView
from geniot.ask.timewords import TimeRange
from geniot.core.exceptions import DataError
from geniot.data.io import write_frame
from geniot.tasks import GapImputer
from geniot.tasks.twin import Forecaster, WhatIf
from geniot.workflows.gap_filling import in_model_order
from geniot.workflows.training import build_model

_FORECAST_STEPS = 12  # a forecast is this many steps of a resampled series


def _stamp(plant: PlantView) -> str:
    return plant.now.strftime("%Y%m%dT%H%M")


def impute(plant: PlantView, *, assets: list[str] | None, signal: str | None, range: TimeRange | None,
           lang: str) -> ToolResult:  # fmt: skip
    values, parts, files = {}, [], []
    for asset in assets or plant.assets:
        gen = plant.model(asset)
        context = timedelta(minutes=int(gen.n_steps_))  # the steps before the range condition its first gap
        start = None if range is None or range.start is None else range.start - context
        series = in_model_order(plant.regular(asset, start, None if range is None else range.end), gen)
        if range is not None and range.start is not None:
            keep = pd.DatetimeIndex(series.timestamps) >= pd.Timestamp(range.start)
        else:
            keep = np.ones(series.n_steps, dtype=bool)
        cols = [series.channels.index(signal)] if signal else list(np.arange(series.n_channels))
        gaps = np.isnan(series.values[keep][:, cols])
        n_gaps = int(gaps.sum())
        values[asset] = {"filled": n_gaps, "steps": int(keep.sum())}
        if n_gaps == 0:
            parts.append(say(lang, f"{asset}: no gaps", f"{asset}: keine Lücken"))
            continue
        imputer = GapImputer(gen, prefit=True, n_draws=30, interval=0.9, random_state=0)
        filled, lower, upper = imputer.transform(series, return_interval=True)
        frame = filled.to_dataframe()[keep]
        for j in cols:
            name = series.channels[j]
            frame[f"{name}_lower"] = lower.values[keep, j]
            frame[f"{name}_upper"] = upper.values[keep, j]
            frame[f"{name}_imputed"] = np.isnan(series.values[keep, j]).astype(int)
        path = plant.out_dir / f"filled-{asset}-{_stamp(plant)}.csv"
        write_frame(frame, path)
        files.append(str(path))
        values[asset]["file"] = str(path)
        width = float(np.nanmean((upper.values - lower.values)[keep][:, cols][gaps]))
        parts.append(say(lang, f"{asset}: filled {n_gaps} missing values (mean 90% interval width {fmt_number(width)}) → {path}",
                         f"{asset}: {n_gaps} fehlende Werte gefüllt (mittlere Breite des 90%-Intervalls {fmt_number(width)}) → {path}"))  # fmt: skip
    what = signal or say(lang, "all signals", "alle Signale")
    text = say(lang, f"Gap filling of {what} {fmt_range(range, lang)} with each asset's Gaussian model (observed values kept as they are): ",
               f"Lückenfüllung für {what} {fmt_range(range, lang)} mit dem Gauß-Modell jeder Maschine (gemessene Werte bleiben unverändert): ")  # fmt: skip
    return ToolResult({"assets": values}, text + "; ".join(parts) + ".", files=files)


def _resampled(plant: PlantView, asset: str, signal: str, step_min: int) -> pd.Series:
    readings = plant.readings(asset, signal)
    return readings.resample(f"{step_min}min").mean()


def forecast(plant: PlantView, *, assets: list[str] | None, signal: str | None, horizon_minutes: int | None,
             lang: str) -> ToolResult:  # fmt: skip
    """Each asset (all when none is named) separately; one signal, or all of the asset's."""
    per_asset = [_forecast_one(plant, a, signal, horizon_minutes, lang) for a in (assets or plant.assets)]
    if len(per_asset) == 1:
        return per_asset[0]
    values = {"assets": {r.values["asset"]: r.values for r in per_asset}}
    return ToolResult(values, " ".join(r.text for r in per_asset), per_asset[0].figure if signal else None)


def _forecast_one(plant: PlantView, asset: str, signal: str | None, horizon_minutes: int | None, lang: str) -> ToolResult:
    signals = [signal] if signal else plant.signals[asset]
    horizon = int(horizon_minutes or 60)
    step = max(1, int(np.ceil(horizon / _FORECAST_STEPS)))
    n_steps = int(np.ceil(horizon / step))
    results, traces, parts = {}, [], []
    for s in signals:
        history = _resampled(plant, asset, s, step).interpolate(limit=3)
        values = history.to_numpy()[:, None]
        window = 2 * n_steps
        # A univariate Gaussian over windows of the resampled history: context then horizon.
        windows = np.lib.stride_tricks.sliding_window_view(values[:, 0], window)[:, :, None]
        windows = windows[~np.isnan(windows).any(axis=(1, 2))]
        if len(windows) < 2 * window:
            raise DataError(f"{asset} has too little {s} history for a {horizon}-minute forecast ({len(windows)} complete windows)")
        gen = build_model("gaussian", seed=0).fit(windows)
        bands = Forecaster(gen, horizon=n_steps, n_draws=200, random_state=0).forecast(values)
        times = history.index[-1] + pd.to_timedelta(np.arange(1, n_steps + 1) * step, unit="min")
        med, lo, hi = (bands[k][:, 0] for k in ("median", "lower", "upper"))
        results[s] = {"times": [t.isoformat() for t in times], "median": med.tolist(), "lower": lo.tolist(), "upper": hi.tolist(),
                      "last": float(history.dropna().iloc[-1])}  # fmt: skip
        unit = plant.unit(s)
        parts.append(f"{s}: {fmt_number(results[s]['last'])} → {fmt_number(med[-1])} {unit} "
                     f"(90%: {fmt_number(lo[-1])}–{fmt_number(hi[-1])})".replace("  ", " "))  # fmt: skip
        tail = history.iloc[-4 * n_steps :]
        traces += [
            {"type": "scatter", "mode": "lines", "name": f"{s}", "x": [t.isoformat() for t in tail.index], "y": [None if v != v else float(v) for v in tail]},
            {"type": "scatter", "mode": "lines", "name": say(lang, "forecast", "Prognose"), "x": results[s]["times"], "y": results[s]["median"]},
            {"type": "scatter", "mode": "lines", "name": "90%", "x": results[s]["times"] + results[s]["times"][::-1],
             "y": results[s]["upper"] + results[s]["lower"][::-1], "fill": "toself", "line": {"width": 0}, "opacity": 0.3},
        ]  # fmt: skip
    text = say(lang, f"Forecast for {asset}, next {horizon} min (in steps of {step} min), last value → value at the end: ",
               f"Prognose für {asset}, nächste {horizon} min (in Schritten von {step} min), letzter Wert → Wert am Ende: ")  # fmt: skip
    figure = {"data": traces, "layout": {"title": {"text": f"{asset}: {say(lang, 'forecast', 'Prognose')}"}}} if len(signals) == 1 else None
    return ToolResult({"asset": asset, "horizon_minutes": horizon, "step_minutes": step, "signals": results}, text + "; ".join(parts) + ".", figure)


def whatif(plant: PlantView, *, assets: list[str] | None, change: dict | None, lang: str) -> ToolResult:
    """Each asset (all when none is named) with the same change."""
    per_asset = [_whatif_one(plant, a, change, lang) for a in (assets or plant.assets)]
    if len(per_asset) == 1:
        return per_asset[0]
    return ToolResult({"assets": {r.values["asset"]: r.values for r in per_asset}}, " ".join(r.text for r in per_asset))


def _whatif_one(plant: PlantView, asset: str, change: dict | None, lang: str) -> ToolResult:
    if not change or change.get("control") not in plant.signals[asset]:
        control = (change or {}).get("control")
        raise DataError(f"{asset} has no control signal {control!r} to change; signals: {plant.signals[asset]}")
    control = change["control"]
    series = plant.regular(asset)
    model = WhatIf(build_model("gaussian", seed=0), window=16, stride=4, n_samples=400, random_state=0).fit(series, control=control)
    recent = plant.readings(asset, control, plant.now - timedelta(hours=1), None).dropna()
    now_value = float(recent.mean()) if len(recent) else float(np.nanmean(series.values[:, series.channels.index(control)]))
    target = now_value * (1 + change["percent"] / 100.0) if "percent" in change else float(change["value"])
    lo, hi = model.control_range_
    if not lo <= target <= hi:
        text = say(lang, f"I cannot simulate {control} = {fmt_number(target)} on {asset}: the model only saw {fmt_number(lo)}–{fmt_number(hi)}, and it does not extrapolate.",
                   f"{control} = {fmt_number(target)} kann ich für {asset} nicht simulieren: das Modell kennt nur {fmt_number(lo)}–{fmt_number(hi)} und extrapoliert nicht.")  # fmt: skip
        return ToolResult({"asset": asset, "control": control, "from": now_value, "to": target, "refused": True, "range": [lo, hi]}, text)
    base = model.simulate(now_value)["median"].mean(axis=0)
    new = model.simulate(target)["median"].mean(axis=0)
    changes = {c: {"now": float(base[j]), "then": float(new[j])} for j, c in enumerate(series.channels) if c != control}
    words = [f"{c} {fmt_number(v['now'])} → {fmt_number(v['then'])} {plant.unit(c)}".rstrip() for c, v in changes.items()]
    text = say(lang, f"{asset} with {control} at {fmt_number(target)} instead of {fmt_number(now_value)} (conditional samples of a Gaussian model of its windows): ",
               f"{asset} mit {control} bei {fmt_number(target)} statt {fmt_number(now_value)} (bedingte Stichproben eines Gauß-Modells seiner Fenster): ")  # fmt: skip
    figure = {"data": [{"type": "bar", "name": say(lang, "now", "jetzt"), "x": list(changes), "y": [v["now"] for v in changes.values()]},
                       {"type": "bar", "name": say(lang, "what-if", "Was-wäre-wenn"), "x": list(changes), "y": [v["then"] for v in changes.values()]}],
              "layout": {"barmode": "group", "title": {"text": f"{asset}: {control} = {fmt_number(target)}"}}}  # fmt: skip
    return ToolResult({"asset": asset, "control": control, "from": now_value, "to": target, "changes": changes}, text + "; ".join(words) + ".", figure)


def remaining_life(plant: PlantView, *, assets: list[str] | None, lang: str, indicator: str = "vibration_rms_mms",
                   limit_factor: float = 2.5, days: float = 3.0) -> ToolResult:  # fmt: skip
    """Trend extrapolation of a wear indicator: hourly medians of the last ``days`` days, a
    log-linear fit, and the time until it reaches ``limit_factor`` times the asset's baseline
    (the median of its first day). No rising trend: no failure in sight from this data."""
    values, parts = {}, []
    for asset in assets or plant.assets:
        if indicator not in plant.signals[asset]:
            continue
        readings = plant.readings(asset, indicator).dropna()
        baseline = float(readings[: readings.index[0] + pd.Timedelta(days=1)].median())
        recent = readings[readings.index >= readings.index[-1] - pd.Timedelta(days=days)].resample("1h").median().dropna()
        recent = recent[recent > 0]
        limit = limit_factor * baseline
        hours = (recent.index - recent.index[-1]).total_seconds().to_numpy() / 3600.0
        slope, intercept = np.polyfit(hours, np.log(recent.to_numpy()), 1)
        resid = np.log(recent.to_numpy()) - (slope * hours + intercept)
        se = float(np.sqrt(np.sum(resid**2) / max(1, len(hours) - 2) / np.sum((hours - hours.mean()) ** 2)))
        current = float(np.exp(intercept))
        if slope <= 2 * se or current <= 0:
            values[asset] = {"rul_hours": None, "trend_per_day": float(slope * 24), "level": current, "limit": limit}
            parts.append(say(lang, f"{asset}: no rising wear trend ({indicator} {fmt_number(current)} vs limit {fmt_number(limit)})",
                             f"{asset}: kein steigender Verschleißtrend ({indicator} {fmt_number(current)}, Grenze {fmt_number(limit)})"))  # fmt: skip
            continue
        rul = max(0.0, float(np.log(limit / current) / slope))
        values[asset] = {"rul_hours": rul, "trend_per_day": float(slope * 24), "level": current, "limit": limit}
        parts.append(say(lang, f"{asset}: about {fmt_number(rul)} h ({fmt_number(rul / 24)} days) until {indicator} reaches {fmt_number(limit)}",
                         f"{asset}: etwa {fmt_number(rul)} h ({fmt_number(rul / 24)} Tage), bis {indicator} {fmt_number(limit)} erreicht"))  # fmt: skip
    ranked = sorted((a for a, v in values.items() if v["rul_hours"] is not None), key=lambda a: values[a]["rul_hours"])
    text = say(lang, f"Remaining life from the {indicator} trend of the last {days:g} days (limit: {limit_factor:g}× each asset's first-day level): ",
               f"Restlebensdauer aus dem Trend von {indicator} der letzten {days:g} Tage (Grenze: {limit_factor:g}× Niveau des ersten Tages): ")  # fmt: skip
    text += "; ".join(parts) + "."
    if ranked:
        text += say(lang, f" First to service: {ranked[0]}.", f" Zuerst warten: {ranked[0]}.")
    return ToolResult({"assets": values, "first": ranked[0] if ranked else None}, text)


def synthesize(plant: PlantView, *, assets: list[str] | None, count: int | None, lang: str) -> ToolResult:
    n = int(count or 100)
    if not 1 <= n <= 100_000:
        raise DataError(f"count must be between 1 and 100000 windows, got {n}")
    values, files, parts = {}, [], []
    for asset in assets or plant.assets:
        gen = plant.model(asset)
        windows = gen.sample(n, random_state=0)
        channels = list(gen.metadata_.get("channels") or [f"ch{j}" for j in range(windows.shape[2])])
        frame = pd.DataFrame(windows.reshape(-1, windows.shape[2]), columns=channels)
        frame.insert(0, "step", np.tile(np.arange(windows.shape[1]), n))
        frame.insert(0, "window", np.repeat(np.arange(n), windows.shape[1]))
        path = plant.out_dir / f"synthetic-{asset}-{_stamp(plant)}.csv"
        write_frame(frame, path)
        files.append(str(path))
        values[asset] = {"windows": n, "steps": int(windows.shape[1]), "file": str(path)}
        parts.append(f"{asset}: {n} × {windows.shape[1]} {say(lang, 'steps', 'Schritte')} → {path}")
    text = say(lang, "Synthetic windows from each asset's Gaussian model (check them with `geniot audit` before sharing): ",
               "Synthetische Fenster aus dem Gauß-Modell jeder Maschine (vor der Weitergabe mit `geniot audit` prüfen): ")  # fmt: skip
    return ToolResult({"assets": values}, text + "; ".join(parts) + ".", files=files)
