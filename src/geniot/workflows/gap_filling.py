"""Fill the gaps of a data file with a saved generator and write it back in its own layout."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import DataError
from geniot.data.io import file_layout, read_table, untouched_columns, write_frame
from geniot.data.series import SensorSeries
from geniot.models.loading import load_generator
from geniot.tasks.imputer_selection import SelectingImputer, Selection


@dataclass(frozen=True)
class FilledSeries:
    original: SensorSeries
    filled: SensorSeries
    lower: SensorSeries
    upper: SensorSeries
    selection: Selection | None = None

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
    out = {asset: fill_series(generator, series, **settings) for asset, series in table.items()}
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
    filled, lower, upper, selection = imputer.transform(in_model_order(series, generator))
    return FilledSeries(series, filled, lower, upper, selection)


def in_model_order(series: SensorSeries, generator: BaseGenerator) -> SensorSeries:
    """The series with its channels in the model's order (a file may order columns differently);
    a missing or unexpected channel is left for the imputer to report by name."""
    names = generator.channel_names_
    if names and set(names) == set(series.channels) and list(names) != list(series.channels):
        return series.select(list(names))
    return series


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
        for name, column in res.original.categorical.items():
            frame[name] = pd.Series(column, dtype=object)
        if with_interval:
            for name in res.filled.channels:
                j = res.filled.channels.index(name)
                frame[f"{name}_lower"] = res.lower.values[:, j]
                frame[f"{name}_upper"] = res.upper.values[:, j]
        kept = untouched_columns(data, res.original.layout) if Path(data).is_file() else None
        if kept is not None and len(kept) == len(frame):
            for col in kept.columns:
                frame[col] = kept[col].to_numpy()
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
        frame = pd.concat(frames, ignore_index=True)
    out = Path(out)
    write_frame(frame, out, layout=first.layout)
    return out
