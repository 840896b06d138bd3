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
from geniot.core.record import channel_names
from geniot.data.io import write_frame
from geniot.tasks.twin import Forecaster, WhatIf
from geniot.workflows.gap_filling import fill_series, in_model_order
from geniot.workflows.training import build_model

_FORECAST_STEPS = 12  # a forecast is this many steps of a resampled series


def _stamp(plant: PlantView) -> str:
    return plant.now.strftime("%Y%m%dT%H%M")


def impute(plant: PlantView, *, assets: list[str] | None, signal: str | None, range: TimeRange | None,
           lang: str) -> ToolResult:  # fmt: skip
    values, parts, files = {}, [], []
    plotted = None  # the first asset with gaps: its filled signal is drawn
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
        result = fill_series(gen, series, n_draws=30, interval=0.9, seed=0)  # `geniot impute`'s held-out choice
        filled, lower, upper = result.filled, result.lower, result.upper
        how = ""
        if result.selection is not None:
            how = say(lang, f", by {result.selection.chosen} (chosen on held-out gaps)", f", mit {result.selection.chosen} (an zurückgehaltenen Lücken gewählt)")
            values[asset]["method"] = result.selection.reason
        frame = filled.to_dataframe()[keep]
        for j in cols:
            name = series.channels[j]
            frame[f"{name}_lower"] = lower.values[keep, j]
            frame[f"{name}_upper"] = upper.values[keep, j]
            frame[f"{name}_imputed"] = np.isnan(series.values[keep, j]).astype(int)
        path = plant.out_dir / f"filled-{asset}-{_stamp(plant)}.csv"
        write_frame(frame, path)
        files.append(str(path))
        plotted = plotted or asset
        values[asset]["file"] = str(path)
        width = float(np.nanmean((upper.values - lower.values)[keep][:, cols][gaps]))
        parts.append(say(lang, f"{asset}: filled {n_gaps} missing values (mean 90% interval width {fmt_number(width)}){how} → {path}",
                         f"{asset}: {n_gaps} fehlende Werte gefüllt (mittlere Breite des 90%-Intervalls {fmt_number(width)}){how} → {path}"))  # fmt: skip
    figure = None
    if files:
        frame = pd.read_csv(files[0], parse_dates=["timestamp"])
        name = signal or next(c[: -len("_imputed")] for c in frame.columns if c.endswith("_imputed") and frame[c].any())
        hit = frame[frame[f"{name}_imputed"] == 1]
        times = [t.isoformat() for t in frame["timestamp"]]
        figure = {"data": [
            {"type": "scatter", "mode": "lines", "name": name, "x": times, "y": frame[name].round(4).tolist()},
            {"type": "scatter", "mode": "markers", "name": say(lang, "filled", "gefüllt"), "x": [t.isoformat() for t in hit["timestamp"]],
             "y": hit[name].round(4).tolist(), "error_y": {"type": "data", "symmetric": False, "array": (hit[f"{name}_upper"] - hit[name]).round(4).tolist(),
                                                          "arrayminus": (hit[name] - hit[f"{name}_lower"]).round(4).tolist()}},
        ], "layout": {"title": {"text": f"{plotted}: {name} ({say(lang, 'filled gaps with 90% intervals', 'gefüllte Lücken mit 90%-Intervallen')})"}}}  # fmt: skip
    what = signal or say(lang, "all signals", "alle Signale")
    text = say(lang, f"Gap filling of {what} {fmt_range(range, lang)} with each asset's Gaussian model (observed values kept as they are): ",
               f"Lückenfüllung für {what} {fmt_range(range, lang)} mit dem Gauß-Modell jeder Maschine (gemessene Werte bleiben unverändert): ")  # fmt: skip
    return ToolResult({"assets": values}, text + "; ".join(parts) + ".", figure, files=files)


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
        bands = Forecaster(generator=gen, horizon=n_steps, n_draws=200, random_state=0).forecast(values)
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
    model = WhatIf(generator=build_model("gaussian", seed=0), window=16, stride=4, n_samples=400, random_state=0).fit(series, control=control)
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


