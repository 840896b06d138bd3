"""A site's own data, read where it lies: the client turns it into windows and never sends it.

A site is given as a path on the client's machine:

* a data file (``.csv``, ``.parquet``): every asset in it is one series;
* a folder: every data file in it (sorted by name), e.g. one file per experiment;
* a DuckDB store (``.duckdb``, ``.db``): every asset in the store is one series.

Each series is split as :class:`geniot.tasks.AnomalyDetector` splits its normal data: the first
``train_rows`` rows are normal (all rows when ``train_rows`` is None); of those, the latest
``calibration_fraction`` (at least one window) calibrate the threshold and the rest train the
model. Rows after ``train_rows`` are the test part, scored where the file has an ``anomaly``
column.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from geniot.core.exceptions import DataError
from geniot.data.io import read_labels, read_table
from geniot.data.series import SensorSeries
from geniot.data.windows import make_windows

DATA_SUFFIXES = (".csv", ".parquet", ".pq")
STORE_SUFFIXES = (".duckdb", ".db")


@dataclass(frozen=True)
class SiteSeries:
    """One series of a site, split into its parts (values in the federation's channel order)."""

    name: str
    values: np.ndarray  # (n_rows, n_channels), NaN = gap
    fit_rows: int  # rows [0, fit_rows) train the model
    normal_rows: int  # rows [calibration_start, normal_rows) calibrate; rows >= normal_rows: test part
    labels: np.ndarray | None  # (n_rows,) bool, or None
    calibration_start: int  # fit_rows, or 0 when nothing is held out (calibrate on training rows)

    @property
    def fit_part(self) -> np.ndarray:
        return self.values[: self.fit_rows]

    @property
    def calibration_part(self) -> np.ndarray:
        return self.values[self.calibration_start : self.normal_rows]

    @property
    def has_test_labels(self) -> bool:
        return self.labels is not None and self.normal_rows < len(self.values)


@dataclass(frozen=True)
class SiteData:
    """Everything a client learns from: its series, their channels, and the windows."""

    source: str
    channels: tuple[str, ...]
    series: tuple[SiteSeries, ...]
    window: int
    stride: int

    def fit_windows(self) -> np.ndarray:
        """Training windows of all series, (n, window, c)."""
        return np.concatenate([make_windows(s.fit_part, self.window, self.stride) for s in self.series])

    def calibration_windows(self) -> list[np.ndarray]:
        """Calibration windows per series (scores are smoothed within a series, never across)."""
        return [make_windows(s.calibration_part, self.window) for s in self.series if len(s.calibration_part)]

    def reorder(self, channels: list[str] | tuple[str, ...]) -> SiteData:
        """The same data with channels in the federation's order."""
        channels = tuple(channels)
        if channels == self.channels:
            return self
        if sorted(channels) != sorted(self.channels):
            raise DataError(
                f"site has channels {list(self.channels)}, the federation uses {list(channels)}",
                file=self.source,
            )
        index = [self.channels.index(c) for c in channels]
        series = tuple(
            SiteSeries(s.name, s.values[:, index], s.fit_rows, s.normal_rows, s.labels, s.calibration_start) for s in self.series
        )
        return SiteData(self.source, channels, series, self.window, self.stride)


def site_files(spec: str | Path) -> list[Path]:
    """The data files or store that make up a site (clear error when there are none)."""
    path = Path(spec).expanduser()
    if not path.exists():
        raise DataError("site data not found", file=str(path))
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in DATA_SUFFIXES + STORE_SUFFIXES)
        if not files:
            raise DataError(f"folder holds no data file ({', '.join(DATA_SUFFIXES + STORE_SUFFIXES)})", file=str(path))
        return files
    if path.suffix.lower() not in DATA_SUFFIXES + STORE_SUFFIXES:
        raise DataError(
            f"a site is a data file ({', '.join(DATA_SUFFIXES)}), a DuckDB store "
            f"({', '.join(STORE_SUFFIXES)}) or a folder of them; got {path.suffix or 'no extension'!r}",
            file=str(path),
        )
    return [path]


def _read_file(path: Path) -> list[tuple[str, SensorSeries, np.ndarray | None]]:
    if path.suffix.lower() in STORE_SUFFIXES:
        from geniot.data.store import SensorStore

        with SensorStore(path) as store:
            return [(f"{path.name}:{a}", store.read_wide(a), None) for a in store.assets()]
    table = read_table(path)
    labels = None
    if len(table) == 1:
        frame = read_labels(path)
        if frame is not None and "anomaly" in frame.columns:
            labels = np.asarray(frame["anomaly"], dtype=float) > 0
    return [(f"{path.name}:{name}" if len(table) > 1 else path.name, s, labels) for name, s in table.items()]


def load_site(
    spec: str | Path,
    *,
    window: int,
    stride: int = 1,
    train_rows: int | None = None,
    calibration_fraction: float = 0.25,
    normalize: str = "none",
) -> SiteData:
    """Read a site's data and split every series into training, calibration and test rows
    (``normalize="series"``: each series standardised by its own normal rows' mean and std)."""
    series: list[SiteSeries] = []
    channels: tuple[str, ...] | None = None
    for path in site_files(spec):
        for name, s, labels in _read_file(path):
            if channels is None:
                channels = tuple(s.channels)
            elif sorted(s.channels) != sorted(channels):
                raise DataError(f"series {name!r} has channels {list(s.channels)}, the site's first has {list(channels)}", file=str(path))
            values = s.values[:, [list(s.channels).index(c) for c in channels]]
            part = _split(name, values, labels, window, train_rows, calibration_fraction, str(path))
            series.append(_standardised(part) if normalize == "series" else part)
    if not series:
        raise DataError("site holds no series", file=str(spec))
    return SiteData(str(spec), channels, tuple(series), int(window), int(stride))


def _split(name, values, labels, window, train_rows, calibration_fraction, source) -> SiteSeries:
    n = len(values)
    normal = n if train_rows is None else min(int(train_rows), n)
    n_cal = int(round(normal * float(calibration_fraction)))
    if n_cal and n_cal < window:
        n_cal = window  # at least one whole window to calibrate on
    fit_rows = normal - n_cal
    if fit_rows < window:
        raise DataError(
            f"series {name!r}: {fit_rows} training rows are fewer than one window of {window}", file=source
        )
    if labels is not None and len(labels) != n:
        labels = None
    return SiteSeries(name, values, fit_rows, normal, labels, fit_rows if n_cal else 0)


def _standardised(s: SiteSeries) -> SiteSeries:
    normal = s.values[: s.normal_rows]
    mean = np.nanmean(normal, axis=0)
    std = np.nanstd(normal, axis=0)
    std = np.where(std > 0, std, 1.0)
    return dataclasses.replace(s, values=(s.values - mean) / std)
