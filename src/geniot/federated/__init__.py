"""L4: federated training with Flower — raw sensor data never leaves a site.

A site (a data file, a folder of files or a DuckDB store, read where it lies) answers the server's
messages with sums, weights and scores only. The Gaussian baseline is fitted exactly from summed
sufficient statistics; torch generators train in rounds of FedAvg or FedProx (optionally with
clipped, noised updates); the anomaly threshold is the pooled peaks-over-threshold rule, computed
exactly from each site's largest calibration scores. The same apps run in Flower's simulation
engine (``simulation.simulate``) and as real processes (``deployment``: SuperLink + SuperNodes).

Flower is imported only when a federation runs (``pip install 'geniot[federated]'``).
"""

import os

# Flower reports usage to its servers unless told not to; geniot makes no network calls of its own.
os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")

from geniot.federated.plan import FederatedPlan  # noqa: E402

__all__ = ["FederatedPlan"]
