"""The generator contract, checked for every registered generator with tiny settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from geniot.core import BaseGenerator, CapabilityError, DataError, NotFittedError
from geniot.models.loading import load_generator
from geniot.models.registry import build_generator, generator_names
from geniot.privacy import DPGenerator  # noqa: F401  (importing registers "dp")

torch.set_num_threads(1)

# Tiny settings so the whole suite trains each model in about a second.
TINY = {
    "gaussian": {},
    "vae": {"epochs": 2, "batch_size": 16},
    "gan": {"epochs": 2, "batch_size": 16},
    "diffusion": {"epochs": 2, "batch_size": 16, "d_model": 16, "n_layers": 1, "timesteps": 20, "sampling_steps": 5},
    "flow": {"epochs": 2, "batch_size": 16, "n_layers": 2, "hidden": 16, "impute_steps": 10},
    "dp": {"generator": {"name": "vae", "params": {"epochs": 2, "batch_size": 16}}, "epsilon": 10.0, "delta": 1e-3},
}

NAMES = generator_names()  # geniot.privacy is imported above: "dp" is registered and checked too


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
    assert {"gaussian", "vae", "gan", "diffusion", "flow", "dp"} <= set(NAMES)


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
    loaded = load_generator(tmp_path / "m")
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
        load_generator(tmp_path / "m")


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


def test_the_models_own_impute_fills_gaps_with_values_in_the_data_range(fitted):
    """``impute`` copies observed values back, so check what the model's ``_impute`` itself
    returns at the gaps: the right shape, finite, in (a margin around) the training range, varying
    between draws, and deterministic under ``random_state``."""
    _, model, X = fitted
    if not model.can_impute:
        return
    rng = np.random.default_rng(1)
    mask = rng.random(X[:6].shape) > 0.3
    holed = np.where(mask, X[:6], np.nan)
    raw = np.asarray(model._impute(holed, mask, 3, 0), dtype=np.float64)
    assert raw.shape == (3,) + X[:6].shape
    gaps = raw[:, ~mask]
    assert np.isfinite(gaps).all()
    lo, hi = X.min(axis=(0, 1)), X.max(axis=(0, 1))
    span = hi - lo
    channel = np.broadcast_to(np.arange(X.shape[2]), X[:6].shape)[~mask]
    assert (gaps >= (lo - span)[channel]).all() and (gaps <= (hi + span)[channel]).all()
    assert not np.allclose(raw[0][~mask], raw[1][~mask])  # draws, not one value repeated
    np.testing.assert_array_equal(raw, np.asarray(model._impute(holed, mask, 3, 0), dtype=np.float64))


def test_gaussian_imputation_is_the_exact_conditional_mean():
    """Oracle: the Gaussian baseline's mean imputation equals the conditional mean of its own
    fitted normal, computed here with plain numpy."""
    model = make("gaussian").fit(windows(n=200))
    X = windows(n=4, seed=7)
    mask = np.ones(X.shape, dtype=bool)
    mask[:, 3:6, 1] = False
    draws = model.impute(np.where(mask, X, np.nan), mask, n_draws=400, random_state=0)
    d = X[0].size
    mean, cov = model.mean_[:d], model.covariance_[:d, :d]  # over standardised, flattened windows
    center, scale = np.tile(model.channel_mean_, X.shape[1]), np.tile(model.channel_std_, X.shape[1])
    for i in range(len(X)):
        z, m = (X[i].ravel() - center) / scale, mask[i].ravel()
        o, g = np.flatnonzero(m), np.flatnonzero(~m)
        expected = mean[g] + cov[np.ix_(g, o)] @ np.linalg.solve(cov[np.ix_(o, o)], z[o] - mean[o])
        got = (draws[:, i].reshape(400, -1)[:, g].mean(axis=0) - center[g]) / scale[g]
        np.testing.assert_allclose(got, expected, atol=0.1)


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
        filled = GapImputer(generator=model, prefit=True, n_draws=2).transform(holed)
        assert np.isfinite(filled).all() and np.array_equal(filled[~np.isnan(holed)], holed[~np.isnan(holed)])
    if model.tags.likelihood != "none":
        det = AnomalyDetector(generator=model, prefit=True, threshold="quantile").fit(series)
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
    name, model, X = fitted
    before = model.sample(3, random_state=5)
    clone = model.clone()
    assert type(clone) is type(model) and clone is not model
    assert clone.get_params() == model.get_params() and not clone.is_fitted
    # A clone shares no state: mutating or fitting it leaves the original as it was.
    for value in clone.get_params().values():
        if isinstance(value, (dict, list)):
            assert all(value is not v for v in model.get_params().values())
    clone.fit(X[::-1] + 1.0)
    np.testing.assert_array_equal(model.sample(3, random_state=5), before)
    rebuilt = build_generator({"name": name, "params": json.loads(json.dumps(model.get_params()))})
    assert rebuilt.get_params() == model.get_params()  # params survive a JSON spec
