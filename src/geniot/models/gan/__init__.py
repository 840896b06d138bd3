"""WGAN-GP generator (registered as ``"gan"``)."""

from geniot.models.gan.model import WGANGenerator

__all__ = ["WGANGenerator"]
