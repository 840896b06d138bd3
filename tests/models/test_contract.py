"""The generator contract, checked for every registered generator with tiny settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from geniot.core import BaseGenerator, CapabilityError, DataError, NotFittedError
from geniot.core.registry import build_generator, generator_names

torch.set_num_threads(1)

# Tiny settings so the whole suite trains each model in about a second.
TINY = {
    "gaussian": {},
    "vae": {"epochs": 2, "batch_size": 16},
    "gan": {"epochs": 2, "batch_size": 16},
    "diffusion": {"epochs": 2, "batch_size": 16, "d_model": 16, "n_layers": 1, "timesteps": 20, "sampling_steps": 5},
    "dp": {"generator": {"name": "vae", "params": {"epochs": 2, "batch_size": 16}}, "epsilon": 10.0, "delta": 1e-3},
}

NAMES = generator_names()


def make(name: str) -> BaseGenerator:
    return build_generator({"name": name, "params": TINY.get(name, {})})


def windows(n=48, t=12, c=3, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    steps = np.arange(t)
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, 1))
    base = np.sin(steps[None, :, None] / 3.0 + phase) * np.array([1.0, 0.5, 2.0])[:c]
    return 10.0 + base + 0.05 * rng.standard_normal((n, t, c))


@pytest.fixture(scope="module", params=NAMES)
def fitted(request):
    model = make(request.param)
    X = windows()
    assert model.fit(X) is model
    return request.param, model, X


def test_every_builtin_is_registered():
    assert {"gaussian", "vae", "gan", "diffusion"} <= set(NAMES)


def test_fit_sets_learned_state(fitted):
    _, model, X = fitted
    assert model.n_channels_ == X.shape[2] and model.n_steps_ == X.shape[1]
    assert isinstance(model.history_, list) and model.history_


def test_sample_shape_finite_and_deterministic(fitted):
    _, model, X = fitted
    a = model.sample(7, random_state=3)
    b = model.sample(7, random_state=3)
    assert a.shape == (7, X.shape[1], X.shape[2])
    assert np.isfinite(a).all()
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.sample(7, random_state=4))


def test_fit_is_deterministic_under_random_state(fitted):
    name, model, X = fitted
    again = make(name).fit(X)
    np.testing.assert_allclose(again.sample(5, random_state=1), model.sample(5, random_state=1), rtol=1e-6, atol=1e-6)


def test_save_load_round_trip_without_pickle(fitted, tmp_path):
    name, model, _ = fitted
    model.save(tmp_path / "m")
    spec = json.loads((tmp_path / "m" / "spec.json").read_text())
    assert spec["name"] == name and spec["params"] == model.get_params()
    assert not list((tmp_path / "m").glob("*.pkl"))
    loaded = BaseGenerator.load(tmp_path / "m")
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.sample(4, random_state=9), model.sample(4, random_state=9))


def test_load_refuses_pickled_objects(fitted, tmp_path):
    _, model, _ = fitted
    model.save(tmp_path / "m")
    if model.tags.requires_torch:
        torch.save({"payload": _Payload()}, tmp_path / "m" / "weights.pt")
        expected = "(?i)weights_only|unsupported|global"
    else:
        np.savez(tmp_path / "m" / "arrays.npz", mean_=np.array([_Payload()], dtype=object))
        expected = "(?i)pickle"
    with pytest.raises(Exception, match=expected):
        BaseGenerator.load(tmp_path / "m")


class _Payload:
    """A custom object: loading it would need unpickling arbitrary code."""


def test_impute_keeps_observed_values_bit_for_bit(fitted):
    _, model, X = fitted
    rng = np.random.default_rng(1)
    mask = rng.random(X[:6].shape) > 0.3
    holed = np.where(mask, X[:6], np.nan)
    try:
        draws = model.impute(holed, mask, n_draws=3, random_state=0)
    except CapabilityError:
        assert not model.tags.native_impute
        return
    assert draws.shape == (3,) + X[:6].shape
    assert np.isfinite(draws).all()
    for d in draws:
        assert np.array_equal(d[mask], X[:6][mask])


def test_score_samples_follows_the_likelihood_tag(fitted):
    _, model, X = fitted
    if model.tags.likelihood == "none":
        with pytest.raises(CapabilityError):
            model.score_samples(X[:4])
        return
    s = model.score_samples(X[:4])
    assert s.shape == (4,) and np.isfinite(s).all()
    np.testing.assert_array_equal(s, model.score_samples(X[:4]))


def test_score_channels_says_which_channel_is_off(fitted):
    _, model, X = fitted
    if model.tags.likelihood == "none":
        with pytest.raises(CapabilityError):
            model.score_channels(X[:4])
        return
    s = model.score_channels(X[:4])
    assert s.shape == (4, X.shape[2]) and np.isfinite(s).all()
    np.testing.assert_array_equal(s, model.score_channels(X[:4]))
    mask = np.ones(X[:4].shape, dtype=bool)
    mask[0, :3, 1] = False
    assert np.isfinite(model.score_channels(np.where(mask, X[:4], np.nan), mask=mask)).all()


def test_can_impute_matches_what_impute_does(fitted):
    _, model, X = fitted
    if model.can_impute:
        assert model.impute(X[:2], np.ones(X[:2].shape, dtype=bool)).shape == (1,) + X[:2].shape
    else:
        with pytest.raises(CapabilityError):
            model.impute(X[:2], np.ones(X[:2].shape, dtype=bool))


def test_tasks_run_over_every_capable_generator(fitted):
    from geniot.tasks import AnomalyDetector, GapImputer

    _, model, X = fitted
    series = np.concatenate(list(X[:6]))  # 72 steps
    if model.can_impute:
        holed = series.copy()
        holed[10:20, 1] = np.nan
        filled = GapImputer(model, prefit=True, n_draws=2).transform(holed)
        assert np.isfinite(filled).all() and np.array_equal(filled[~np.isnan(holed)], holed[~np.isnan(holed)])
    if model.tags.likelihood != "none":
        det = AnomalyDetector(model, prefit=True, threshold="quantile").fit(series)
        result = det.detect(series)
        assert result.scores.shape == (len(series),) and np.isfinite(result.scores).all()


def test_fit_accepts_gaps(fitted):
    name, _, X = fitted
    holed = X.copy()
    holed[0, 2:5, 1] = np.nan
    holed[3, :, 0] = np.nan
    model = make(name).fit(holed)
    assert np.isfinite(model.sample(2, random_state=0)).all()


def test_conditions_follow_the_conditional_tag(fitted):
    name, model, X = fitted
    cond = np.stack([np.arange(len(X)) % 2, np.linspace(0, 1, len(X))], axis=1)
    fresh = make(name)
    if not fresh.tags.conditional:
        with pytest.raises(CapabilityError):
            fresh.fit(X, conditions=cond)
        return
    fresh.fit(X, conditions=cond)
    out = fresh.sample(3, conditions=cond[:3], random_state=0)
    assert out.shape == (3,) + X.shape[1:]
    with pytest.raises(DataError):
        fresh.sample(3, random_state=0)  # conditions are required once fitted with them


def test_clear_errors_on_bad_input(fitted):
    name, model, X = fitted
    with pytest.raises(NotFittedError):
        make(name).sample(2)
    with pytest.raises(DataError, match="windows shaped"):
        make(name).fit(X[0])
    bad = X.copy()
    bad[1, 2, 0] = np.inf
    with pytest.raises(DataError, match="window 1, step 2, channel 0"):
        make(name).fit(bad)
    if model.tags.likelihood != "none":
        with pytest.raises(DataError, match="fitted on 3 channels"):
            model.score_samples(X[:2, :, :2])
    with pytest.raises(DataError, match="without conditions"):
        model.sample(2, conditions=np.ones((2, 1)))
    with pytest.raises(DataError, match="n_samples"):
        model.sample(0)


def test_params_round_trip_and_clone(fitted):
    _, model, _ = fitted
    clone = model.clone()
    assert clone.get_params() == model.get_params()
    assert not clone.is_fitted
