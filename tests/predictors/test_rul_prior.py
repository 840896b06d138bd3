"""How the units to predict were observed (in service, or cut at a share of their life), told by
their ages and onset flags (geniot.predictors.rul_prior), and the prior before onset it gives."""

import numpy as np
import pandas as pd
import pytest

from geniot.predictors.rul import RULEstimator
from geniot.predictors.rul_prior import mixture_prior, observation_posterior

LIVES = np.linspace(0.5, 1.5, 30)  # in median lives
ONSETS = 0.8 * LIVES


def _batch(rng, shares):
    lives = rng.choice(LIVES, len(shares))
    ages = lives * shares
    return ages, ages >= 0.8 * lives


def _share_weight(models, lo, hi):
    return sum(w for r, w in zip(models.ranges, models.weights, strict=True) if r is not None and lo <= r[0] and r[1] <= hi)


def test_a_batch_cut_late_in_life_is_told_from_one_in_service():
    rng = np.random.default_rng(0)
    late = observation_posterior(LIVES, ONSETS, *_batch(rng, rng.uniform(0.5, 0.95, 40)))
    assert late.weights[late.ranges.index(None)] < 0.05
    assert _share_weight(late, 0.35, 1.0) > 0.8
    # In service: a unit is seen in proportion to its life, at an age uniform over it.
    pick = rng.choice(len(LIVES), 40, p=LIVES / LIVES.sum())
    ages = LIVES[pick] * rng.uniform(0, 1, 40)
    service = observation_posterior(LIVES, ONSETS, ages, ages >= ONSETS[pick])
    assert service.weights[service.ranges.index(None)] > late.weights[late.ranges.index(None)]
    assert _share_weight(service, 0.35, 1.0) < 0.2
    assert "estimated from the 40 unit(s)" in late.summary()


def test_cut_late_the_prior_follows_the_age_and_in_service_it_does_not_shrink_so():
    rng = np.random.default_rng(1)
    late = observation_posterior(LIVES, ONSETS, *_batch(rng, rng.uniform(0.5, 0.95, 40)))
    # Cut at 50-95% of its life, a unit seen at 0.6 lived 0.63-1.2: it has 0.03-0.6 left, on
    # average far less than a unit in service at that age (every unit alive then: up to 0.9 left).
    mid, lo, hi = mixture_prior(LIVES, ONSETS, 0.6, late)
    assert lo <= mid <= hi and 0.1 < mid < 0.45
    service = observation_posterior(LIVES, ONSETS, [0.6], [False])
    service.weights[:] = [1.0 if r is None else 0.0 for r in service.ranges]
    assert mixture_prior(LIVES, ONSETS, 0.6, service)[0] > mid + 0.1
    assert mixture_prior(LIVES, ONSETS, 5.0, late) is None  # older than every look: nothing to say


def test_auto_is_the_default_and_said_per_unit():
    rows = []
    rng = np.random.default_rng(0)
    for u, life in enumerate((10, 20, 30, 40)):
        for t in range(life + 1):
            rows.append({"unit": u, "cycle": t + 1, "time": float(t), "s1": rng.standard_normal() + (t > 0.8 * life),
                         "onset": t >= 0.8 * life})  # fmt: skip
    frame = pd.DataFrame(rows)
    est = RULEstimator(epochs=1, fixed_epochs=True, n_models=1, gate_column="onset").fit(frame)
    assert est.observed_share == "auto"
    assert "how the batch of units to predict was observed" in "\n".join(est.choices_)
    early = frame.groupby("unit").head(8)
    pred = est.predict(early)
    assert (pred["basis"] == "no onset yet: population prior").all()
    assert pred["prior_from"].str.contains("estimated from the 4 unit").all()
    service = est.set_params(observed_share=None).predict(early)
    assert not np.allclose(pred["rul"], service["rul"])
    assert (pred["lower"] <= pred["rul"]).all() and (pred["rul"] <= pred["upper"]).all()


@pytest.mark.parametrize("bad", ["often", (0.2, 0.1)])
def test_bad_observed_share_is_named(bad):
    from geniot.core.exceptions import DataError

    with pytest.raises(DataError, match="observed_share"):
        RULEstimator(observed_share=bad).validate()
