"""With the skip preconditioning the network is trained on its own target (EDM's loss weight):
at the lowest noise level it learns to remove the noise from smooth signals, where a loss on
the x0 error (weight c_out^2, tiny at low noise) leaves the noise in, and samples of smooth
channels come out jittery (Energy's temperatures stepped 5x as much as the real ones)."""

import json

import numpy as np
import torch

from geniot.models.diffusion import DiffusionGenerator
from geniot.models.loading import load_generator

KW = {"d_model": 16, "n_layers": 1, "n_heads": 2, "timesteps": 50, "sampling_steps": 10, "patience": None, "random_state": 0}


def _smooth_windows(n: int = 300, t: int = 16, seed: int = 0) -> np.ndarray:
    """Slow sines: their steps (about 0.03 scaled) are below the lowest noise level (0.04)."""
    rng = np.random.default_rng(seed)
    steps = np.arange(t)[None, :, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 2))
    return np.sin(2 * np.pi * steps / 200.0 + phase)


def _loss_at(model: DiffusionGenerator, X: np.ndarray, step: int) -> float:
    """The training loss (x0 or own-target MSE) of the untrained network at one noise step."""
    batch = model._to_tensors(X, np.ones(X.shape, dtype=bool), None)
    with torch.no_grad():
        return float(model._loss(batch, steps=torch.full((len(X),), step, dtype=torch.long))["mse"])


def test_the_own_target_loss_weighs_every_noise_level_alike():
    X = _smooth_windows()
    own = DiffusionGenerator(epochs=1, **KW).fit(X)
    x0_loss = DiffusionGenerator(epochs=1, skip_loss=False, **KW).fit(X)
    T = own.timesteps
    with torch.no_grad():  # networks that have learned nothing yet: outputs of order 1
        own.module_.net.output.weight.normal_()
        x0_loss.module_.net.output.weight.normal_()
    # Own target: an untrained network errs by O(1) at the lowest and the highest noise alike,
    # so both levels are learned; the x0 error scales the lowest level down by c_out^2.
    assert 0.1 < _loss_at(own, X, 0) / _loss_at(own, X, T - 1) < 10
    assert _loss_at(x0_loss, X, 0) / _loss_at(x0_loss, X, T - 1) < 0.01


def test_models_saved_before_the_loss_load_with_the_x0_loss(tmp_path):
    model = DiffusionGenerator(epochs=1, **KW).fit(_smooth_windows(40))
    model.save(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "spec.json").read_text())
    del spec["params"]["skip_loss"]  # as written before the parameter existed
    (tmp_path / "m" / "spec.json").write_text(json.dumps(spec))
    old = load_generator(tmp_path / "m")
    assert old.skip_loss is False and old.x0_skip is True
    np.testing.assert_allclose(old.sample(3, random_state=1), model.sample(3, random_state=1))
