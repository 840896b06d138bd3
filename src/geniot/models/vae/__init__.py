"""TimeVAE generator (registered as ``"vae"``)."""

from geniot.models.vae.model import TimeVAE

__all__ = ["TimeVAE"]
