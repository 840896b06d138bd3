"""A fleet model of the sequential FDI tests (geniot.federated.security_fleet): the federated fit,
from the sites' summed moment statistics, is the centralized fit on their pooled windows; a
local fit is not; the detector's fleet fit keeps every other model per site."""

from __future__ import annotations

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.simulate import simulate_attacked
from geniot.federated.security_fleet import fit_fleet, fleet_others, site_sums
from geniot.security import SecurityDetector, messages_from_frame
from geniot.security.lagged import LAG_MINUTES
from geniot.security.sequential import SequentialResidualTest

FITTED = ("mean_", "cov_", "scale_", "threshold_")


def site(n: int, seed: int, gain: float) -> np.ndarray:
    """One pump's two coupled sensors; the sites differ in level, scale and coupling."""
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.967 * x[t - 1] + 0.26 * rng.standard_normal()
    y = gain * x + 0.05 * rng.standard_normal(n)
    return np.stack([10.0 * seed + x + 0.02 * rng.standard_normal(n), y], axis=1)


@pytest.fixture(scope="module")
def sites():
    return {f"P-{k}": site(1200 + 300 * k, seed=k, gain=1.5 + 0.5 * k) for k in range(3)}


def fitted(sites, mode):
    test = SequentialResidualTest(window=8)
    others = fleet_others({a: test.site_windows(v) for a, v in sites.items()}, mode)
    return {a: SequentialResidualTest(window=8).fit(v, None if others is None else others[a]) for a, v in sites.items()}


def test_federated_fit_is_the_centralized_fit_and_differs_from_local(sites):
    fed, central, local = (fitted(sites, m) for m in ("federated", "centralized", "local"))
    for a in sites:
        for name in FITTED:
            np.testing.assert_allclose(getattr(fed[a], name), getattr(central[a], name), rtol=1e-8, atol=1e-10, err_msg=f"{a} {name}")
        assert not np.allclose(fed[a].cov_, local[a].cov_, atol=1e-3), a  # the fleet's data did change the model
        np.testing.assert_array_equal(fed[a].center_, local[a].center_)  # standardisation stays the site's own


def test_a_site_sends_sums_not_windows(sites):
    windows = SequentialResidualTest(window=8).site_windows(sites["P-0"])
    sent = site_sums(windows)
    assert set(sent) == {"n_windows", "total", "cross"}
    d = 2 * 8 + 2 * len(LAG_MINUTES)  # a window of 8 steps of 2 sensors, and their lagged views
    assert windows.shape[1] == d and sent["cross"].shape == (d, d) and sent["n_windows"][0] == len(windows)


def test_a_fleet_of_one_or_an_unknown_mode_is_refused(sites):
    windows = {"P-0": SequentialResidualTest(window=8).site_windows(sites["P-0"])}
    with pytest.raises(DataError, match="two or more sites"):
        fleet_others(windows, "federated")
    with pytest.raises(DataError, match="fleet mode"):
        fleet_others(windows, "gossip")


def test_detector_fleet_fit_federated_equals_centralized_on_the_simulated_plant():
    _, _, history = simulate_attacked(n_assets=2, days=0.1, seed=5, history_days=1.0, attacks=(), fault_rate=0.0)
    normal = messages_from_frame(history.messages)[0]
    fed = fit_fleet(SecurityDetector(), normal, "federated")
    central = fit_fleet(SecurityDetector(), normal, "centralized")
    local = fit_fleet(SecurityDetector(), normal, "local")
    for a in fed.sequential_:
        np.testing.assert_allclose(fed.sequential_[a].threshold_, central.sequential_[a].threshold_, rtol=1e-8)
        assert not np.allclose(fed.sequential_[a].cov_, local.sequential_[a].cov_, atol=1e-3)
        assert fed.assets_[a].joint_threshold_ == local.assets_[a].joint_threshold_  # the consistency model stays per site
