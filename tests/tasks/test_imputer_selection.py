"""SelectingImputer: the held-out check picks a way no worse than linear interpolation on the
series' own kind of gaps, and its interval covers what it claims on outages."""

import numpy as np
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.core.exceptions import DataError
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks import GapImputer
from geniot.tasks.imputer_selection import (
    SelectingImputer,
    gap_distance,
    gap_kinds,
    held_out_mask,
    linear_fill,
)

WINDOW = 12
OUTAGE = 30


def _smooth(n=2400, seed=0):
    """Slow, coupled signals with a little noise: straight lines fill their gaps well."""
    rng = np.random.default_rng(seed)
    drive = np.cumsum(rng.standard_normal(n)) * 0.05
    drive = np.convolve(drive, np.ones(15) / 15, mode="same")
    return np.stack([drive, 2.0 * drive + 1.0, -drive, np.sin(np.arange(n) / 50.0)], axis=1) + 0.01 * rng.standard_normal((n, 4))


def _outages(values, count=12, seed=1):
    """``count`` outages of OUTAGE steps in channels 0 and 1, plus a few dropped points."""
    rng = np.random.default_rng(seed)
    hide = np.zeros(values.shape, dtype=bool)
    for s in np.linspace(100, len(values) - 200, count).astype(int):
        hide[s : s + OUTAGE, :2] = True
    hide |= rng.random(values.shape) < 0.003
    return hide


@pytest.fixture(scope="module")
def bad_model():
    """A Gaussian of a different machine: its fills are confidently wrong, as an undertrained
    model's are."""
    rng = np.random.default_rng(7)
    windows = rng.standard_normal((400, WINDOW, 4)) * 0.05 + np.array([3.0, -2.0, 1.0, 0.0])
    return GaussianBaseline().fit(windows)


@pytest.fixture(scope="module")
def good_model():
    return GapImputer(generator=GaussianBaseline(), window=WINDOW).fit(_smooth(seed=3)).generator_


def _mae(truth, point, where):
    return float(np.abs(point - truth)[where].mean())


def test_auto_is_no_worse_than_linear_where_the_model_is(bad_model):
    truth = _smooth()
    hide = _outages(truth)
    holed = np.where(hide, np.nan, truth)
    plain = GapImputer(generator=bad_model, prefit=True, n_draws=5).transform(holed)
    linear = linear_fill(holed)
    filled, lower, upper, selection = SelectingImputer(generator=bad_model, n_draws=5).transform(holed)
    outage = hide & (gap_kinds(hide) == 2)
    assert _mae(truth, plain, outage) > 5 * _mae(truth, linear, outage)  # the model alone is far worse
    assert _mae(truth, filled, outage) <= 1.05 * _mae(truth, linear, outage)
    assert _mae(truth, filled, hide) <= 1.05 * _mae(truth, linear, hide)
    kinds = {k.kind: k for k in selection.kinds}
    assert set(kinds) == {"short gaps", "outages"}
    assert kinds["outages"].chosen != "model"
    assert {c.name for c in kinds["outages"].checks} == {"model", "gaussian", "linear"}
    assert "outages" in selection.reason and "-> " in selection.reason
    seen = ~hide
    assert np.array_equal(filled[seen], truth[seen]) and np.array_equal(lower[seen], truth[seen])
    assert (lower <= filled + 1e-12).all() and (filled <= upper + 1e-12).all()


def test_auto_keeps_a_good_model(good_model):
    truth = _smooth(seed=4)
    hide = _outages(truth, seed=2)
    holed = np.where(hide, np.nan, truth)
    filled, _, _, selection = SelectingImputer(generator=good_model, n_draws=3).transform(holed)
    outage = hide & (gap_kinds(hide) == 2)
    # The window's Gaussian sees the other, coupled channels: better than a straight line.
    assert _mae(truth, filled, outage) < _mae(truth, linear_fill(holed), outage)
    assert {k.kind: k.chosen for k in selection.kinds}["outages"] in ("model", "gaussian")


