import numpy as np
import pytest


def make_sines(n, *, t=24, c=5, seed=0):
    """Sines protocol data (TimeGAN): random frequency and phase per window and channel, [0, 1]."""
    rng = np.random.default_rng(seed)
    f = rng.uniform(0.05, 0.3, (n, 1, c))
    p = rng.uniform(0, 2 * np.pi, (n, 1, c))
    return (np.sin(2 * np.pi * f * np.arange(t)[None, :, None] + p) + 1) / 2


@pytest.fixture
def sines():
    return make_sines
