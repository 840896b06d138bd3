"""DPGenerator: DP-SGD training of a torch generator with its privacy budget recorded."""

from __future__ import annotations

import json

import numpy as np
import pytest

from geniot.core import CapabilityError, DataError
from geniot.core.exceptions import GeniotError
from geniot.models.loading import load_generator
from geniot.privacy import DPGenerator
from geniot.privacy.accounting import epsilon_spent

pytest.importorskip("opacus")

TINY_VAE = {"name": "vae", "params": {"epochs": 3, "batch_size": 16, "hidden": [8, 16], "latent_dim": 4}}


def windows(n=120, t=12, c=3, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    base = np.sin(np.arange(t)[None, :, None] / 3.0 + phase) * np.array([1.0, 0.5, 2.0])[:c]
    return 10.0 + base + 0.05 * rng.standard_normal((n, t, c))


@pytest.fixture(scope="module")
def fitted():
    X = windows()
    model = DPGenerator(generator=TINY_VAE, epsilon=3.0, delta=1e-3, random_state=0)
    assert model.fit(X) is model
    return model, X


def test_fit_records_the_budget_and_spends_at_most_epsilon(fitted):
    model, X = fitted
    p = model.privacy_
    assert p["epsilon_target"] == 3.0 and p["delta"] == 1e-3
    assert 2.5 < p["epsilon_spent"] <= 3.0  # calibrated noise spends (nearly) all of it
    assert p["noise_multiplier"] > 0 and p["max_grad_norm"] == 1.0
    assert p["steps"] == p["planned_steps"] > 0
    assert p["sample_rate"] == pytest.approx(16 / len(X))
    assert p["stop_reason"] == "privacy budget spent"
    assert p["bounds_source"] == "data (not private)"
    # The recorded noise, rate and steps give the same epsilon under geniot's own accountant.
    ours, _ = epsilon_spent(p["sample_rate"], p["noise_multiplier"], p["steps"], p["delta"])
    assert ours == pytest.approx(p["epsilon_spent"], rel=0.05)
    assert model.history_[-1]["epsilon"] == pytest.approx(p["epsilon_spent"])


def test_sample_impute_score_and_determinism(fitted):
    model, X = fitted
    a = model.sample(5, random_state=1)
    assert a.shape == (5, 12, 3) and np.isfinite(a).all()
    np.testing.assert_array_equal(a, model.sample(5, random_state=1))
    assert model.score_samples(X[:4]).shape == (4,)
    mask = np.ones_like(X[:2], dtype=bool)
    mask[:, 3:6, 1] = False
    draws = model.impute(X[:2], mask, n_draws=2, random_state=0)
    assert draws.shape == (2, 2, 12, 3)
    np.testing.assert_array_equal(draws[:, mask], np.broadcast_to(X[:2][mask], draws[:, mask].shape))


def test_save_load_round_trip_keeps_the_privacy_record(fitted, tmp_path):
    model, X = fitted
    model.save(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "spec.json").read_text())
    assert spec["name"] == "dp" and spec["params"]["epsilon"] == 3.0
    state = json.loads((tmp_path / "m" / "state.json").read_text())
    assert state["privacy_"]["epsilon_spent"] == model.privacy_["epsilon_spent"]
    assert state["inner_"]["name"] == "vae" and (tmp_path / "m" / "weights.pt").is_file()
    loaded = load_generator(tmp_path / "m")
    assert isinstance(loaded, DPGenerator)
    assert loaded.privacy_ == model.privacy_
    np.testing.assert_array_equal(loaded.sample(4, random_state=2), model.sample(4, random_state=2))
    assert loaded.epsilon_spent_ == pytest.approx(model.privacy_["epsilon_spent"])


def test_given_noise_stops_when_the_budget_is_exhausted():
    X = windows()
    model = DPGenerator(generator=TINY_VAE, epsilon=2.0, delta=1e-3, noise_multiplier=1.2, epochs=40)
    model.fit(X)
    p = model.privacy_
    assert p["steps"] < p["planned_steps"] or p["steps"] < int(np.ceil(40 * len(X) / 16))
    assert p["stop_reason"] == "privacy budget spent"
    assert p["epsilon_spent"] <= 2.0
    # one more step would have gone over the budget
    assert epsilon_spent(p["sample_rate"], 1.2, p["steps"] + 1, 1e-3)[0] > 2.0 * 0.99


def test_without_epsilon_there_is_no_noise_and_no_claim():
    model = DPGenerator(generator=TINY_VAE, epsilon=None).fit(windows())
    assert model.privacy_["noise_multiplier"] == 0.0
    assert model.privacy_["epsilon_spent"] is None
    assert model.epsilon_spent_ == float("inf")


def test_public_bounds_clip_the_data_and_are_recorded():
    X = windows()
    model = DPGenerator(generator=TINY_VAE, epsilon=5.0, delta=1e-3, data_bounds=[8.0, 12.0]).fit(X)
    assert model.privacy_["bounds_source"] == "given (public)"
    np.testing.assert_array_equal(model.generator_.data_min_, [8.0, 8.0, 8.0])
    np.testing.assert_array_equal(model.generator_.data_scale_, [4.0, 4.0, 4.0])
    with pytest.raises(DataError, match="data_bounds"):
        DPGenerator(generator=TINY_VAE, data_bounds=[[0, 1], [0, 1]]).fit(X)
    with pytest.raises(DataError, match="hi"):
        DPGenerator(generator=TINY_VAE, data_bounds=[1.0, 0.0]).fit(X)


def test_noise_changes_what_is_learned():
    X = windows()
    clean = DPGenerator(generator=TINY_VAE, epsilon=None).fit(X)
    noisy = DPGenerator(generator=TINY_VAE, epsilon=0.5, delta=1e-3).fit(X)
    w_clean = clean.generator_.module_.state_dict()["to_mean.weight"]
    w_noisy = noisy.generator_.module_.state_dict()["to_mean.weight"]
    assert not np.allclose(w_clean.numpy(), w_noisy.numpy())
    # noisy training fits worse than clipped training without noise
    assert noisy.score(X) < clean.score(X)


@pytest.mark.parametrize("name", ["gan", "diffusion", "gaussian"])
def test_unsupported_generators_are_refused_with_the_reason(name):
    with pytest.raises(CapabilityError, match="DP-SGD"):
        DPGenerator(generator=name, epsilon=1.0, delta=1e-3).fit(windows())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": float("inf")}, "epsilon"),
        ({"delta": 0.5}, "delta"),
        ({"noise_multiplier": 0.1, "epsilon": 0.1}, "single step"),
    ],
)
def test_bad_budgets_are_refused(kwargs, match):
    with pytest.raises(GeniotError, match=match):
        DPGenerator(generator=TINY_VAE, **{"delta": 1e-3, **kwargs}).fit(windows())


def test_conditions_are_refused():
    with pytest.raises(CapabilityError):
        DPGenerator(generator=TINY_VAE).fit(windows(), conditions=np.zeros((120, 1)))


def test_clone_and_params_are_json_specs():
    from geniot.models import TimeVAE

    model = DPGenerator(generator=TimeVAE(epochs=2), epsilon=1.0)
    params = model.get_params()
    assert params["generator"]["name"] == "vae" and params["generator"]["params"]["epochs"] == 2
    json.dumps(params)
    assert model.clone().get_params() == params
