"""L2: the generators. Importing this package registers every built-in generator."""

from geniot.models.gaussian import GaussianBaseline
from geniot.models.loading import generator_from_state, load_generator
from geniot.models.registry import (
    build_generator,
    generator_class,
    generator_names,
    register_generator,
)

__all__ = [
    "GaussianBaseline", "build_generator", "generator_class", "generator_from_state", "generator_names",
    "load_generator", "register_generator",
]  # fmt: skip

# Torch generators register themselves on import; they are optional at import time so that a
# torch-free install (the edge runtime) can still use the Gaussian baseline.
try:  # pragma: no cover - exercised by the environment, not by logic
    from geniot.models.diffusion import DiffusionGenerator  # noqa: F401
    from geniot.models.flow import FlowGenerator  # noqa: F401
    from geniot.models.gan import WGANGenerator  # noqa: F401
    from geniot.models.vae import TimeVAE  # noqa: F401
except ModuleNotFoundError as exc:
    if exc.name != "torch":
        raise
else:
    __all__ += ["DiffusionGenerator", "FlowGenerator", "TimeVAE", "WGANGenerator"]
