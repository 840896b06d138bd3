"""L0: contracts shared by every layer (numpy/pandas/pydantic only, never torch or duckdb).

The generator name table and loading by name live in the models layer (``geniot.models``)."""

from geniot.core.base import BaseGenerator
from geniot.core.exceptions import (
    ArtifactError,
    CapabilityError,
    DataError,
    GeniotError,
    MissingExtraError,
    NotFittedError,
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
]
