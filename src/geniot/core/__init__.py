"""L0: contracts shared by every layer (numpy/pandas/pydantic only, never torch or duckdb)."""

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import (
    ArtifactError,
    CapabilityError,
    DataError,
    GeniotError,
    MissingExtraError,
    NotFittedError,
)
from geniot.core.registry import (
    build_generator,
    generator_class,
    generator_names,
    register_generator,
)
from geniot.core.tags import GeneratorTags

__all__ = [
    "ArtifactError",
    "BaseGenerator",
    "CapabilityError",
    "DataError",
    "GeneratorTags",
    "GeniotError",
    "MissingExtraError",
    "NotFittedError",
    "build_generator",
    "generator_class",
    "generator_names",
    "register_generator",
]
