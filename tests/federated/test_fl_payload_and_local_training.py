"""Weights travel exactly; local rounds start from the global weights; FedProx and DP bound updates."""

import numpy as np
import pytest
import torch

from geniot.federated.local_training import train_locally
from geniot.federated.payload import (
    arrays_to_weights,
    generator_from_payload,
    generator_payload,
    weights_to_arrays,
)
from geniot.federated.records import from_array_record, to_array_record
from geniot.models import GaussianBaseline
from geniot.models.vae import TimeVAE

TINY = {"hidden": [8, 16], "latent_dim": 3, "epochs": 2, "batch_size": 32, "patience": None, "random_state": 0}


@pytest.fixture(scope="module")
def windows():
    rng = np.random.default_rng(0)
    t = np.arange(8)
    phase = rng.uniform(0, 2 * np.pi, (96, 1, 1))
    X = np.sin(t[None, :, None] / 2.0 + phase) * np.array([1.0, 5.0]) + np.array([0.0, 20.0])
    return X + 0.05 * rng.standard_normal(X.shape)


@pytest.fixture(scope="module")
def vae(windows):
    return TimeVAE(**TINY).fit(windows)


def test_torch_generator_round_trips_through_flower_records(vae, windows):
    arrays, state = generator_payload(vae)
    assert any(k.startswith("w.") for k in arrays) and "a.data_min_" in arrays
    received = from_array_record(to_array_record(arrays))
    assert all(received[k].dtype == arrays[k].dtype and np.array_equal(received[k], arrays[k]) for k in arrays)
    again = generator_from_payload("vae", vae.get_params(), received, state)
    np.testing.assert_array_equal(again.sample(4, random_state=1), vae.sample(4, random_state=1))
    np.testing.assert_array_equal(again.score_samples(windows[:5]), vae.score_samples(windows[:5]))


def test_gaussian_round_trips(windows):
    g = GaussianBaseline().fit(windows)
    arrays, state = generator_payload(g)
    again = generator_from_payload("gaussian", g.get_params(), from_array_record(to_array_record(arrays)), state)
    np.testing.assert_array_equal(again.covariance_, g.covariance_)


def _local(vae, windows, **kw):
    global_weights = arrays_to_weights(weights_to_arrays(vae.module_.state_dict()))
    return train_locally(
        TimeVAE(**TINY), windows, global_weights=global_weights, data_min=vae.data_min_,
        data_scale=vae.data_scale_, epochs=2, seed=3, **kw,
    )  # fmt: skip


def _gap(a, b) -> float:
    return sum(float((p.detach() - q.detach()).norm() ** 2) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_local_round_starts_from_the_global_weights_and_scaling(vae, windows):
    update = _local(vae, windows)
    assert update.n_windows == len(windows)
    np.testing.assert_array_equal(update.generator.data_min_, vae.data_min_)
    # Two epochs from the global weights move them a little, not to a fresh initialisation.
    fresh = TimeVAE(**{**TINY, "random_state": 3}).fit(windows)
    assert 0.0 < _gap(update.generator.module_, vae.module_) < _gap(fresh.module_, vae.module_)
    assert "_loss" not in update.generator.__dict__  # hooks removed: the fitted model is a normal one


def test_fedprox_keeps_the_update_closer_to_the_global_model(vae, windows):
    plain = _local(vae, windows).update_norm
    prox = _local(vae, windows, proximal_mu=50.0).update_norm
    assert prox < 0.8 * plain


def test_dp_clips_the_update(vae, windows):
    clip = 0.05
    update = _local(vae, windows, dp_clip=clip)
    assert update.update_norm > clip  # the clip was active
    state = update.generator.module_.state_dict()
    g = vae.module_.state_dict()
    norm = float(torch.sqrt(sum(((state[k] - g[k]) ** 2).sum() for k in state if state[k].is_floating_point())))
    assert norm == pytest.approx(clip, rel=1e-4)
