"""What the tools see of a plant: its store (read only), its models and its clock."""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from geniot.core.base import BaseGenerator
from geniot.data.series import SensorSeries
from geniot.data.simulate import UNITS
from geniot.data.store import SensorStore
from geniot.tasks import AnomalyDetector
from geniot.workflows.asset_detector import history_detector, train_asset_detector


class PlantView:
    """Read access to one store plus the per-asset Gaussian models the model tools use.

    A model is the one saved as ``models_dir/<asset>-gaussian`` (by the demo, the service or
    ``scan_history``) or, when there is none, one fitted on the asset's history and kept in memory.
    Outputs the tools write (filled gaps, synthetic data) go to ``out_dir``, never to the store.
    """

    def __init__(self, store: SensorStore, *, models_dir: Path | None = None, out_dir: Path | None = None,
                 now: datetime | None = None) -> None:  # fmt: skip
        self.store = store
        self.models_dir = None if models_dir is None else Path(models_dir)
        self.out_dir = Path(out_dir) if out_dir is not None else Path("geniot-answers")
        self._now = now
        self._models: dict[str, BaseGenerator] = {}
        self._lock = threading.Lock()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the asset and signal lists (the service's store grows while it runs)."""
        self.assets = self.store.assets()
        self.signals = {a: self.store.signals(a) for a in self.assets}
        self.all_signals = sorted({s for sig in self.signals.values() for s in sig})
        spans = [self.store.time_range(a) for a in self.assets]
        self._latest = max(e for _, e in spans).to_pydatetime() if spans else datetime.now()
        self.first = min(s for s, _ in spans).to_pydatetime() if spans else self._latest

    @property
    def now(self) -> datetime:
        """The plant's clock: the latest stored reading (or the time given)."""
        return self._now if self._now is not None else self._latest

    @staticmethod
    def unit(signal: str) -> str:
        """The store keeps no units; the simulator's signals have known ones."""
        return UNITS.get(signal, "")

    def readings(self, asset: str, signal: str, start=None, end=None) -> pd.Series:
        long = self.store.read_long(asset, start=start, end=end, signals=[signal])
        return pd.Series(long["value"].to_numpy(), index=pd.DatetimeIndex(long["ts"]), name=signal)

    def series(self, asset: str, start=None, end=None) -> SensorSeries:
        return self.store.read_wide(asset, start=start, end=end)

    def regular(self, asset: str, start=None, end=None) -> SensorSeries:
        """The asset's series on its regular time grid over ``[start, end)`` (as far as the data
        reaches when a bound is None): timestamps where nothing arrived become rows of NaN, so
        an outage is a gap to fill and not a jump in time."""
        series = self.series(asset, start, end)
        ts = pd.DatetimeIndex(series.timestamps)
        if len(ts) < 3:
            return series
        step = pd.Timedelta(np.median(np.diff(ts.asi8)))
        first, last = ts[0], ts[-1]
        if start is not None:  # extend the grid, on the data's phase, to the range's bounds
            first -= ((first - pd.Timestamp(start)) // step) * step
        if end is not None:
            last += ((pd.Timestamp(end) - step - last) // step) * step
        grid = pd.date_range(first, last, freq=step)
        values = pd.DataFrame(series.values, index=ts).reindex(grid).to_numpy()
        return SensorSeries(grid.to_numpy(), values, series.channels, asset=asset, source=series.source)

    def model(self, asset: str) -> BaseGenerator:
        """The asset's fitted Gaussian generator (window over all its signals)."""
        with self._lock:
            if asset not in self._models:
                folder = None if self.models_dir is None else self.models_dir / f"{asset}-gaussian"
                if folder is not None and (folder / "detector.json").is_file():
                    self._models[asset] = AnomalyDetector.load(folder).generator_
                else:
                    detector = train_asset_detector(self.regular(asset), asset, detector=history_detector())
                    self._models[asset] = detector.generator_
            return self._models[asset]
