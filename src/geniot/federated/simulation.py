"""Local simulation: every site as a virtual SuperNode in one process pool (Flower + Ray).

Ray is capped (CPUs, object store, no dashboard) so that a laptop run stays small; each site
still reads only its own data, inside its own ClientApp call.
"""

from __future__ import annotations

import os
from collections.abc import Callable

from geniot.core.exceptions import DataError
from geniot.core.extras import require
from geniot.federated.plan import FederatedPlan
from geniot.federated.server_flow import FederatedOutcome, FederationError
from geniot.federated.sites import site_files

RAY_OBJECT_STORE_BYTES = 100 * 1024 * 1024


def simulate(
    plan: FederatedPlan,
    sites: list[str],
    *,
    progress: Callable[[dict], None] | None = None,
    num_cpus: int | None = None,
    verbose: bool = False,
) -> FederatedOutcome:
    """Run ``plan`` over ``sites`` (paths) in Flower's simulation engine and return the outcome."""
    if len(sites) < 2:
        raise DataError(f"a federation needs at least 2 sites, got {len(sites)}")
    for spec in sites:
        site_files(spec)  # fail here, with the path, rather than inside a worker
    require("ray", "federated")
    require("flwr", "federated")
    from flwr.simulation import run_simulation

    from geniot.federated.client_app import make_client_app
    from geniot.federated.server_app import make_server_app

    plan = plan.replace(min_sites=len(sites))
    sink: list[FederatedOutcome] = []
    cpus = int(num_cpus or max(1, min(len(sites), os.cpu_count() or 1)))
    backend_config = {
        "client_resources": {"num_cpus": 1, "num_gpus": 0.0},
        "init_args": {
            "num_cpus": cpus,
            "object_store_memory": RAY_OBJECT_STORE_BYTES,
            "include_dashboard": False,
            "logging_level": "error",
            "log_to_driver": bool(verbose),
        },
    }
    if not verbose:  # Flower logs every message at INFO; geniot reports rounds through ``progress``
        import logging

        logging.getLogger("flwr").setLevel(logging.ERROR)
    # Workers train with one torch thread each: sites run side by side on the machine's cores.
    # Flower's Ray backend also writes PYTHONPATH into this process's environment; both are put
    # back afterwards so that nothing started later (a venv's pip, a subprocess) inherits them.
    saved = {key: os.environ.get(key) for key in ("OMP_NUM_THREADS", "PYTHONPATH")}
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    try:
        run_simulation(
            server_app=make_server_app(plan, progress=progress or (lambda event: None), sink=sink),
            client_app=make_client_app([str(s) for s in sites]),
            num_supernodes=len(sites),
            backend_config=backend_config,
            verbose_logging=verbose,
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    if not sink:
        raise FederationError("the simulation ended without a result (see the log above)")
    return sink[0]
