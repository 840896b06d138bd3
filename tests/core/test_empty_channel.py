"""A channel with no reading at all is refused by name, not by position."""

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.models.gaussian import GaussianBaseline


def test_an_empty_channel_is_named():
    X = np.random.default_rng(0).normal(size=(20, 4, 3))
    X[:, :, 1] = np.nan
    with pytest.raises(DataError, match=r"\['dead'\] have no observed value"):
        GaussianBaseline().fit(X, channels=["flow", "dead", "temp"])
