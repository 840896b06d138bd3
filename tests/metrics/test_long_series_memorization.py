"""The memorization verdict says "copies" only when the model copies: a holdout from another
time span (a shifted machine) must not make fresh samples look like copies; and the default
holdout is interleaved blocks over the whole span."""

import numpy as np

from geniot.data.splits import interleaved_holdout
from geniot.metrics import memorization
from geniot.models import GaussianBaseline


def _windows(n, shift=0.0, seed=0):
    """AR(1) windows (a Gaussian process: the Gaussian reference is a fair stand-in for fresh
    samples; on strongly non-Gaussian windows it lies farther, see docs/notes/synth.md)."""
    rng = np.random.default_rng(seed)
    x = np.zeros((n, 24, 2))
    x[:, 0] = rng.standard_normal((n, 2))
    for t in range(1, 24):
        x[:, t] = 0.8 * x[:, t - 1] + 0.6 * rng.standard_normal((n, 2))
    return x + shift


def test_shifted_holdout_is_not_called_copying_but_a_copy_is():
    train, shifted = _windows(600, seed=1), _windows(300, shift=2.5, seed=2)
    fresh = _windows(600, seed=3)  # a model that learned the distribution and copies nothing
    reference = GaussianBaseline().fit(train).sample(600, random_state=0)
    plain = memorization(train, fresh, shifted)
    assert plain["memorized"] is True  # the plain DCR test is fooled by the shift
    fixed = memorization(train, fresh, shifted, reference=reference)
    assert fixed["memorized"] is False
    assert fixed["memorization_verdict"].startswith("no copies")
    assert "differ from the training span" in fixed["memorization_verdict"]
    assert fixed["dcr_ratio_to_reference"] > 0.5
    copy = memorization(train, train[:300] + 1e-3, shifted, reference=reference)
    assert copy["memorized"] is True and copy["memorization_verdict"].startswith("copies")


def test_interleaved_holdout_spreads_blocks_over_the_span_with_gaps():
    train, held = interleaved_holdout(1000, 0.2, gap=24)
    assert 0.18 < len(held) / 1000 < 0.22
    assert held.min() < 200 and held.max() > 900  # early and late, not only the latest
    assert not set(train) & set(held)
    # No training window lies within the gap of a held-out one (overlapping windows would leak).
    dist = np.abs(train[:, None] - held[None, :]).min(axis=1)
    assert dist.min() > 24
