import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from geniot.metrics import average_precision, detection_counts, detection_scores


def test_counts_and_skab_formulas():
    y = np.array([1, 1, 0, 0, 1, 0])
    f = np.array([1, 0, 1, 0, 1, 0])
    c = detection_counts([(y, f), (np.ones(2), np.ones(2))])
    assert c == {"tp": 4, "fp": 1, "fn": 1, "tn": 2}
    s = detection_scores(c)
    assert s["f1"] == pytest.approx(4 / (4 + 1))
    assert s["far"] == pytest.approx(100 / 3) and s["mar"] == pytest.approx(20.0)


def test_flag_everything_reproduces_the_known_f1():
    # SKAB's warning: with 53.7% anomalous points, flagging everything gives F1 ~0.70.
    y = np.r_[np.ones(537), np.zeros(463)]
    s = detection_scores(detection_counts([(y, np.ones_like(y))]))
    assert s["f1"] == pytest.approx(0.699, abs=0.001) and s["far"] == 100.0 and s["mar"] == 0.0


def test_average_precision_matches_scikit_learn():
    rng = np.random.default_rng(0)
    y = rng.random(500) < 0.3
    s = rng.normal(size=500) + y
    s[:20] = np.round(s[:20])  # ties
    assert average_precision(y, s) == pytest.approx(average_precision_score(y, s))
    assert average_precision(y, np.where(y, 1.0, 0.0)) == pytest.approx(1.0)


def test_phm08_penalises_late_predictions_more():
    from geniot.metrics import phm08_score

    assert phm08_score([10.0], [10.0]) == 0.0
    assert phm08_score([20.0], [10.0]) == pytest.approx(np.exp(1.0) - 1.0)
    assert phm08_score([0.0], [13.0]) == pytest.approx(np.exp(1.0) - 1.0)
    assert phm08_score([20.0], [10.0]) > phm08_score([0.0], [10.0])
