"""RULEstimator's ensemble, held-out folds, conformal band, learning-rate schedule and smoothing."""

import numpy as np
import pandas as pd
import pytest
import torch

from geniot.core.exceptions import DataError
from geniot.predictors.rul import RULEstimator, _Ensemble, _RULNet


def _units(n_units=10, seed=0):
    """Units of 60-110 cycles whose two sensors drift up as they wear, with noise."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_units + 1):
        n = int(rng.integers(60, 110))
        wear = (np.arange(n) / n) ** 2
        rows.append(pd.DataFrame({"unit": u, "cycle": np.arange(1, n + 1),
                                  "s1": 3 * wear + 0.1 * rng.standard_normal(n),
                                  "s2": 2 * wear + 0.3 * rng.standard_normal(n)}))  # fmt: skip
    return pd.concat(rows, ignore_index=True)


@pytest.fixture(scope="module")
def ensemble():
    return RULEstimator(window=10, cap=50, epochs=25, patience=5, n_models=3, random_state=0).fit(_units())


def test_each_net_holds_out_its_own_units_and_the_band_is_calibrated(ensemble):
    assert isinstance(ensemble.module_, _Ensemble) and len(ensemble.module_.members) == 3
    assert len(ensemble.histories_) == 3 and all("val_loss" in h[0] for h in ensemble.histories_)
    text = "\n".join(ensemble.choices_)
    assert "ensemble: 3 nets" in text and "each of the 3 nets holds out its own units" in text
    assert "split conformal on" in text
    folds = ensemble._choose_validation(np.arange(1, 11), 0)
    assert [len(f) for f in folds] == [2, 2, 2]
    assert len(set(np.concatenate(folds).tolist())) == 6  # disjoint folds of one permutation
    lo, hi = ensemble.band_scale_
    assert lo > 0 and hi > 0 and (lo, hi) != (1.0, 1.0)


def test_the_band_is_the_nets_band_scaled(ensemble):
    test = _units(n_units=4, seed=1)
    pred = ensemble.predict(test)
    with torch.no_grad():
        windows, _ = ensemble._windows(test.sort_values(["unit", "cycle"]).reset_index(drop=True),
                                       ensemble._inputs(test), last_only=True)  # fmt: skip
        raw = ensemble.module_(torch.as_tensor(windows)).numpy() * ensemble.cap_
    lo, hi = ensemble.band_scale_
    expected_lower = np.clip(raw[:, 1] - lo * (raw[:, 1] - raw[:, 0]), 0, ensemble.cap_)
    expected_upper = np.clip(raw[:, 1] + hi * (raw[:, 2] - raw[:, 1]), 0, ensemble.cap_)
    np.testing.assert_allclose(pred["lower"], expected_lower, rtol=1e-5, atol=1e-4)
    np.testing.assert_allclose(pred["upper"], expected_upper, rtol=1e-5, atol=1e-4)
    assert (pred["lower"] <= pred["rul"]).all() and (pred["rul"] <= pred["upper"]).all()


def test_calibrated_band_covers_about_80_percent_of_the_held_out_windows():
    frame = _units(n_units=10, seed=2)
    est = RULEstimator(window=10, cap=50, epochs=15, patience=5, n_models=5, random_state=1).fit(frame)
    folds = est._choose_validation(np.arange(1, 11), 1)
    x = est._inputs(frame)
    windows, ends = est._windows(frame, x, last_only=False)
    rul = frame.groupby("unit")["cycle"].transform("max").to_numpy() - frame["cycle"].to_numpy()
    y = np.minimum(rul, est.cap_)[ends] / est.cap_
    covered = []
    for net, fold in zip(est.module_.members, folds, strict=True):  # each net on the units it did not learn
        pick = np.isin(frame["unit"].to_numpy()[ends], fold)
        with torch.no_grad():
            q = net(torch.as_tensor(windows[pick])).numpy()
        mid = q[:, 1]
        lower, upper = mid - est.band_scale_[0] * (mid - q[:, 0]), mid + est.band_scale_[1] * (q[:, 2] - mid)
        covered.append((y[pick] >= lower - 1e-6) & (y[pick] <= upper + 1e-6))
    assert 0.75 <= np.concatenate(covered).mean() <= 0.9


def test_save_load_keeps_the_ensemble_and_the_band(ensemble, tmp_path):
    test = _units(n_units=3, seed=3)
    again = RULEstimator.load(ensemble.save(tmp_path / "m"))
    assert len(again.module_.members) == 3 and again.band_scale_ == pytest.approx(ensemble.band_scale_)
    pd.testing.assert_frame_equal(ensemble.predict(test), again.predict(test))


def test_a_single_net_model_saved_before_the_ensemble_still_loads(ensemble, tmp_path):
    """Older model folders hold one net's weights and no band scale: they load as a one-net ensemble."""
    import json

    path = ensemble.save(tmp_path / "old")
    state = json.loads((path / "rul.json").read_text())
    del state["band_scale_"], state["histories_"], state["params"]["n_models"]
    (path / "rul.json").write_text(json.dumps(state))
    net = ensemble.module_.members[0]
    torch.save(net.state_dict(), path / "weights.pt")
    old = RULEstimator.load(path)
    assert len(old.module_.members) == 1 and old.band_scale_ == [1.0, 1.0]
    test = _units(n_units=2, seed=4)
    windows, _ = old._windows(test, old._inputs(test), last_only=True)
    with torch.no_grad():
        assert isinstance(old.module_.members[0], _RULNet)
        np.testing.assert_allclose(old.predict(test)["rul"], np.clip(net(torch.as_tensor(windows)).numpy()[:, 1] * old.cap_, 0, old.cap_),
                                   rtol=1e-5)  # fmt: skip


def test_smoothing_is_causal_and_said():
    frame = _units(n_units=6, seed=5)
    est = RULEstimator(window=8, cap=50, epochs=2, fixed_epochs=True, n_models=1, smoothing=0.3, random_state=0).fit(frame)
    assert "exponentially smoothed" in "\n".join(est.choices_)
    trajectory = est.predict_trajectory(frame)
    unit = frame[frame["unit"] == 2]
    cut = unit.iloc[: len(unit) // 2]  # a test unit stopped half-way sees only its earlier rows
    at_cut = trajectory[(trajectory["unit"] == 2) & (trajectory["cycle"] == cut["cycle"].iloc[-1])]
    assert est.predict(cut)["rul"].iloc[0] == pytest.approx(at_cut["rul"].iloc[0], rel=1e-5)
    smoothed = est._inputs(unit.reset_index(drop=True))
    assert np.abs(np.diff(smoothed, axis=0)).mean() < np.abs(np.diff(est._normalise(unit), axis=0)).mean()


def test_fixed_epochs_uses_a_cosine_schedule_and_no_calibration():
    est = RULEstimator(window=8, cap=50, epochs=3, fixed_epochs=True, n_models=2, random_state=0).fit(_units(n_units=6))
    text = "\n".join(est.choices_)
    assert "not calibrated (no held-out units)" in text and est.band_scale_ == [1.0, 1.0]
    assert [len(h) for h in est.histories_] == [3, 3]


@pytest.mark.parametrize("bad", [{"n_models": 0}, {"lr_schedule": "steps"}, {"smoothing": 1.5}])
def test_bad_options_are_named(bad):
    with pytest.raises(DataError, match=next(iter(bad))):
        RULEstimator(**bad).fit(_units(n_units=2))
