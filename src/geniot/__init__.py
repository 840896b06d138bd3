"""geniot: generative models of industrial sensor windows, used for tasks."""

__version__ = "0.1.0"
