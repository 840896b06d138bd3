"""L2: the generators. Importing this package registers every built-in generator."""

from geniot.models.gaussian import GaussianBaseline

__all__ = ["GaussianBaseline"]
