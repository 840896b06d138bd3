"""Attribute obfuscation: the group of a window becomes hard to predict, anomalies stay visible."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from geniot.core.exceptions import DataError, NotFittedError
from geniot.models import GaussianBaseline
from geniot.privacy.obfuscation import AttributeObfuscator, attribute_leakage


def fleet(seed=0, n=160, t=12):
    """Three 'assets' of one process, each with its own offsets, gains and noise floor; 10% of the
    later windows carry a spike (the anomaly)."""
    rng = np.random.default_rng(seed)
    X, g, y = [], [], []
    for k, (offset, gain, noise) in enumerate([(0.0, 1.0, 0.05), (3.0, 2.0, 0.2), (-2.0, 0.5, 0.1)]):
        phase = rng.uniform(0, 2 * np.pi, (n, 1, 1))
        base = np.sin(np.arange(t)[None, :, None] / 2 + phase) * np.array([1.0, 0.7])
        w = offset + gain * base + noise * rng.standard_normal((n, t, 2))
        spike = (np.arange(n) >= n // 2) & (rng.random(n) < 0.1)
        w[spike, t // 2, 0] += 4.0 * gain
        X.append(w)
        g += [f"A{k}"] * n
        y.append(spike)
    return np.concatenate(X), np.array(g), np.concatenate(y)


X, G, Y = fleet()
FIRST = np.tile(np.arange(160) < 80, 3)
REF = FIRST & ~Y


@pytest.mark.parametrize("method", ["standardize", "whiten"])
def test_obfuscation_hides_the_group(method):
    before = attribute_leakage(X, G)
    assert before["attacker_accuracy"] > 0.95
    released = AttributeObfuscator(method=method, noise_floor=1.0).fit(X[REF], G[REF]).transform(X, G, random_state=0)
    after = attribute_leakage(released, G)
    assert after["attacker_accuracy"] < 0.7  # chance is 1/3, before: > 0.95
    assert after["chance_accuracy"] == pytest.approx(1 / 3, abs=0.01)


def test_anomaly_detection_keeps_working_on_the_release():
    released = AttributeObfuscator(method="whiten", noise_floor=1.0).fit(X[REF], G[REF]).transform(X, G, random_state=0)
    test = ~FIRST
    raw = roc_auc_score(Y[test], -GaussianBaseline().fit(X[REF]).score_samples(X[test]))
    obf = roc_auc_score(Y[test], -GaussianBaseline().fit(released[REF]).score_samples(released[test]))
    assert obf > 0.9 and obf >= raw - 0.05


def test_without_noise_the_noise_floor_still_leaks():
    released = AttributeObfuscator(method="standardize").fit(X[REF], G[REF]).transform(X, G)
    assert attribute_leakage(released, G)["attacker_accuracy"] > 0.8


def test_gaps_stay_gaps_and_bad_input_is_named():
    obf = AttributeObfuscator(method="whiten").fit(X[REF], G[REF])
    gappy = X[:3].copy()
    gappy[0, 2, 1] = np.nan
    out = obf.transform(gappy, G[:3])
    assert np.isnan(out[0, 2, 1]) and np.isfinite(np.delete(out.reshape(-1), 2 * 2 + 1)).all()
    with pytest.raises(DataError, match="not seen"):
        obf.transform(X[:2], ["A0", "B9"])
    with pytest.raises(DataError, match="one label per window"):
        obf.transform(X[:2], ["A0"])
    with pytest.raises(DataError, match="method"):
        AttributeObfuscator(method="shuffle").fit(X, G)
    with pytest.raises(NotFittedError):
        AttributeObfuscator().transform(X, G)
    with pytest.raises(DataError, match="two groups"):
        attribute_leakage(X[:100], G[:100])
