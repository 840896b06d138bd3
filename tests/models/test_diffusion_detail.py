"""The diffusion model keeps step-to-step detail: at low noise its x0 prediction is the input
plus a small correction (the skip preconditioning), so samples and continuations are not
smoothed by a denoiser that has not learned the identity yet."""

import numpy as np
import torch

from geniot.models.diffusion import DiffusionGenerator


def _rough_windows(n: int = 400, t: int = 16, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    walk = rng.standard_normal((n, t, 2)).cumsum(axis=1) * 0.3  # random walk: rough steps
    return walk + rng.uniform(-2, 2, size=(n, 1, 2))


def _low_noise_detail(model: DiffusionGenerator, X: np.ndarray) -> float:
    """Step spread of the x0 prediction from windows barely noised, over the windows' own."""
    Z = torch.as_tensor(model._scale(X), dtype=torch.float32)
    t = torch.zeros(len(Z), dtype=torch.long)
    x_t = model.module_.schedule.q_sample(Z, t, torch.randn_like(Z))
    zeros = torch.zeros_like(Z)
    with torch.no_grad():
        x0 = model._predict_x0(model.module_.ema, x_t, t, zeros, zeros, None)
    return float(x0.diff(dim=1).pow(2).mean().sqrt() / Z.diff(dim=1).pow(2).mean().sqrt())


def test_low_noise_prediction_keeps_the_steps_of_the_window():
    X = _rough_windows()
    kw = {"d_model": 16, "n_layers": 1, "n_heads": 2, "timesteps": 50, "sampling_steps": 10, "epochs": 2, "patience": None, "random_state": 0}
    skip = DiffusionGenerator(**kw).fit(X)
    plain = DiffusionGenerator(x0_skip=False, **kw).fit(X)
    assert _low_noise_detail(skip, X) > 0.95  # the input passes through
    assert _low_noise_detail(plain, X) < 0.9  # an undertrained direct x0 predictor smooths


def test_models_saved_before_the_skip_load_without_it(tmp_path):
    import json

    model = DiffusionGenerator(d_model=16, n_layers=1, n_heads=2, timesteps=20, epochs=1, x0_skip=False).fit(_rough_windows(50))
    model.save(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "spec.json").read_text())
    del spec["params"]["x0_skip"]  # as written before the parameter existed
    (tmp_path / "m" / "spec.json").write_text(json.dumps(spec))
    from geniot.models.loading import load_generator

    old = load_generator(tmp_path / "m")
    assert old.x0_skip is False
    np.testing.assert_allclose(old.sample(3, random_state=1), model.sample(3, random_state=1))
