"""A fleet model of the security detector's sequential FDI tests, sites = assets (pumps).

Each site standardises its own normal windows (its centre and spread stay there) and sends only
their moment statistics (``gaussian_stats.moment_stats`` and ``centred_stats`` about zero: window
count, sums, cross-products); the server sums them and gives each site the sum over the *other*
sites. The site then fits its sequential tests on its own windows plus those sums and calibrates
them (scales, thresholds) on its own data alone. Because the model is a Gaussian over
standardised windows without shrinkage, this is exactly the model fitted on every site's windows
pooled in one place (``centralized``); ``local`` is each site alone (the detector's default).
The consistency model, replay memory and traffic profiles stay per site in every mode.
"""

from __future__ import annotations

import numpy as np

from geniot.core.exceptions import DataError
from geniot.federated.gaussian_stats import centred_stats, moment_stats, sum_stats
from geniot.security import SecurityDetector
from geniot.security.messages import Message

MODES = ("local", "federated", "centralized")


def site_sums(windows: np.ndarray) -> dict[str, np.ndarray]:
    """What one site sends: three sums over its standardised windows, never a window."""
    moments = moment_stats(windows)
    centred = centred_stats(windows, np.zeros(windows.reshape(len(windows), -1).shape[1]))
    return {"n_windows": moments["n_windows"], "total": moments["total"], "cross": centred["cross"]}


def fleet_others(windows: dict[str, np.ndarray], mode: str) -> dict | None:
    """{site: the rest of the fleet} as the sequential tests take it: pooled windows
    (centralized) or summed statistics (federated); None for local."""
    if mode not in MODES:
        raise DataError(f"fleet mode {mode!r}: use one of {', '.join(MODES)}")
    if mode == "local":
        return None
    if len(windows) < 2:
        raise DataError(f"a fleet needs two or more sites, got {len(windows)}")
    if mode == "centralized":
        return {a: np.concatenate([w for b, w in windows.items() if b != a]) for a in windows}
    sent = {a: site_sums(w) for a, w in windows.items()}  # computed at each site
    return {a: sum_stats([s for b, s in sent.items() if b != a]) for a in windows}


def fit_fleet(detector: SecurityDetector, messages: list[Message], mode: str = "federated") -> SecurityDetector:
    """Fit ``detector`` on normal messages of several sites with its sequential tests trained as
    one fleet (``mode``); every site's other models are fitted on its own messages only."""
    if mode == "local":
        return detector.fit(messages)
    per_site = detector.sequential_windows(messages)
    layouts = {tuple(ch) for ch, _ in per_site.values()}
    if len(layouts) != 1:
        raise DataError(f"a fleet model needs the same sensors at every site, got {sorted(layouts)}")
    return detector.fit(messages, others=fleet_others({a: w for a, (_, w) in per_site.items()}, mode))
