"""A long synthetic series that drifts out of what the model's own windows reach is said."""

from __future__ import annotations

import numpy as np

from geniot.data.windows import make_windows
from geniot.models.gaussian import GaussianBaseline
from geniot.workflows.synthesis import synthesize, wander_notes


def _model():
    rng = np.random.default_rng(0)
    ar = np.zeros(3000)
    noise = rng.normal(size=3000)
    for t in range(1, 3000):
        ar[t] = 0.5 * ar[t - 1] + noise[t]
    return GaussianBaseline().fit(make_windows(np.column_stack([ar, rng.normal(size=3000)]), 12, 1),
                                  channels=["level", "noise"])  # fmt: skip


def test_a_stationary_model_continues_without_a_warning():
    steady = synthesize(_model(), duration_s=20000 * 60.0, interval_s=60.0, seed=0)
    assert not [n for n in steady.notes if n.startswith("warning")]


def test_a_series_that_drifts_away_is_said_with_its_channel():
    model = _model()
    rng = np.random.default_rng(1)
    values = rng.normal(size=(2, 5000, 2))
    values[1, 2500:, 0] += np.linspace(0, 40, 2500)  # one asset's level walks off
    notes = wander_notes(model, values, ["level", "noise"], None, None)
    assert len(notes) == 1 and "level on" in notes[0] and "noise on" not in notes[0]
    held = np.full((5000, 2), np.nan)
    held[:, 0] = 3.0  # a --set channel is the user's, not judged
    assert wander_notes(model, values, ["level", "noise"], held, None) == []
