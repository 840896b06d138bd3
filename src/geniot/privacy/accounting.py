"""Privacy accounting of DP-SGD: Rényi DP of the Poisson-subsampled Gaussian mechanism.

geniot's own implementation, independent of Opacus, used to cross-check Opacus' accountant
(which :class:`~geniot.privacy.DPGenerator` uses for its guarantee) and to plan runs without
training. Integer Rényi orders only, where the RDP of the sampled Gaussian has an exact closed
form (Mironov, Talwar and Zhang 2019, "Rényi Differential Privacy of the Sampled Gaussian
Mechanism", section 3.3):

    A_a = sum_{k=0..a} C(a, k) (1 - q)^(a - k) q^k exp((k^2 - k) / (2 sigma^2))
    RDP(a) = log(A_a) / (a - 1)        per step; T steps compose to T * RDP(a)

and the conversion to (epsilon, delta) of Balle et al. 2020 (Theorem 21), as Opacus 1.6 does:

    epsilon = min_a  T RDP(a) + log((a - 1) / a) - (log(delta) + log(a)) / (a - 1)

Restricting to integer orders gives an epsilon no smaller than Opacus' (which also searches
fractional orders), so a plan made here is never optimistic.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.special import gammaln, logsumexp

from geniot.core.exceptions import GeniotError

__all__ = ["DEFAULT_ORDERS", "epsilon_spent", "noise_for_epsilon", "rdp_sampled_gaussian"]

#: integer Rényi orders searched by default
DEFAULT_ORDERS: tuple[int, ...] = tuple(range(2, 257))


def _check(q: float, sigma: float) -> None:
    if not 0.0 < q <= 1.0:
        raise GeniotError(f"sample rate must be in (0, 1], got {q}")
    if not sigma > 0.0:
        raise GeniotError(f"noise multiplier must be positive, got {sigma}")


def rdp_sampled_gaussian(q: float, sigma: float, order: int) -> float:
    """RDP at integer ``order`` of one step of the Gaussian mechanism on a Poisson sample of rate q."""
    _check(q, sigma)
    a = int(order)
    if a != order or a < 2:
        raise GeniotError(f"Rényi order must be an integer >= 2, got {order}")
    if q == 1.0:
        return a / (2.0 * sigma**2)
    k = np.arange(a + 1, dtype=np.float64)
    log_binom = gammaln(a + 1) - gammaln(k + 1) - gammaln(a - k + 1)
    terms = log_binom + (a - k) * math.log1p(-q) + k * math.log(q) + (k * k - k) / (2.0 * sigma**2)
    return float(logsumexp(terms) / (a - 1))


def epsilon_spent(
    q: float, sigma: float, steps: int, delta: float, orders=DEFAULT_ORDERS
) -> tuple[float, int]:
    """(epsilon, best order) after ``steps`` steps of DP-SGD at sample rate q and noise sigma."""
    if not 0.0 < delta < 1.0:
        raise GeniotError(f"delta must be in (0, 1), got {delta}")
    if steps <= 0:
        return 0.0, int(orders[0])
    a = np.asarray(orders, dtype=np.float64)
    rdp = np.array([rdp_sampled_gaussian(q, sigma, int(o)) for o in orders]) * int(steps)
    eps = rdp + np.log((a - 1) / a) - (math.log(delta) + np.log(a)) / (a - 1)
    i = int(np.nanargmin(eps))
    return float(max(eps[i], 0.0)), int(orders[i])


def noise_for_epsilon(
    epsilon: float, delta: float, q: float, steps: int, *, tolerance: float = 0.005
) -> float:
    """The smallest noise multiplier (to ``tolerance``) whose epsilon after ``steps`` is <= ``epsilon``."""
    if not epsilon > 0:
        raise GeniotError(f"epsilon must be positive, got {epsilon}")
    lo, hi = 0.05, 1.0
    while epsilon_spent(q, hi, steps, delta)[0] > epsilon:
        hi *= 2.0
        if hi > 1e4:
            raise GeniotError(f"no noise multiplier reaches epsilon={epsilon} in {steps} steps")
    while hi - lo > tolerance * hi:
        mid = 0.5 * (lo + hi)
        if epsilon_spent(q, mid, steps, delta)[0] > epsilon:
            lo = mid
        else:
            hi = mid
    return hi
