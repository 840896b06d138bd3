"""Denoising diffusion generator (x0 prediction, Fourier loss, CSDI-style native imputation)."""

from geniot.models.diffusion.model import DiffusionGenerator

__all__ = ["DiffusionGenerator"]
