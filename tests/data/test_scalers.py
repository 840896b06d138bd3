"""Scalers: exact inverse, NaN ignored, constant channels, JSON state, clear errors."""

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from geniot.core.exceptions import DataError, NotFittedError
from geniot.data import MinMaxScaler, StandardScaler

SCALERS = [StandardScaler, MinMaxScaler]
windows_with_gaps = hnp.arrays(
    np.float64,
    hnp.array_shapes(min_dims=3, max_dims=3, min_side=1, max_side=6),
    elements=st.one_of(st.floats(-1e6, 1e6), st.just(np.nan)),
)


@pytest.mark.parametrize("cls", SCALERS)
@settings(max_examples=40, deadline=None)
@given(x=windows_with_gaps)
def test_inverse_undoes_transform(cls, x):
    if np.isnan(x).all(axis=(0, 1)).any():
        return  # an all-NaN channel cannot be fitted (tested below)
    scaler = cls().fit(x)
    y = scaler.transform(x)
    assert np.array_equal(np.isnan(y), np.isnan(x))
    np.testing.assert_allclose(scaler.inverse_transform(y), x, rtol=1e-9, atol=1e-6)


def test_statistics_ignore_nan():
    x = np.array([[0.0, 5.0], [np.nan, 5.0], [10.0, 5.0]])
    std = StandardScaler().fit(x)
    np.testing.assert_allclose(std.mean_, [5.0, 5.0])
    np.testing.assert_allclose(std.transform(x)[:, 1], 0.0)  # constant channel: no division by zero
    mm = MinMaxScaler(feature_range=(-1.0, 1.0)).fit(x)
    np.testing.assert_allclose(mm.transform(x)[[0, 2], 0], [-1.0, 1.0])
    assert np.isfinite(mm.transform(x)[:, 1]).all()


@pytest.mark.parametrize("cls", SCALERS)
def test_json_state_round_trip(cls):
    x = np.random.default_rng(0).normal(size=(4, 5, 3))
    scaler = cls().fit(x)
    loaded = cls.from_dict(json.loads(json.dumps(scaler.to_dict())))
    np.testing.assert_array_equal(loaded.transform(x), scaler.transform(x))


@pytest.mark.parametrize("cls", SCALERS)
def test_errors(cls):
    x = np.ones((3, 2))
    x[:, 1] = np.nan
    with pytest.raises(DataError, match="channel 1 has no observed values"):
        cls().fit(x)
    with pytest.raises(NotFittedError):
        cls().transform(np.ones((3, 2)))
    with pytest.raises(DataError, match="fitted on 2 channels"):
        cls().fit(np.ones((3, 2))).transform(np.ones((3, 3)))
    with pytest.raises(DataError, match="expected a saved"):
        cls.from_dict({"name": "Other", "params": {}, "state": {}})
