"""Bad plans and bad site data fail early with messages that name the problem."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.io import series_from_frame
from geniot.federated.plan import FederatedPlan
from geniot.federated.sites import load_site


def test_plan_round_trips_as_json():
    plan = FederatedPlan(model="vae", params={"latent_dim": 4}, strategy="fedprox", proximal_mu=0.5, train_rows=100, threshold=2.5)
    assert FederatedPlan.from_json(plan.to_json()) == plan


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"model": "nope"}, "nope"),
        ({"params": {"epochz": 1}}, "epochz"),
        ({"strategy": "fedsgd"}, "strategy"),
        ({"window": 1}, "window"),
        ({"strategy": "fedprox", "proximal_mu": 0.0}, "proximal_mu"),
        ({"dp_noise": 1.0}, "dp_clip"),
        ({"dp_clip": 1.0}, "gaussian"),
        ({"model": "gan", "strategy": "fedprox"}, "fedavg"),
    ],
)
def test_bad_plans_are_named(changes, match):
    with pytest.raises(Exception, match=match):
        FederatedPlan(**changes)


def _write(path, n=60, channels=("a", "b"), labels=False):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.standard_normal((n, len(channels))), columns=list(channels))
    frame.insert(0, "timestamp", pd.date_range("2026-01-01", periods=n, freq="min"))
    if labels:
        frame["anomaly"] = (np.arange(n) > n - 10).astype(int)
    frame.to_csv(path, index=False)
    return path


def test_site_split_follows_the_detector(tmp_path):
    site = load_site(_write(tmp_path / "s.csv", labels=True), window=4, train_rows=40, calibration_fraction=0.25)
    (s,) = site.series
    assert (s.fit_rows, s.normal_rows) == (30, 40)
    assert s.has_test_labels and s.labels[-1]
    assert site.fit_windows().shape == (27, 4, 2)


def test_folder_site_and_channel_order(tmp_path):
    _write(tmp_path / "1.csv")
    _write(tmp_path / "2.csv", channels=("b", "a"))
    site = load_site(tmp_path, window=4)
    assert len(site.series) == 2 and site.channels == ("a", "b")
    assert site.reorder(["b", "a"]).channels == ("b", "a")
    with pytest.raises(DataError, match="federation uses"):
        site.reorder(["a", "c"])


def test_bad_sites_are_named(tmp_path):
    with pytest.raises(DataError, match="not found"):
        load_site(tmp_path / "missing.csv", window=4)
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(DataError, match="notes.txt"):
        load_site(tmp_path / "notes.txt", window=4)
    _write(tmp_path / "short.csv", n=10)
    with pytest.raises(DataError, match="fewer than one window"):
        load_site(tmp_path / "short.csv", window=8)
    (tmp_path / "x").mkdir()
    _write(tmp_path / "x" / "1.csv")
    _write(tmp_path / "x" / "2.csv", channels=("a", "c"))
    with pytest.raises(DataError, match="channels"):
        load_site(tmp_path / "x", window=4)


def test_duckdb_store_site_gives_one_series_per_asset(tmp_path):
    from geniot.data.store import SensorStore

    frame = pd.read_csv(_write(tmp_path / "s.csv", n=40))
    with SensorStore(tmp_path / "plant.duckdb") as store:
        for asset in ("P-1", "P-2"):
            store.append(series_from_frame(frame, asset=asset))
    site = load_site(tmp_path / "plant.duckdb", window=4, train_rows=20)
    assert [s.name for s in site.series] == ["plant.duckdb:P-1", "plant.duckdb:P-2"]
    assert site.channels == ("a", "b") and site.fit_windows().shape == (2 * 12, 4, 2)


def test_series_normalisation_uses_the_normal_rows_only(tmp_path):
    site = load_site(_write(tmp_path / "s.csv", n=60), window=4, train_rows=40, normalize="series")
    (s,) = site.series
    np.testing.assert_allclose(np.nanmean(s.values[:40], axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(np.nanstd(s.values[:40], axis=0), 1.0)