def _wear_ratio(plant: PlantView, asset: str, indicator: str, control: str | None) -> pd.Series:
    """Hourly medians of the indicator over what a healthy machine shows at the same speed:
    vibration grows with speed squared, so a fit ``a + b * speed^2`` on the first day is the
    healthy reference (just the first day's median without a speed signal)."""
    frame = plant.store.read_long(asset, end=plant.now + timedelta(seconds=1), signals=[indicator] + ([control] if control else []))
    wide = frame.pivot_table(index="ts", columns="signal", values="value").dropna()
    first_day = wide[wide.index < wide.index[0] + pd.Timedelta(days=1)]
    if control:
        x = (first_day[control] / first_day[control].median()) ** 2
        b, a = np.polyfit(x.to_numpy(), first_day[indicator].to_numpy(), 1)
        healthy = a + b * (wide[control] / first_day[control].median()) ** 2
    else:
        healthy = pd.Series(float(first_day[indicator].median()), index=wide.index)
    ratio = (wide[indicator] / healthy.clip(lower=1e-9)).resample("1h").median().dropna()
    return ratio[ratio > 0]


def remaining_life(plant: PlantView, *, assets: list[str] | None, lang: str, indicator: str = "vibration_rms_mms",
                   control: str | None = "speed_rpm", alarm: float = 2.5, onset: float = 1.3,
                   hours: float = 24.0) -> ToolResult:  # fmt: skip
    """Time until the wear indicator reaches its alarm level, by trend extrapolation.

    The indicator is vibration over what the asset showed at the same speed on its first day
    (``_wear_ratio``). An asset whose ratio has risen above ``onset`` and keeps rising (a
    log-linear fit over the last ``hours``, slope above two standard errors) gets the hours until
    the ratio reaches ``alarm`` (2.5x, a common vibration alarm step); otherwise there is no wear
    in sight and no number is given.
    """
    values, parts = {}, []
    for asset in assets or plant.assets:
        if indicator not in plant.signals[asset]:
            continue
        ctl = control if control in plant.signals[asset] else None
        ratio = _wear_ratio(plant, asset, indicator, ctl)
        recent = ratio[ratio.index >= ratio.index[-1] - pd.Timedelta(hours=hours)]
        h = (recent.index - recent.index[-1]).total_seconds().to_numpy() / 3600.0
        slope, intercept = np.polyfit(h, np.log(recent.to_numpy()), 1) if len(recent) >= 6 else (0.0, 0.0)
        resid = np.log(recent.to_numpy()) - (slope * h + intercept) if len(recent) >= 6 else np.zeros(1)
        se = float(np.sqrt(np.sum(resid**2) / max(1, len(h) - 2) / max(1e-12, np.sum((h - h.mean()) ** 2))))
        level = float(np.exp(intercept))
        info = {"ratio": level, "trend_per_day": float(slope * 24), "alarm": alarm}
        if level < onset or slope <= 2 * se:
            values[asset] = {**info, "rul_hours": None}
            parts.append(say(lang, f"{asset}: no wear in sight ({indicator} {fmt_number(level)}× its healthy level)",
                             f"{asset}: kein Verschleiß erkennbar ({indicator} {fmt_number(level)}× des gesunden Niveaus)"))  # fmt: skip
            continue
        rul = max(0.0, float(np.log(alarm / level) / slope))
        values[asset] = {**info, "rul_hours": rul}
        parts.append(say(lang, f"{asset}: about {fmt_number(rul)} h ({fmt_number(rul / 24)} days) until {indicator} reaches {alarm:g}× its healthy level (now {fmt_number(level)}×)",
                         f"{asset}: etwa {fmt_number(rul)} h ({fmt_number(rul / 24)} Tage), bis {indicator} {alarm:g}× des gesunden Niveaus erreicht (jetzt {fmt_number(level)}×)"))  # fmt: skip
    ranked = sorted((a for a, v in values.items() if v["rul_hours"] is not None), key=lambda a: values[a]["rul_hours"])
    text = say(lang, f"Remaining life from the trend of {indicator} against its healthy, speed-corrected level (last {hours:g} h): ",
               f"Restlebensdauer aus dem Trend von {indicator} gegenüber dem gesunden, drehzahlkorrigierten Niveau (letzte {hours:g} h): ")  # fmt: skip
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
        channels = channel_names(gen)
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
