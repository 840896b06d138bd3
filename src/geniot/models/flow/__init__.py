"""Normalizing-flow generator (registered as ``"flow"``)."""

from geniot.models.flow.model import FlowGenerator

__all__ = ["FlowGenerator"]
