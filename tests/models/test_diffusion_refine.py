"""The diffusion model's partial reverse chain (``refine``), and long series whose joins are
redrawn with it (``continue_series``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from geniot.core.exceptions import DataError
from geniot.models.diffusion import DiffusionGenerator
from geniot.tasks.long_synthesis import continue_series

torch.set_num_threads(1)

W = 12
TINY = dict(d_model=16, n_layers=1, n_heads=2, timesteps=40, sampling_steps=10, epochs=3, batch_size=32, random_state=0)


def _windows(n: int = 200, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n + W)
    series = np.stack([np.sin(t / 3.0), np.cos(t / 5.0) * 2 + 10], axis=1) + 0.05 * rng.standard_normal((n + W, 2))
    return np.stack([series[i : i + W] for i in range(n)])


@pytest.fixture(scope="module")
def model() -> DiffusionGenerator:
    return DiffusionGenerator(**TINY).fit(_windows())


def test_refine_keeps_shown_entries_and_stays_near_the_input_at_low_strength(model):
    X = _windows(40, seed=1)
    mask = np.zeros(X.shape, dtype=bool)
    mask[:, :3] = mask[:, -3:] = True
    low = model.refine(X, mask, strength=0.05, random_state=0)
    full = model.refine(X, mask, strength=1.0, random_state=0)
    assert low.shape == X.shape and np.isfinite(low).all()
    np.testing.assert_array_equal(low[mask], X[mask])
    np.testing.assert_array_equal(full[mask], X[mask])
    # A little noise moves the redrawn part a little; the whole chain redraws it.
    change = lambda Y: np.abs(Y - X)[~mask].mean()  # noqa: E731
    assert change(low) < 0.5 * change(full)
    np.testing.assert_array_equal(low, model.refine(X, mask, strength=0.05, random_state=0))


def test_refine_refuses_bad_input(model):
    X = _windows(4)
    mask = np.zeros(X.shape, dtype=bool)
    with pytest.raises(DataError, match="strength"):
        model.refine(X, mask, strength=0.0)
    X[0, 0, 0] = np.nan
    with pytest.raises(DataError, match="complete windows"):
        model.refine(X, mask)


def test_joins_are_redrawn_inside_one_draw(model):
    n = 100
    plain, plain_seams = continue_series(model, n, join_strength=None, random_state=0)
    ours, seams = continue_series(model, n, random_state=0)
    assert np.isfinite(ours).all() and ours.shape == plain.shape
    # The forward pass is the same; only windows around the joins are redrawn.
    np.testing.assert_array_equal(plain_seams, np.arange(W, n, W // 2))
    first = plain_seams[0] - W // 2 + W // 6  # first redrawn step
    np.testing.assert_array_equal(ours[0, :first], plain[0, :first])
    assert not np.allclose(ours[0, plain_seams], plain[0, plain_seams])
    # No forward join is left a seam: each lies inside a redrawn part, whose edges are the seams.
    assert not set(seams) & set(plain_seams)
    # Each redrawn window starts inside the one before: its first step is the seam.
    np.testing.assert_array_equal(seams[: len(plain_seams)], plain_seams - W // 2 + W // 6)
    assert len(seams) <= len(plain_seams) + 1  # and the last one's end, if inside the series


def test_held_values_stay_through_the_redraw(model):
    fixed = np.full((60, 2), np.nan)
    fixed[:, 1] = 11.0
    series, _ = continue_series(model, 60, fixed=fixed, random_state=0)
    assert (series[0, :, 1] == 11.0).all() and np.isfinite(series).all()


def test_long_series_use_the_series_sampler_and_restore_the_window_one(model):
    seen = []
    original = model._reverse

    def spy(*args, **kwargs):
        seen.append((model.sampling_steps, model.eta))
        return original(*args, **kwargs)

    model._reverse = spy
    try:
        continue_series(model, 40, random_state=0)
    finally:
        del model._reverse
    assert set(seen) == {(model.series_sampling_steps, 1.0)}
    assert (model.sampling_steps, model.eta) == (TINY["sampling_steps"], 0.0)


def test_evaluate_measures_the_seams_the_draw_made(model):
    """`geniot evaluate --model` puts the seam statistic where continue_series joined two draws
    (the redrawn windows' edges for this model), not at the forward joins."""
    from geniot.tasks.long_synthesis import draw_seams
    from geniot.workflows.evaluation import evaluate_long

    for n, context in ((100, None), (97, 3), (150, 8)):
        _, seams = continue_series(model, n, context=context, random_state=0)
        np.testing.assert_array_equal(seams, draw_seams(n, W, context, redraw=True))
        _, plain = continue_series(model, n, context=context, join_strength=None, random_state=0)
        np.testing.assert_array_equal(plain, draw_seams(n, W, context))
    series, seams = continue_series(model, 200, random_state=0)
    ts = np.datetime64("2026-01-05T00:00") + np.arange(200) * np.timedelta64(1, "h")
    real = _windows(1)[0].repeat(40, axis=0)[:480] + np.random.default_rng(3).normal(0, 0.1, (480, 2))
    real_ts = np.datetime64("2026-01-01T00:00") + np.arange(480) * np.timedelta64(1, "h")
    metrics = evaluate_long(real, series[0], interval_s=3600.0, window=W, model=model, timestamps=ts, real_timestamps=real_ts)
    assert metrics["long_synthetic_n_seams"] == len(seams) and metrics["long_seams"] == "edges of the redrawn joins"
    assert metrics["long_seams_phase_matched"] and np.isfinite(metrics["long_synthetic_seam_phase_ratio"])
