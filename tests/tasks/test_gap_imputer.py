"""GapImputer: observed values kept exactly, oracle agreement with the Gaussian baseline,
calibrated intervals, stitching over long series, clear errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geniot.core.exceptions import CapabilityError, DataError, NotFittedError
from geniot.models.gaussian import GaussianBaseline
from geniot.models.gaussian.linalg import condition
from geniot.tasks import GapImputer

WINDOW = 12


def _series(n=1200, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    base = np.sin(t / 7.0)
    return np.stack(
        [base + 0.1 * rng.standard_normal(n), 0.5 * base + 0.1 * rng.standard_normal(n), np.cos(t / 7.0) + 0.1 * rng.standard_normal(n)],
        axis=1,
    )


@pytest.fixture(scope="module")
def fitted():
    X = _series()
    return GapImputer(generator=GaussianBaseline(), window=WINDOW).fit(X[:800]).generator_


def _with_gaps(X, rate, seed):
    rng = np.random.default_rng(seed)
    Xm = X.copy()
    Xm[rng.random(X.shape) < rate] = np.nan
    return Xm


@settings(max_examples=15, deadline=None)
@given(rate=st.floats(0.0, 0.7), seed=st.integers(0, 10_000), n=st.integers(WINDOW, 200), draws=st.integers(1, 3))
def test_observed_values_are_kept_bit_for_bit(fitted, rate, seed, n, draws):
    Xm = _with_gaps(_series(n, seed), rate, seed)
    Xm[0] = 0.1  # no all-NaN column
    imputer = GapImputer(generator=fitted, prefit=True, n_draws=draws, random_state=seed)
    filled, lower, upper = imputer.transform(Xm, return_interval=True)
    seen = ~np.isnan(Xm)
    assert np.array_equal(filled[seen], Xm[seen])
    assert np.array_equal(lower[seen], Xm[seen]) and np.array_equal(upper[seen], Xm[seen])
    assert np.isfinite(filled).all()
    assert (lower <= filled + 1e-12).all() and (filled <= upper + 1e-12).all()


def _closed_form(model, windows, mask):
    """E[missing | observed] computed here from the model's mean and covariance."""
    d = windows.shape[1] * windows.shape[2]
    out = []
    for w, m in zip(windows, mask, strict=True):
        z = ((np.where(m, w, 0.0) - model.channel_mean_) / model.channel_std_).reshape(d)
        obs = m.reshape(d)
        cmean, _ = condition(model.mean_[:d], model.covariance_[:d, :d], obs, z[obs][None])
        full = z.copy()
        full[~obs] = cmean[0]
        out.append(full.reshape(w.shape) * model.channel_std_ + model.channel_mean_)
    return np.where(mask, windows, np.stack(out))


def test_point_mean_equals_gaussian_conditional_expectation(fitted):
    X = _series(10 * WINDOW, seed=3)
    Xm = _with_gaps(X, 0.3, seed=4)
    Xm[5 * WINDOW + 2 : 5 * WINDOW + 9, :] = np.nan  # a whole-row outage
    imputer = GapImputer(generator=fitted, prefit=True, stride=WINDOW, point="mean")
    filled = imputer.transform(Xm)
    windows = Xm.reshape(10, WINDOW, 3)
    expected = _closed_form(fitted, windows, ~np.isnan(windows)).reshape(-1, 3)
    np.testing.assert_allclose(filled, expected, rtol=0, atol=1e-10)


def test_single_draw_equals_the_generators_imputation(fitted):
    X = _series(6 * WINDOW, seed=5)
    Xm = _with_gaps(X, 0.25, seed=6)
    filled = GapImputer(generator=fitted, prefit=True, stride=WINDOW, random_state=11).transform(Xm)
    windows = Xm.reshape(6, WINDOW, 3)
    draw = fitted.impute(windows, ~np.isnan(windows), random_state=11)[0].reshape(-1, 3)
    np.testing.assert_array_equal(filled, draw)


