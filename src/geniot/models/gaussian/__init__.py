from geniot.models.gaussian.model import GaussianBaseline

__all__ = ["GaussianBaseline"]
