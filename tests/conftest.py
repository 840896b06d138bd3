"""Shared test settings: one torch thread (CI has 2 cores and runs other work beside)."""

import os

os.environ.setdefault("GENIOT_HOME", os.path.join(os.path.dirname(__file__), ".geniot-test-home"))

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover - torch-free environments run the torch-free tests
    pass