def test_median_and_interval_are_calibrated_on_data_from_the_model(fitted):
    # Windows drawn from the model itself: the truth is a draw of the same distribution.
    truth = fitted.sample(40, random_state=1).reshape(-1, 3)
    Xm = _with_gaps(truth, 0.3, seed=2)
    gaps = np.isnan(Xm)
    imputer = GapImputer(generator=fitted, prefit=True, n_draws=40, interval=0.8, random_state=3)
    filled, lower, upper = imputer.transform(Xm, return_interval=True)
    coverage = ((truth >= lower) & (truth <= upper))[gaps].mean()
    assert 0.72 < coverage < 0.88
    exact = GapImputer(generator=fitted, prefit=True, point="mean").transform(Xm)
    spread = np.abs(exact - truth)[gaps].mean()
    # 80 pooled draws (two overlapping windows) put the median well inside the noise
    assert np.abs(filled - exact)[gaps].mean() < 0.4 * spread


def test_long_block_gap_is_filled_close_to_the_signal(fitted):
    X = _series(600, seed=7)
    Xm = X.copy()
    Xm[300:330, 1] = np.nan  # a 30-step outage of one sensor, longer than the window
    filled = GapImputer(generator=fitted, prefit=True, n_draws=5).transform(Xm)
    err = np.abs(filled[300:330, 1] - X[300:330, 1]).mean()
    assert err < 0.2  # the other channels carry the shared sine; noise sd is 0.1
    naive = np.abs(np.nanmean(Xm[:, 1]) - X[300:330, 1]).mean()
    assert err < 0.5 * naive


def test_series_type_is_kept(fitted):
    from geniot.data.series import SensorSeries

    X = _with_gaps(_series(100, 1), 0.2, 1)
    s = SensorSeries(timestamps=None, values=X, channels=("a", "b", "c"))
    out = GapImputer(generator=fitted, prefit=True).transform(s)
    assert isinstance(out, SensorSeries) and out.channels == s.channels
    assert not np.isnan(out.values).any()


def test_bad_inputs_name_the_problem(fitted):
    imputer = GapImputer(generator=fitted, prefit=True)
    X = _series(100)
    dead = X.copy()
    dead[:, 2] = np.nan
    with pytest.raises(DataError, match="channel 2.*no observed value"):
        imputer.transform(dead)
    with pytest.raises(DataError, match="fewer than the model's window"):
        imputer.transform(np.where(np.arange(WINDOW - 2)[:, None] == 0, np.nan, X[: WINDOW - 2]))
    with pytest.raises(DataError, match="fitted on 3 channels"):
        imputer.transform(X[:, :2])
    inf = X.copy()
    inf[7, 1] = np.inf
    with pytest.raises(DataError, match="row 8"):
        imputer.transform(inf)
    with pytest.raises(DataError, match="stride"):
        GapImputer(generator=fitted, prefit=True, stride=WINDOW + 1).transform(_with_gaps(X, 0.1, 0))


def test_wrong_channel_names_are_named():
    from geniot.data.series import SensorSeries

    X = _series(200)
    model = GaussianBaseline().fit(np.stack([X[i : i + WINDOW] for i in range(0, 150, 3)]), channels=["a", "b", "c"])
    s = SensorSeries(timestamps=None, values=X, channels=("a", "b", "temp"))
    with pytest.raises(DataError, match=r"missing \['c'\].*unexpected \['temp'\]"):
        GapImputer(generator=model, prefit=True).transform(s)


def test_generator_without_imputation_is_refused():
    torch = pytest.importorskip("torch")  # noqa: F841
    from geniot.models.gan import WGANGenerator

    with pytest.raises(CapabilityError, match="cannot fill gaps"):
        GapImputer(generator=WGANGenerator(epochs=1), prefit=True).fit()
    with pytest.raises(CapabilityError):
        GapImputer(generator=WGANGenerator(epochs=1)).fit(np.zeros((10, WINDOW, 2)))


def test_unfitted_imputer_says_so():
    with pytest.raises(NotFittedError):
        GapImputer(generator=GaussianBaseline()).transform(_series(50))


def test_fit_from_a_series_then_fill():
    X = _series(400)
    imputer = GapImputer(generator=GaussianBaseline(), window=WINDOW).fit(X)
    assert imputer.generator_.n_steps_ == WINDOW
    assert imputer.generator is not imputer.generator_  # the given generator is cloned, not changed
    assert not imputer.generator.is_fitted
