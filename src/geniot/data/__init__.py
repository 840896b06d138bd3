"""L1 data layer: SensorSeries, file I/O, the DuckDB store, windows, masks, scalers, splits.

Torch-free; imports only ``geniot.core`` and numpy/pandas/pyarrow/duckdb. The plant simulator
lives in ``geniot.data.simulate`` and is imported from there.
"""

from geniot.data.io import normalize_long, read_labels, read_series, read_table, write_table
from geniot.data.scalers import MinMaxScaler, StandardScaler
from geniot.data.series import SensorSeries
from geniot.data.splits import split_by_asset, split_by_time, train_val_test
from geniot.data.store import SensorStore
from geniot.data.windows import make_windows, random_masks, window_starts, windows_to_series

__all__ = [
    "MinMaxScaler",
    "SensorSeries",
    "SensorStore",
    "StandardScaler",
    "make_windows",
    "normalize_long",
    "random_masks",
    "read_labels",
    "read_series",
    "read_table",
    "split_by_asset",
    "split_by_time",
    "train_val_test",
    "window_starts",
    "windows_to_series",
    "write_table",
]
