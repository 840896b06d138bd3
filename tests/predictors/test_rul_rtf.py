"""Run-to-failure CSVs other than C-MAPSS: reader, interval, choices from the data, conditions,
whole-unit validation, and the scores."""

import numpy as np
import pandas as pd
import pytest

from geniot.core.exceptions import DataError
from geniot.data.rtf import detect_conditions, read_rtf, read_unit_rul
from geniot.metrics.rul import phm2012_score, rul_scores
from geniot.predictors.rul import RULEstimator


def _units(n_units=6, seed=0, step_s=30.0):
    """Units sampled every ``step_s`` seconds, lives of hours, a two-valued condition that shifts a sensor."""
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(1, n_units + 1):
        n = int(rng.integers(150, 260))
        cond = "A" if u % 2 else "B"
        start = pd.Timestamp("2026-01-01") + pd.Timedelta(days=u)
        for i in range(n):
            wear = (i / n) ** 2
            rows.append({"unit": f"u{u}", "timestamp": start + pd.Timedelta(seconds=step_s * i), "condition": cond,
                         "vib": 1 + 3 * wear + (2.0 if cond == "B" else 0.0) + 0.05 * rng.standard_normal(),
                         "temp": 40 + 10 * wear + 0.2 * rng.standard_normal()})  # fmt: skip
    return pd.DataFrame(rows)


def test_reader_reads_timestamps_interval_and_semicolons(tmp_path):
    path = tmp_path / "rtf.csv"
    _units().to_csv(path, sep=";", index=False)
    rtf = read_rtf(path)
    assert rtf.time_unit == "min" and rtf.interval == pytest.approx(0.5)
    assert any("sampling interval: 0.5 min" in n for n in rtf.notes)
    first = rtf.frame[rtf.frame["unit"] == "u1"]
    assert first["time"].iloc[0] == 0 and first["cycle"].tolist()[:3] == [1, 2, 3]
    assert read_rtf(path, time_unit="h").interval == pytest.approx(0.5 / 60)


def test_cycle_column_with_an_interval_gives_time_units(tmp_path):
    frame = pd.DataFrame({"unit": [1, 1, 1, 2, 2], "cycle": [1, 2, 3, 1, 2], "s": [1.0, 2, 3, 1, 2]})
    path = tmp_path / "c.csv"
    frame.to_csv(path, index=False)
    assert read_rtf(path).time_unit == "cycles"
    rtf = read_rtf(path, interval="10s", time_unit="s")
    assert rtf.frame["time"].tolist() == [0, 10, 20, 0, 10]
    with pytest.raises(DataError, match="--interval"):
        read_rtf(path, interval="ten")


def test_bad_inputs_are_named(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"unit": [1, 1], "timestamp": ["2026-01-01 00:00", "soon"], "s": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="not a timestamp"):
        read_rtf(path)
    pd.DataFrame({"unit": [1], "s": [1]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="no time"):
        read_rtf(path)
    pd.DataFrame({"unit": [1, 1], "cycle": [1, 1], "s": [1, 2]}).to_csv(path, index=False)
    with pytest.raises(DataError, match="two rows at the same time"):
        read_rtf(path)


def test_conditions_detected_and_choices_printed(tmp_path):
    path = tmp_path / "rtf.csv"
    _units().to_csv(path, index=False)
    rtf = read_rtf(path)
    assert detect_conditions(rtf.frame, ["condition", "vib", "temp"]) == ["condition"]
    est = RULEstimator(epochs=3, fixed_epochs=True, max_minutes=None).fit(rtf.frame, time_unit=rtf.time_unit)
    text = "\n".join(est.choices_)
    assert "condition (few values, piecewise constant per unit)" in text and "standardised per condition" in text
    lives = rtf.frame.groupby("unit")["time"].max()
    assert est.cap_ == pytest.approx(0.6 * lives.median()) and "0.6 x the median unit life" in text
    assert "15% of the median life" in text and est.window_ * est.step_ >= 0.15 * rtf.frame.groupby("unit").size().median() - 1
    assert "exactly 3 epochs" in text and len(est.history_) == 3
    assert est.features_ == ["vib", "temp"]
    pred = est.predict(rtf.frame)
    assert pred["rul"].max() <= est.cap_ + 1e-9
    # declared conditions win; none declared means the column is refused as a text sensor
    with pytest.raises(DataError, match="not numeric and not operating conditions"):
        RULEstimator(epochs=1, condition_columns=[]).fit(rtf.frame)


def test_validation_holds_out_whole_units_and_says_so():
    frame = _units(n_units=10)
    frame = frame.assign(cycle=frame.groupby("unit").cumcount() + 1).drop(columns="timestamp")
    est = RULEstimator(epochs=4, patience=2, max_minutes=None, condition_columns=["condition"]).fit(frame)
    text = "\n".join(est.choices_)
    assert "validation: 2 whole unit(s) held out" in text and "patience 2" in text and "kept epoch" in text
    est = RULEstimator(epochs=2, val_units=["u1", "u3", "u5"], condition_columns=["condition"]).fit(frame)
    assert "['u1', 'u3', 'u5']" in "\n".join(est.choices_)
    with pytest.raises(DataError, match="not all are training units"):
        RULEstimator(epochs=1, val_units=["nope"], condition_columns=["condition"]).fit(frame)


def test_gate_gives_the_prior_before_onset(tmp_path):
    frame = _units(n_units=6)
    frame = frame.assign(cycle=frame.groupby("unit").cumcount() + 1).drop(columns=["timestamp", "condition"])
    frame["onset"] = frame.groupby("unit")["cycle"].transform(lambda c: c > 0.7 * c.max())
    # in service: the units alive at that age, their median remaining life (the "auto" default: test_rul_prior)
    est = RULEstimator(epochs=2, fixed_epochs=True, gate_column="onset", observed_share=None).fit(frame)
    assert "before onset: population prior" in "\n".join(est.choices_)
    early = frame[frame["cycle"] <= 50]  # every unit still healthy
    pred = est.predict(early)
    assert (pred["basis"] == "no onset yet: population prior").all()
    lives = frame.groupby("unit")["cycle"].max() - 1
    assert pred["rul"].iloc[0] == pytest.approx(np.median(lives - 49))
    est.save(tmp_path / "m")
    again = RULEstimator.load(tmp_path / "m").predict(early)
    np.testing.assert_allclose(again["rul"], pred["rul"])


def test_scores_and_truth_reader(tmp_path):
    acc, skipped = phm2012_score([10.0, 0.0], [10.0, 0.0])
    assert acc == 1.0 and skipped == 1
    late, _ = phm2012_score([12.0], [10.0])
    early, _ = phm2012_score([8.0], [10.0])
    assert late < early < 1.0  # a late prediction costs more
    s = rul_scores([5.0, 30.0], [10.0, 40.0], lower=[0, 35], upper=[20, 45], cap=20)
    assert s["uncapped"]["rmse"] == pytest.approx(np.sqrt((25 + 100) / 2)) and s["uncapped"]["mae"] == 7.5
    assert s["capped"]["rmse"] == pytest.approx(np.sqrt(25 / 2)) and s["uncapped"]["coverage_10_90"] == 1.0
    path = tmp_path / "truth.csv"
    path.write_text("unit;rul\nb1;3.5\nb2;0\n")
    assert read_unit_rul(path)["rul"].tolist() == [3.5, 0.0]
    path.write_text("unit,rul\nb1,-1\n")
    with pytest.raises(DataError, match="negative"):
        read_unit_rul(path)
