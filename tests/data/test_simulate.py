"""Tests of the plant simulator: determinism, physics, degradation, faults, gaps, config errors."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.simulate import (
    FAULT_TYPES,
    SIGNALS,
    UNITS,
    PlantConfig,
    SimulatedPlant,
    simulate_plant,
)

CLEAN = {"fault_rate": 0.0, "drop_rate": 0.0, "outage_rate": 0.0, "degrading_fraction": 0.0}


@pytest.fixture(scope="module")
def plant() -> SimulatedPlant:
    return simulate_plant(PlantConfig(n_assets=3, days=2, seed=7))


@pytest.fixture(scope="module")
def clean_plant() -> SimulatedPlant:
    return simulate_plant(n_assets=3, days=3, seed=11, **CLEAN)


class _Run:
    """A simulated plant with its wide frames computed once."""

    def __init__(self, plant: SimulatedPlant) -> None:
        self.plant = plant
        self.wide = {a: plant.wide(a) for a in plant.assets()}


@functools.cache
def _faulty_and_clean(fault: str) -> tuple[_Run, _Run]:
    """The same fleet with only ``fault`` injected at a high rate, and with no faults."""
    cfg = {
        "n_assets": 3,
        "days": 4,
        "seed": 3,
        "drop_rate": 0.0,
        "outage_rate": 0.0,
        "degrading_fraction": 0.0,
    }
    faulty = simulate_plant(**cfg, faults=(fault,), fault_rate=40.0)
    clean = simulate_plant(**cfg, fault_rate=0.0)
    return _Run(faulty), _Run(clean)


# ---------------------------------------------------------------- layout and determinism


def test_layout(plant: SimulatedPlant) -> None:
    n = plant.config.n_steps
    assert n == 2 * 24 * 60
    assert plant.assets() == ["P-1", "P-2", "P-3"]
    assert list(plant.readings.columns) == ["ts", "asset", "signal", "value", "quality"]
    assert plant.readings["ts"].dtype == "datetime64[ns]"
    assert plant.readings["value"].dtype == np.float64
    assert (plant.readings["quality"] == 1.0).all()
    assert set(plant.readings["signal"]) == set(SIGNALS)
    assert set(UNITS) == set(SIGNALS)
    assert not plant.readings["value"].isna().any()  # dropped readings are absent, not NaN
    assert list(plant.labels.columns) == [
        "ts",
        "asset",
        "anomaly",
        "fault",
        "fault_signal",
        "rul_h",
        "regime",
        "speed_setpoint_rpm",
        "health",
    ]
    assert len(plant.labels) == 3 * n
    assert set(plant.labels["anomaly"].unique()) <= {0, 1}
    assert ((plant.labels["anomaly"] == 1) == (plant.labels["fault"] != "normal")).all()
    assert set(plant.labels["regime"]) <= {"low", "nominal", "high"}
    assert plant.labels["health"].between(0.0, 1.0).all()

    w = plant.wide("P-2")
    assert list(w.columns) == ["timestamp", *SIGNALS]
    assert len(w) == n
    assert w["timestamp"].is_monotonic_increasing
    assert (w["timestamp"].diff().dropna() == pd.Timedelta(seconds=60)).all()
    assert w["timestamp"].iloc[0] == pd.Timestamp("2026-01-01")

    wa = plant.wide_all()
    assert list(wa.columns) == ["timestamp", "asset", *SIGNALS]
    assert len(wa) == 3 * n
    pd.testing.assert_frame_equal(
        wa[wa["asset"] == "P-2"].drop(columns="asset").reset_index(drop=True), w
    )
    assert int(wa[list(SIGNALS)].notna().sum().sum()) == len(plant.readings)
    with pytest.raises(DataError, match="P-9"):
        plant.wide("P-9")


def test_same_seed_same_frames_different_seed_differs(plant: SimulatedPlant) -> None:
    again = simulate_plant(PlantConfig(n_assets=3, days=2, seed=7))
    pd.testing.assert_frame_equal(plant.readings, again.readings)
    pd.testing.assert_frame_equal(plant.labels, again.labels)
    other = simulate_plant(PlantConfig(n_assets=3, days=2, seed=8))
    a, b = plant.wide("P-1"), other.wide("P-1")
    assert not np.allclose(a["flow_m3h"].fillna(0), b["flow_m3h"].fillna(0))


def test_assets_differ(clean_plant: SimulatedPlant) -> None:
    means = [clean_plant.wide(a)[list(SIGNALS)].mean() for a in clean_plant.assets()]
    for i in range(len(means)):
        for j in range(i + 1, len(means)):
            assert not np.allclose(means[i], means[j], rtol=0.02)
    info = clean_plant.asset_info
    assert info["rated_flow_m3h"].nunique() == 3


def test_overrides_and_adding_assets_keeps_existing_ones() -> None:
    small = simulate_plant(PlantConfig(n_assets=2, days=1, seed=5, **CLEAN))
    big = simulate_plant(PlantConfig(n_assets=4, days=1, seed=1, **CLEAN), seed=5)
    assert big.config.seed == 5
    pd.testing.assert_frame_equal(small.wide("P-2"), big.wide("P-2"))


# ---------------------------------------------------------------- physics


def test_physical_plausibility(clean_plant: SimulatedPlant) -> None:
    labels = clean_plant.labels
    for asset in clean_plant.assets():
        w = clean_plant.wide(asset)
        normal = (labels.loc[labels["asset"] == asset, "fault"] == "normal").to_numpy()
        d = w[normal]
        assert np.isfinite(d[list(SIGNALS)].to_numpy()).all()
        assert d["flow_m3h"].corr(d["speed_rpm"]) > 0.8
        assert d["motor_current_a"].corr(d["speed_rpm"]) > 0.7
        assert d["pressure_bar"].corr(d["speed_rpm"]) > 0.8
        # affinity laws: log-log slopes of flow and pressure against speed
        ls = np.log(d["speed_rpm"])
        assert np.polyfit(ls, np.log(d["flow_m3h"]), 1)[0] == pytest.approx(1.0, abs=0.2)
        assert np.polyfit(ls, np.log(d["pressure_bar"]), 1)[0] == pytest.approx(2.0, abs=0.3)
        assert d["speed_rpm"].between(800, 1600).all()
        assert (d[["motor_current_a", "flow_m3h", "pressure_bar"]] > 0).all().all()
        assert d["vibration_rms_mms"].between(0.05, 15).all()
        assert d["ambient_temp_c"].between(-5, 45).all()
        assert d["motor_temp_c"].between(d["ambient_temp_c"], 140).all()
        assert d["bearing_temp_c"].between(d["ambient_temp_c"], 120).all()
        # smooth, autocorrelated signals (thermal lag, AR noise): lag-1 autocorrelation high
        assert d["motor_temp_c"].autocorr(1) > 0.95
        assert d["flow_m3h"].autocorr(1) > 0.9
        # speed follows the setpoint
        sp = labels.loc[labels["asset"] == asset, "speed_setpoint_rpm"].to_numpy()[normal]
        assert np.corrcoef(sp, d["speed_rpm"])[0, 1] > 0.95


def test_regimes_switch_and_last_hours(clean_plant: SimulatedPlant) -> None:
    lab = clean_plant.labels
    for asset in clean_plant.assets():
        reg = lab.loc[lab["asset"] == asset, "regime"].to_numpy()
        changes = np.flatnonzero(reg[1:] != reg[:-1])
        assert len(changes) >= 1
        if len(changes) >= 2:
            assert np.median(np.diff(changes)) >= 60  # regimes last hours, not minutes


# ---------------------------------------------------------------- degradation


def test_degradation_to_failure_and_replacement() -> None:
    plant = simulate_plant(n_assets=3, days=7, seed=2, **{**CLEAN, "degrading_fraction": 1.0})
    lab = plant.labels
    assert plant.asset_info["degrading"].all()
    for asset in plant.assets():
        la = lab[lab["asset"] == asset].reset_index(drop=True)
        w = plant.wide(asset)
        fail = int(np.flatnonzero(la["rul_h"].to_numpy() == 0.0)[0])
        rul = la["rul_h"].to_numpy()[: fail + 1]
        assert (np.diff(rul) < 0).all()
        assert rul[-1] == 0.0
        assert rul[0] == pytest.approx(fail / 60.0)
        assert la["health"].iloc[fail] == 0.0
        assert la["health"].iloc[0] == 1.0
        assert (np.diff(la["health"].to_numpy()[: fail + 1]) <= 0).all()
        # replaced at failure: health back to 1 and no failure ahead (NaN rul)
        assert (la["health"].iloc[fail + 1 :] == 1.0).all()
        assert la["rul_h"].iloc[fail + 1 :].isna().all()
        assert plant.asset_info.set_index("asset").loc[asset, "failure_ts"] == la["ts"][fail]
        vib = w["vibration_rms_mms"].to_numpy()
        early = vib[: fail // 2].mean()
        late = vib[int(0.9 * fail) : fail + 1].mean()
        assert late > 1.5 * early
        bt = w["bearing_temp_c"].to_numpy()
        amb = w["ambient_temp_c"].to_numpy()
        assert (bt - amb)[int(0.9 * fail) : fail + 1].mean() > (bt - amb)[: fail // 2].mean() + 3
        assert (la["anomaly"] == 0).all()  # degradation is not an injected fault


def test_no_degradation_and_rul_cap() -> None:
    plant = simulate_plant(n_assets=2, days=1, seed=4, **CLEAN)
    assert plant.labels["rul_h"].isna().all()
    assert (plant.labels["health"] == 1.0).all()
    capped = simulate_plant(
        n_assets=2, days=2, seed=4, **{**CLEAN, "degrading_fraction": 1.0}, rul_cap_h=10.0
    )
    assert capped.labels["rul_h"].max() == 10.0
    assert not capped.labels["rul_h"].isna().any()
    assert (capped.labels["rul_h"] == 0.0).sum() == 2


def test_degrading_fraction_counts_assets() -> None:
    plant = simulate_plant(n_assets=6, days=1, seed=0, degrading_fraction=0.5)
    assert int(plant.asset_info["degrading"].sum()) == 3


# ---------------------------------------------------------------- faults


def _episodes(plant: SimulatedPlant, fault: str) -> pd.DataFrame:
    ev = plant.events
    assert list(ev.columns) == ["asset", "fault", "fault_signal", "start", "end", "n_rows"]
    assert len(ev) >= 2, f"no {fault} episodes injected"
    assert set(ev["fault"]) == {fault}
    return ev


def _labelled(plant: SimulatedPlant, asset: str, fault: str) -> np.ndarray:
    lab = plant.labels[plant.labels["asset"] == asset]
    return (lab["fault"] == fault).to_numpy()


@pytest.mark.parametrize("fault", FAULT_TYPES)
def test_fault_labels(fault: str) -> None:
    faulty = _faulty_and_clean(fault)[0].plant
    ev = _episodes(faulty, fault)
    lab = faulty.labels
    assert set(lab["fault"]) == {"normal", fault}
    assert int((lab["fault"] == fault).sum()) == int(ev["n_rows"].sum())
    assert ((lab["anomaly"] == 1) == (lab["fault"] == fault)).all()
    sig = lab.loc[lab["anomaly"] == 1, "fault_signal"]
    if fault in ("bearing_wear", "cavitation"):
        assert (sig == "").all()
    else:
        assert sig.isin(SIGNALS).all()
    assert (lab.loc[lab["anomaly"] == 0, "fault_signal"] == "").all()


def _window(w: pd.DataFrame, start, end) -> pd.Series:
    return (w["timestamp"] >= start) & (w["timestamp"] <= end)


@pytest.mark.parametrize("fault", ["sensor_drift", "stuck_sensor", "spikes"])
def test_sensor_faults_touch_only_their_signal_and_rows(fault: str) -> None:
    f, c = _faulty_and_clean(fault)
    faulty = f.plant
    for asset in faulty.assets():
        wf, wc = f.wide[asset], c.wide[asset]
        lab = faulty.labels[faulty.labels["asset"] == asset].reset_index(drop=True)
        diff = (wf[list(SIGNALS)] - wc[list(SIGNALS)]).to_numpy()
        touched = np.zeros_like(diff, dtype=bool)
        for i, s in enumerate(SIGNALS):
            touched[:, i] = (lab["fault_signal"] == s).to_numpy()
        # the physics is identical: readings differ only on labelled rows of the named signal
        assert np.all(diff[~touched] == 0.0)


def test_stuck_sensor_is_constant() -> None:
    f, c = _faulty_and_clean("stuck_sensor")
    for _, ep in _episodes(f.plant, "stuck_sensor").iterrows():
        win = _window(f.wide[ep["asset"]], ep["start"], ep["end"])
        vals = f.wide[ep["asset"]].loc[win, ep["fault_signal"]]
        assert len(vals) >= 2
        assert vals.nunique() == 1  # frozen: zero variance
        assert c.wide[ep["asset"]].loc[win, ep["fault_signal"]].std() > 0.0


def test_sensor_drift_shifts_mean_linearly() -> None:
    f, c = _faulty_and_clean("sensor_drift")
    for _, ep in _episodes(f.plant, "sensor_drift").iterrows():
        s = ep["fault_signal"]
        wf, wc = f.wide[ep["asset"]], c.wide[ep["asset"]]
        win = _window(wf, ep["start"], ep["end"])
        d = (wf.loc[win, s] - wc.loc[win, s]).to_numpy()
        level = wc[s].abs().mean()
        assert abs(d[-1]) > 0.1 * level  # drifted far by the end
        assert abs(d[len(d) // 2 :].mean()) > abs(d[: len(d) // 2].mean())  # grows
        assert np.all(np.abs(np.diff(np.abs(d))) < 0.01 * level)  # linear: no jumps


def test_spikes_are_large_and_isolated() -> None:
    f, c = _faulty_and_clean("spikes")
    faulty = f.plant
    for asset in faulty.assets():
        lab = faulty.labels[faulty.labels["asset"] == asset].reset_index(drop=True)
        wf, wc = f.wide[asset], c.wide[asset]
        for row in np.flatnonzero(lab["fault"] == "spikes"):
            s = lab["fault_signal"][row]
            assert abs(wf[s][row] - wc[s][row]) > 0.25 * wc[s].abs().mean()
    ev = faulty.events
    assert ((ev["end"] - ev["start"]) / pd.Timedelta(minutes=1) + 1 >= ev["n_rows"]).all()


def test_cavitation_drops_flow_and_pressure_and_shakes() -> None:
    f, c = _faulty_and_clean("cavitation")
    episodes = _episodes(f.plant, "cavitation")
    assert (episodes["n_rows"] > 0).all() and (episodes["end"] > episodes["start"]).all()
    for asset in f.plant.assets():
        on = _labelled(f.plant, asset, "cavitation")
        if not on.any():
            continue
        wf, wc = f.wide[asset][on], c.wide[asset][on]
        assert (wf["flow_m3h"] / wc["flow_m3h"]).mean() < 0.92
        assert (wf["pressure_bar"] / wc["pressure_bar"]).mean() < 0.9
        dv = wf["vibration_rms_mms"] - wc["vibration_rms_mms"]
        assert dv.mean() > 0.3
        assert dv.std() > 0.3  # noisy, spiky
        assert (wf["motor_current_a"] < wc["motor_current_a"]).mean() > 0.8  # less power drawn
        # the speed (the VFD) does not notice
        np.testing.assert_allclose(wf["speed_rpm"], wc["speed_rpm"])


def test_bearing_wear_raises_vibration_and_temperature() -> None:
    f, c = _faulty_and_clean("bearing_wear")
    for _, ep in _episodes(f.plant, "bearing_wear").iterrows():
        wf, wc = f.wide[ep["asset"]], c.wide[ep["asset"]]
        win = _window(wf, ep["start"], ep["end"]).to_numpy()
        dv = (wf["vibration_rms_mms"] - wc["vibration_rms_mms"]).to_numpy()[win]
        dt = (wf["bearing_temp_c"] - wc["bearing_temp_c"]).to_numpy()[win]
        q = len(dv) // 4
        assert dv[-q:].mean() > 1.0
        assert dv[-q:].mean() > 3 * dv[:q].mean()  # growing amplitude
        assert dv[-q:].std() > dv[:q].std()
        assert dt[-q:].mean() > 2.0


def test_fault_rate_zero_or_no_types_means_no_faults() -> None:
    assert (simulate_plant(days=1, fault_rate=0.0).labels["anomaly"] == 0).all()
    none = simulate_plant(days=1, fault_rate=50.0, faults=())
    assert (none.labels["anomaly"] == 0).all()
    assert none.events.empty


# ---------------------------------------------------------------- gaps


def test_dropped_readings_and_outages() -> None:
    cfg = {"n_assets": 4, "days": 4, "seed": 9, "fault_rate": 2.0, "degrading_fraction": 0.5}
    gappy = simulate_plant(**cfg, drop_rate=0.02, outage_rate=1.0)
    full = simulate_plant(**cfg, drop_rate=0.0, outage_rate=0.0)
    n = gappy.config.n_steps
    assert len(gappy.labels) == 4 * n
    pd.testing.assert_frame_equal(gappy.labels, full.labels)  # labels unaffected by gaps
    assert not full.wide_all()[list(SIGNALS)].isna().any().any()
    expected = 0.02 + 1.0 * (5 + 60) / 2 / (24 * 60)  # singles + outage share
    fracs = []
    for asset in gappy.assets():
        wg, wf = gappy.wide(asset), full.wide(asset)
        assert len(wg) == n
        nan = wg[list(SIGNALS)].isna().to_numpy()
        fracs.append(nan.mean())
        keep = ~nan
        np.testing.assert_array_equal(
            wg[list(SIGNALS)].to_numpy()[keep], wf[list(SIGNALS)].to_numpy()[keep]
        )
    assert 0.5 * expected < np.mean(fracs) < 2.0 * expected
    all_nan_rows = gappy.wide_all()[list(SIGNALS)].isna().all(axis=1)
    assert all_nan_rows.sum() >= 5  # outages blank whole rows
    assert len(gappy.readings) == int((~gappy.wide_all()[list(SIGNALS)].isna()).sum().sum())


# ---------------------------------------------------------------- config errors and I/O


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n_assets", 0),
        ("n_assets", 1.5),
        ("days", 0),
        ("days", -1.0),
        ("interval_s", 0),
        ("faults", ("bearing_wear", "meltdown")),
        ("fault_rate", -0.1),
        ("drop_rate", -0.01),
        ("drop_rate", 1.0),
        ("outage_rate", -1.0),
        ("degrading_fraction", 1.5),
        ("seed", -1),
        ("start", "not a date"),
        ("regime_hours", 0.0),
    ],
)
def test_bad_config_names_the_field(field: str, value: object) -> None:
    with pytest.raises(DataError, match=field):
        PlantConfig(**{field: value})
    with pytest.raises(DataError, match=field):
        simulate_plant(**{field: value})


def test_unknown_override_is_a_data_error() -> None:
    with pytest.raises(DataError, match="n_pumps"):
        simulate_plant(n_pumps=3)


def test_write_round_trip(tmp_path, plant: SimulatedPlant) -> None:
    out = plant.write(tmp_path / "long.parquet")
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(
        back.astype({"asset": str, "signal": str}),
        plant.readings.astype({"asset": str, "signal": str}),
        check_dtype=False,
    )
    out = plant.write(tmp_path / "wide.csv", layout="wide")
    back = pd.read_csv(out, parse_dates=["timestamp"])
    assert list(back.columns) == ["timestamp", "asset", *SIGNALS]
    assert len(back) == len(plant.labels)
    np.testing.assert_allclose(
        back[list(SIGNALS)].to_numpy(), plant.wide_all()[list(SIGNALS)].to_numpy(), rtol=1e-12
    )
    single = simulate_plant(n_assets=1, days=0.5)
    back = pd.read_csv(single.write(tmp_path / "one.csv"))
    assert "asset" in back.columns and "speed_rpm" in back.columns  # single asset: wide default
    with pytest.raises(DataError, match="xlsx"):
        plant.write(tmp_path / "x.xlsx")
    with pytest.raises(DataError, match="layout"):
        plant.write(tmp_path / "x.csv", layout="tall")
