"""RegimeGuided: every draw asked for is a guided draw (the nearest of its own group)."""

from __future__ import annotations

import numpy as np

from geniot.data.windows import make_windows
from geniot.models.gaussian import GaussianBaseline
from geniot.workflows.regimes import RegimeGuided, RegimeSet


def test_impute_gives_as_many_guided_draws_as_asked():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(600, 2)) * 3.0  # one broad mode: guidance has room to choose
    gen = GaussianBaseline().fit(make_windows(values, 8, 1))
    regimes = RegimeSet(("low", "high"), np.array([[-3.0, -3.0], [3.0, 3.0]]), np.ones(2), np.ones(2), "test", (300, 300))
    guided = RegimeGuided(gen, regimes, "high")
    X = make_windows(values[:80], 8, 8)
    mask = np.ones(X.shape, dtype=bool)
    mask[:, -3:] = False
    draws = guided.impute(np.where(mask, X, np.nan), mask, n_draws=5, random_state=0)
    assert draws.shape == (5, *X.shape)
    assert np.array_equal(draws[:, mask], np.broadcast_to(X[mask], (5, int(mask.sum()))))
    assert len({d.tobytes() for d in draws}) == 5  # five different draws, not one repeated
    plain = gen.impute(np.where(mask, X, np.nan), mask, n_draws=5, random_state=0)
    free = ~mask
    assert draws[:, free].mean() > plain[:, free].mean() + 1.0  # each is pulled towards "high"