def test_interval_covers_what_it_claims_on_outages(bad_model):
    covered, raw = [], []
    for seed in range(3):
        truth = _smooth(seed=10 + seed)
        hide = _outages(truth, seed=seed)
        holed = np.where(hide, np.nan, truth)
        _, lo, up = GapImputer(generator=bad_model, prefit=True, n_draws=10).transform(holed, return_interval=True)
        outage = hide & (gap_kinds(hide) == 2)
        raw.append(((truth >= lo) & (truth <= up))[outage].mean())
        _, lower, upper, _ = SelectingImputer(generator=bad_model, n_draws=10, interval=0.9).transform(holed)
        covered.append(((truth >= lower) & (truth <= upper))[outage].mean())
    assert np.mean(raw) < 0.3  # the model's own band is far too narrow
    assert 0.8 <= np.mean(covered) <= 1.0


def test_held_out_gaps_copy_the_series_own_gaps():
    truth = _smooth(n=1200)
    missing = _outages(truth, count=4)
    hidden, placed, ids = held_out_mask(missing, WINDOW, random_state=0)
    assert placed.get(2, 0) >= 3 and placed.get(1, 0) >= 3
    assert not (hidden.astype(bool) & missing).any()  # only observed entries are hidden
    # Every outage placement hides OUTAGE steps of channels 0 and 1, as the real ones do.
    rows = np.flatnonzero((hidden == 2).any(axis=1))
    runs = np.split(rows, np.flatnonzero(np.diff(rows) > 1) + 1)
    assert all(len(r) == OUTAGE for r in runs)
    # (other channels only where a real outage also had a dropped reading)
    assert (hidden[rows][:, :2] == 2).all() and (hidden[rows][:, 2:] == 2).mean() < 0.05
    again, _, _ = held_out_mask(missing, WINDOW, random_state=0)
    assert ((ids > 0) == (hidden > 0)).all() and ids.max() == sum(placed.values())
    assert np.array_equal(hidden, again)


def test_gap_distance_and_forced_linear(bad_model):
    m = np.zeros((7, 1), dtype=bool)
    m[1:6, 0] = True
    assert gap_distance(m)[:, 0].tolist() == [0, 1, 2, 3, 2, 1, 0]
    truth = _smooth(n=600)
    hide = _outages(truth, count=3)
    holed = np.where(hide, np.nan, truth)
    filled, _, _, selection = SelectingImputer(generator=bad_model, method="linear").transform(holed)
    assert np.allclose(filled, linear_fill(holed))
    assert selection.chosen == "short gaps: linear, outages: linear"
    with pytest.raises(DataError, match="method"):
        SelectingImputer(generator=bad_model, method="best").transform(holed)


def test_cli_impute_says_why(tmp_path):
    import pandas as pd

    truth = _smooth(n=800)
    hide = _outages(truth, count=4)
    frame = pd.DataFrame(np.where(hide, np.nan, truth), columns=["a", "b", "c", "d"])
    frame.insert(0, "timestamp", pd.date_range("2026-01-01", periods=len(frame), freq="min"))
    data = tmp_path / "x.csv"
    frame.to_csv(data, index=False)
    runner = CliRunner()
    fit = runner.invoke(app, ["fit", str(data), "--model", "gaussian", "--window", str(WINDOW), "--out", str(tmp_path / "m")])
    assert fit.exit_code == 0, fit.output
    out = tmp_path / "f.csv"
    res = runner.invoke(app, ["impute", str(tmp_path / "m"), str(data), "--out", str(out), "--draws", "5"])
    assert res.exit_code == 0, res.output
    assert "held-out values" in res.output and "outages" in res.output
    filled = pd.read_csv(out)
    assert not filled[["a", "b", "c", "d"]].isna().any().any() and "a_lower" in filled
