"""Fill the gaps of a data file with a saved generator and write it back in its own layout."""

from __future__ import annotations

import dataclasses
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.data.clock import ClockFill, fill_missing_steps
from geniot.data.io import file_layout, read_table, untouched_columns, write_frame
from geniot.data.series import SensorSeries
from geniot.models.loading import load_generator
from geniot.tasks.imputer_selection import SelectingImputer, Selection
from geniot.workflows.errors import ChannelsLeftOutWarning


@dataclass(frozen=True)
class FilledSeries:
    original: SensorSeries
    filled: SensorSeries
    lower: SensorSeries
    upper: SensorSeries
    selection: Selection | None = None
    left_out: SensorSeries | None = None  # signals the model does not know: written back as read
    #: where the file's rows went (``clock.rows``); rows between them were timestamps missing
    #: from the clock (an outage), added and filled
    clock: ClockFill | None = None

    @property
    def n_filled(self) -> int:
        return int(np.isnan(self.original.values).sum())


def fill_file(
    artifact: Path | BaseGenerator,
    data: Path,
    *,
    n_draws: int = 1,
    interval: float = 0.9,
    stride: int | None = None,
    seed: int | None = 0,
    method: str = "auto",
) -> tuple[dict[str, FilledSeries], str]:
    """Every asset of ``data`` with its gaps filled, and the file's layout ("wide"/"long").
    ``method="auto"`` fills each kind of gap the way that filled held-out gaps of that kind in
    the asset's own data best (the model, a Gaussian, linear interpolation; see
    ``tasks.imputer_selection``), with the interval calibrated on them."""
    generator = artifact if isinstance(artifact, BaseGenerator) else load_generator(artifact)
    table = read_table(data)
    settings = {"n_draws": n_draws, "interval": interval, "stride": stride, "seed": seed, "method": method}
    out = {}
    for asset, series in table.items():
        clock = fill_missing_steps(series, cap=False)  # an outage's missing rows are gaps to fill too
        filled = fill_series(generator, clock.series, **settings)
        out[asset] = dataclasses.replace(filled, clock=clock)
    layout = next(iter(table.values())).layout
    return out, layout.layout if layout is not None else file_layout(data)


def fill_series(
    generator: BaseGenerator,
    series: SensorSeries,
    *,
    n_draws: int = 1,
    interval: float = 0.9,
    stride: int | None = None,
    seed: int | None = 0,
    method: str = "auto",
) -> FilledSeries:
    """One series with its gaps filled: the one gap-filling workflow (``geniot impute`` fills a
    file's assets with it, the service's ``/impute`` a stored range)."""
    imputer = SelectingImputer(generator=generator, method=method, n_draws=n_draws, interval=interval, stride=stride,
                               random_state=seed)  # fmt: skip
    known = in_model_order(series, generator)
    filled, lower, upper, selection = imputer.transform(known)
    extra = [c for c in series.channels if c not in known.channels]
    return FilledSeries(known, filled, lower, upper, selection, series.select(extra) if extra else None)


def in_model_order(series: SensorSeries, generator: BaseGenerator) -> SensorSeries:
    """The series with the model's channels in the model's order (a file may order columns
    differently). Signals the model was not trained on are left out with a
    ``ChannelsLeftOutWarning`` that names them; a missing channel is left for the task to
    report by name."""
    names = list(generator.channel_names_ or [])
    if not names or names == list(series.channels) or not set(names) <= set(series.channels):
        return series
    extra = [c for c in series.channels if c not in names]
    if extra:
        where = f"{series.source}: " if series.source else ""
        warnings.warn(
            f"{where}signal(s) {extra} are not in the model (trained on {names}): left out, "
            "not scored or filled",
            ChannelsLeftOutWarning,
            stacklevel=2,
        )
    return series.select(names)


def write_filled(
    results: dict[str, FilledSeries], layout: str, out: Path, *, data: Path, with_interval: bool
) -> Path:
    """Write filled series in ``layout`` and in the input's own format (separator, decimal marks,
    time zone, headers with units, column order). Wide files keep their text, label and ignored
    columns; with an interval, wide files get ``<signal>_lower``/``<signal>_upper`` columns (unit
    written as in the header) and long files ``lower``/``upper``. Long files also get ``imputed``
    (1 where the value was a gap)."""
    first = next(iter(results.values())).original
    if layout == "wide":
        if len(results) != 1:
            raise DataError(f"{data} holds {len(results)} assets and the wide layout one per file; impute one file at a time")
        (res,) = results.values()
        frame = res.filled.to_dataframe()
        if res.left_out is not None:  # signals the model does not know, as they were read
            for j, name in enumerate(res.left_out.channels):
                frame[name] = res.left_out.values[:, j]
        for name, column in res.original.categorical.items():
            frame[name] = pd.Series(column, dtype=object)
        if with_interval:
            for name in res.filled.channels:
                j = res.filled.channels.index(name)
                frame[f"{name}_lower"] = res.lower.values[:, j]
                frame[f"{name}_upper"] = res.upper.values[:, j]
        kept = untouched_columns(data, res.original.layout) if Path(data).is_file() else None
        rows = res.clock.rows if res.clock is not None else np.arange(len(frame))
        if kept is not None and len(kept) == len(rows):
            for col in kept.columns:
                if len(rows) == len(frame):
                    frame[col] = kept[col].to_numpy()
                else:  # rows added for an outage have none of them
                    column = np.full(len(frame), None, dtype=object)
                    column[rows] = kept[col].to_numpy()
                    frame[col] = column
    else:
        frames = []
        for asset, res in results.items():
            f = res.filled
            steps, chans = np.meshgrid(np.arange(f.n_steps), np.arange(f.n_channels), indexing="ij")
            steps, chans = steps.ravel(), chans.ravel()
            part = pd.DataFrame(
                {
                    "ts": f.timestamps[steps],
                    "asset": asset,
                    "signal": np.asarray(f.channels, dtype=object)[chans],
                    "value": f.values[steps, chans],
                    "imputed": np.isnan(res.original.values[steps, chans]).astype(int),
                }
            )
            if with_interval:
                part["lower"] = res.lower.values[steps, chans]
                part["upper"] = res.upper.values[steps, chans]
            frames.append(part)
            if res.left_out is not None:
                frames.append(_long_rows(res.left_out, asset, with_interval))
        frame = pd.concat(frames, ignore_index=True)
    out = Path(out)
    write_frame(frame, out, layout=first.layout)
    return out


def _long_rows(series: SensorSeries, asset: str, with_interval: bool) -> pd.DataFrame:
    """Long rows of signals written back as they were read (gaps stay gaps, ``imputed`` 0)."""
    steps, chans = np.meshgrid(np.arange(series.n_steps), np.arange(series.n_channels), indexing="ij")
    steps, chans = steps.ravel(), chans.ravel()
    values = series.values[steps, chans]
    part = pd.DataFrame({"ts": series.timestamps[steps], "asset": asset,
                         "signal": np.asarray(series.channels, dtype=object)[chans], "value": values,
                         "imputed": 0})  # fmt: skip
    if with_interval:
        part["lower"] = part["upper"] = values
    return part.dropna(subset=["value"])
