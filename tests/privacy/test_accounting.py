"""geniot's own RDP accountant against Opacus' (two independent implementations must agree)."""

from __future__ import annotations

import math

import pytest

from geniot.core.exceptions import GeniotError
from geniot.privacy.accounting import epsilon_spent, noise_for_epsilon, rdp_sampled_gaussian

opacus_rdp = pytest.importorskip("opacus.accountants")

# Abadi et al.'s MNIST setting (batch 256 of 60,000, sigma 1.1, 60 epochs) and two harsher ones.
SETTINGS = [(256 / 60_000, 1.1, 14_063, 1e-5), (0.05, 0.7, 1_000, 1e-5), (0.2, 2.0, 50, 1e-3)]


def _opacus_epsilon(q, sigma, steps, delta, alphas=None):
    acc = opacus_rdp.RDPAccountant()
    acc.history = [(sigma, q, steps)]
    eps, _ = acc.get_privacy_spent(delta=delta, alphas=alphas)
    return eps


@pytest.mark.filterwarnings("ignore:Optimal order")
@pytest.mark.parametrize("q, sigma, steps, delta", SETTINGS)
def test_matches_opacus_at_the_same_integer_orders(q, sigma, steps, delta):
    ours, _ = epsilon_spent(q, sigma, steps, delta)
    theirs = _opacus_epsilon(q, sigma, steps, delta, alphas=list(range(2, 257)))
    assert ours == pytest.approx(theirs, rel=1e-6)


@pytest.mark.filterwarnings("ignore:Optimal order")
@pytest.mark.parametrize("q, sigma, steps, delta", SETTINGS)
def test_never_below_opacus_with_its_fractional_orders(q, sigma, steps, delta):
    # Opacus also searches fractional orders, so it may be a little tighter, never looser.
    ours, _ = epsilon_spent(q, sigma, steps, delta)
    theirs = _opacus_epsilon(q, sigma, steps, delta)
    assert theirs <= ours + 1e-9
    assert ours <= 1.05 * theirs


def test_full_batch_is_the_plain_gaussian_mechanism():
    # Without subsampling RDP(a) = a / (2 sigma^2) exactly.
    for order in (2, 7, 32):
        assert rdp_sampled_gaussian(1.0, 1.3, order) == pytest.approx(order / (2 * 1.3**2))
        # q -> 1 from below tends to the same value
        assert rdp_sampled_gaussian(1 - 1e-9, 1.3, order) == pytest.approx(order / (2 * 1.3**2), rel=1e-6)


def test_the_known_mnist_budget():
    # Abadi et al.'s MNIST run is commonly quoted at epsilon about 2.6 with RDP accounting
    # (the moments accountant of 2016 gave about 2.9 with a looser conversion).
    eps, _ = epsilon_spent(256 / 60_000, 1.1, 14_063, 1e-5)
    assert 2.4 < eps < 2.9


def test_noise_for_epsilon_inverts_epsilon_spent():
    q, steps, delta = 128 / 2500, 1000, 1e-5
    for target in (1.0, 3.0, 10.0):
        sigma = noise_for_epsilon(target, delta, q, steps)
        assert epsilon_spent(q, sigma, steps, delta)[0] <= target
        assert epsilon_spent(q, sigma * 0.98, steps, delta)[0] > target


def test_more_noise_or_fewer_steps_spend_less():
    base = epsilon_spent(0.05, 1.0, 500, 1e-5)[0]
    assert epsilon_spent(0.05, 2.0, 500, 1e-5)[0] < base
    assert epsilon_spent(0.05, 1.0, 100, 1e-5)[0] < base
    assert epsilon_spent(0.05, 1.0, 0, 1e-5)[0] == 0.0


@pytest.mark.parametrize(
    "kwargs", [{"q": 0.0}, {"q": 1.5}, {"sigma": 0.0}, {"order": 1}, {"order": 2.5}]
)
def test_bad_arguments_are_named(kwargs):
    args = {"q": 0.1, "sigma": 1.0, "order": 4, **kwargs}
    with pytest.raises(GeniotError):
        rdp_sampled_gaussian(**args)


def test_bad_delta_is_refused():
    with pytest.raises(GeniotError, match="delta"):
        epsilon_spent(0.1, 1.0, 10, 0.0)
    assert math.isfinite(epsilon_spent(0.1, 1.0, 10, 1e-5)[0])
