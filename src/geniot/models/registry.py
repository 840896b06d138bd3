"""The one name table of generators, resolved from ``{"name": ..., "params": {...}}`` specs.

Config files name components; they never carry import paths, so nothing a user writes is
ever imported or executed by string. A generator registers itself when its module is imported
(``geniot.models`` imports every built-in one; ``geniot.privacy`` adds ``"dp"``): nothing here
imports by name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from geniot.core.exceptions import GeniotError

T = TypeVar("T", bound=type)

_GENERATORS: dict[str, type] = {}


def register_generator(name: str) -> Callable[[T], T]:
    """Class decorator: make a generator available under ``name``."""

    def decorate(cls: T) -> T:
        if name in _GENERATORS and _GENERATORS[name] is not cls:
            raise GeniotError(f"generator name {name!r} is registered twice")
        _GENERATORS[name] = cls
        cls.registry_name = name  # type: ignore[attr-defined]
        return cls

    return decorate


def generator_names() -> list[str]:
    """Names of every registered generator, sorted."""
    return sorted(_GENERATORS)


def generator_class(name: str) -> type:
    """The generator class registered under ``name``; a clear error lists the known names."""
    try:
        return _GENERATORS[name]
    except KeyError:
        known = ", ".join(sorted(_GENERATORS)) or "none"
        raise GeniotError(
            f"unknown model {name!r}; known models: {known} (a generator of another package registers "
            "when that package is imported, e.g. 'dp' with geniot.privacy)"
        ) from None


def build_generator(spec: dict[str, Any] | str) -> Any:
    """Build an unfitted generator from a spec ``{"name": ..., "params": {...}}`` or a name."""
    if isinstance(spec, str):
        spec = {"name": spec, "params": {}}
    if not isinstance(spec, dict) or "name" not in spec:
        raise GeniotError(f"a model spec needs a 'name' field, got {spec!r}")
    params = spec.get("params") or {}
    if not isinstance(params, dict):
        raise GeniotError(f"model spec 'params' must be an object, got {type(params).__name__}")
    return generator_class(spec["name"])(**params)
