"""FaultClassifier on synthetic bearing vibration: impulse trains at the defect frequencies of
the CWRU test bearing (inner race, outer race, ball), each ringing at its own structural
resonance, in noise, at several shaft speeds. (The real CWRU split is benchmarks/faults.py.)"""

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.cwru import cut_windows
from geniot.predictors.faults import FaultClassifier, spectral_features

FS = 12_000
ORDERS = {1: 5.4152, 2: 4.7135, 3: 3.5848}  # BPFI, BSF, BPFO as multiples of shaft speed
# Each defect excites the structure along its own path: a different ringing frequency per class.
RESONANCE = {1: 3000.0, 2: 2200.0, 3: 3700.0}


def vibration(label: int, rpm: float, seconds: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * FS)) / FS
    rate = ORDERS[label] * rpm / 60.0
    impulses = np.zeros_like(t)
    impulses[(np.arange(0, t[-1], 1.0 / rate) * FS).astype(int)] = 1.0
    ring = np.exp(-np.arange(200) / 30.0) * np.sin(2 * np.pi * RESONANCE[label] * np.arange(200) / FS)
    return np.convolve(impulses, ring)[: len(t)] + 0.3 * rng.standard_normal(len(t))


def dataset(rpms, seed):
    xs, ys = [], []
    for k, rpm in enumerate(rpms):
        for label in ORDERS:
            w = cut_windows(vibration(label, rpm, 3.0, seed + 10 * k + label), 2048)
            xs.append(w)
            ys.append(np.full(len(w), label))
    return np.concatenate(xs), np.concatenate(ys)


def test_classifier_separates_fault_types_at_an_unseen_speed(tmp_path):
    x_train, y_train = dataset((1797, 1772, 1750), 0)
    x_test, y_test = dataset((1730,), 100)  # the 3 HP speed, never seen in training
    clf = FaultClassifier().fit(x_train, y_train)
    assert np.mean(clf.predict(x_test) == y_test) > 0.95
    clf.save(tmp_path / "f")
    again = FaultClassifier.load(tmp_path / "f")
    np.testing.assert_array_equal(again.predict(x_test), clf.predict(x_test))


@pytest.mark.parametrize("augment", ["gaussian", "smote"])
def test_augmentation_runs_in_the_few_shot_case(augment):
    x, y = dataset((1797,), 1)
    idx = np.concatenate([np.flatnonzero(y == c)[:5] for c in ORDERS])
    clf = FaultClassifier(augment=augment, n_synthetic=20).fit(x[idx], y[idx])
    assert set(clf.classes_) == set(ORDERS)
    assert np.mean(clf.predict(x) == y) > 0.8


def test_bad_inputs():
    x, y = dataset((1797,), 2)
    with pytest.raises(DataError, match="labels"):
        FaultClassifier().fit(x, y[:-1])
    with pytest.raises(DataError, match="two fault classes"):
        FaultClassifier().fit(x[y == 1], y[y == 1])
    with pytest.raises(DataError, match="length"):
        spectral_features(np.zeros((3, 100)))
    with pytest.raises(DataError, match="augment must be"):
        FaultClassifier(augment="mixup").fit(x, y)
