"""The normalizing flow: invertible, an exact density that ranks typical windows first, and
imputation that uses the other channels."""

from __future__ import annotations

import numpy as np
import torch

from geniot.models import FlowGenerator
from geniot.models.flow.model import fill_by_interpolation

torch.set_num_threads(1)


def coupled(n: int, seed: int) -> np.ndarray:
    """Two channels that move together (the second is twice the first) and a noisy third."""
    rng = np.random.default_rng(seed)
    a = np.cumsum(rng.normal(0, 0.3, size=(n, 8)), axis=1) + rng.normal(0, 1, size=(n, 1))
    return np.stack([a, 2 * a + rng.normal(0, 0.05, size=a.shape), rng.normal(5, 1, size=a.shape)], axis=2)


def fitted() -> tuple[FlowGenerator, np.ndarray]:
    X = coupled(600, 0)
    model = FlowGenerator(n_layers=4, hidden=64, epochs=60, batch_size=64, patience=None, impute_steps=150, random_state=0)
    return model.fit(X), X


def test_the_flow_inverts_exactly():
    model, X = fitted()
    net = model.module_
    x = torch.randn(5, net.dim)
    z = x
    for layer, perm in zip(net.layers, net.perms, strict=True):
        z, _ = layer(z, None)
        z = z[:, perm]
    back = z
    for layer, inv in zip(reversed(net.layers), reversed(net.inverse_perms), strict=True):
        back = layer.inverse(back[:, inv], None)
    torch.testing.assert_close(back, x, atol=1e-4, rtol=1e-4)


def test_the_density_ranks_typical_windows_above_broken_ones():
    model, _ = fitted()
    good = coupled(200, 1)
    broken = good.copy()
    broken[:, :, 1] = -broken[:, :, 1]  # the coupling between channels 0 and 1 is gone
    s_good, s_bad = model.score_samples(good), model.score_samples(broken)
    auc = (s_good[:, None] > s_bad[None, :]).mean()
    assert auc > 0.95, auc


def test_imputation_uses_the_coupled_channel():
    model, _ = fitted()
    X = coupled(60, 2)
    mask = np.ones(X.shape, dtype=bool)
    mask[:, 2:6, 1] = False  # a gap in channel 1, channel 0 observed
    draws = model.impute(np.where(mask, X, np.nan), mask, n_draws=4, random_state=0)
    flow_err = np.abs(draws.mean(axis=0)[~mask] - X[~mask]).mean()
    line_err = np.abs(fill_by_interpolation(X, mask, X.mean(axis=(0, 1)))[~mask] - X[~mask]).mean()
    assert flow_err < 0.7 * line_err, (flow_err, line_err)
