"""Simulated run-to-failure bearings, health indicators, onset detection, and CWRU signatures."""

from pathlib import Path

import numpy as np
import pytest

from geniot.core.exceptions import DataError
from geniot.data.bearings import (
    add_onset,
    defect_orders,
    envelope_spectrum,
    read_bearing_folder,
    records_to_frame,
    snapshot_indicators,
)
from geniot.data.sim_bearings import (
    ORDERS,
    cut_before_failure,
    indicator_frame,
    simulate_bearings,
    write_bearing_folder,
)

CWRU = Path(__file__).resolve().parents[3] / "shared" / "data" / "cwru"


@pytest.fixture(scope="module")
def bearings():
    return simulate_bearings(3, seed=3, snapshot_s=0.1, interval_s=600)


def test_impulses_sit_at_the_defect_frequency(bearings):
    for b in bearings:
        late = b.snapshots[-1][:, 0].astype(float)
        freqs, amp = envelope_spectrum(late, b.fs_hz)
        f_defect = ORDERS[b.fault] * b.rpm / 60.0
        low = (freqs > 20) & (freqs < 400)
        peak = freqs[low][np.argmax(amp[low])]
        assert abs(peak - f_defect) < 0.05 * f_defect, (b.fault, peak, f_defect)


def test_indicators_grow_with_wear_and_onset_is_found_near_the_simulated_one(bearings):
    frame = indicator_frame(bearings)
    flagged, notes = add_onset(frame)
    assert "onset of degradation" in notes[0]
    for b in bearings:
        g = frame[frame["unit"] == b.unit]
        healthy, failed = g.iloc[:5], g.iloc[-3:]
        assert failed["a1_rms"].mean() > 2 * healthy["a1_rms"].mean()
        assert failed[f"a1_env_{b.fault}"].mean() > 3 * healthy[f"a1_env_{b.fault}"].mean()
        f = flagged[flagged["unit"] == b.unit]
        found = f.loc[f["onset"], "time_s"]
        assert len(found), b.unit
        degradation = b.life_s - b.onset_s
        # never before the defect starts (bar one snapshot), and within the first 60% of its growth
        assert b.onset_s - b.interval_s <= found.iloc[0] <= b.onset_s + 0.6 * degradation, (b.unit, found.iloc[0], b.onset_s)
        assert f["onset"].iloc[-1] and not f["onset"].iloc[0]


def test_a_healthy_cut_has_no_onset(bearings):
    b = bearings[0]
    cut, rul = cut_before_failure(b, 0.9 * b.onset_s / b.life_s)
    assert rul > b.life_s - b.onset_s
    flagged, _ = add_onset(indicator_frame([cut]))
    assert not flagged["onset"].any()


def test_folder_reader_round_trip_with_both_separators(tmp_path, bearings):
    small = [cut_before_failure(b, 0.3)[0] for b in bearings[:2]]
    write_bearing_folder(tmp_path / "a", small, sep=";")
    records, notes = read_bearing_folder(tmp_path / "a")
    assert [r.unit for r in records] == [b.unit for b in small] and "read 2 bearing(s)" in notes[-1]
    frame, _ = records_to_frame(records, orders=ORDERS)
    direct = indicator_frame(small)
    np.testing.assert_allclose(frame["a1_rms"], direct["a1_rms"], rtol=1e-3)
    assert (frame["condition"] == direct["condition"]).all()
    # without manifest: options fill in, and a missing sampling rate is named
    (tmp_path / "a" / "manifest.csv").unlink()
    with pytest.raises(DataError, match="sampling rate is unknown"):
        read_bearing_folder(tmp_path / "a")
    with pytest.raises(DataError, match="time between snapshots"):
        read_bearing_folder(tmp_path / "a", fs_hz=20480)
    records, _ = read_bearing_folder(tmp_path / "a", fs_hz=20480, interval_s=60)
    frame, notes = records_to_frame(records)
    assert "band energies" in notes[0] and "a2_band8" in frame


def test_geometry_gives_the_defect_orders_and_bad_text_is_named():
    # SKF 6205: 9 balls, 7.94 mm, pitch 39.04 mm, contact angle 0
    orders = defect_orders(geometry="9,7.94,39.04,0")
    assert orders["bpfo"] == pytest.approx(3.5848, rel=0.01) and orders["bpfi"] == pytest.approx(5.4152, rel=0.01)
    assert defect_orders("bpfo=3.5,bpfi=5.4") == {"bpfo": 3.5, "bpfi": 5.4}
    with pytest.raises(DataError, match="unknown 'xyz'"):
        defect_orders("xyz=1")
    with pytest.raises(DataError, match="not both"):
        defect_orders("bpfo=1", geometry="9,1,4,0")


@pytest.mark.skipif(not (CWRU / "manifest.csv").is_file(), reason="CWRU subset not present")
def test_cwru_fault_signatures_show_at_their_defect_frequency():
    from geniot.data.cwru import read_manifest

    manifest = read_manifest(CWRU)
    rows = manifest[(manifest["fs_hz"] == 12000) & (manifest["load_hp"] == 0) & (manifest["fault_diameter_in"] == 0.021)]
    orders = {"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 4.7135}
    seen = {}
    for row in rows.itertuples():
        with np.load(CWRU / row.file, allow_pickle=False) as npz:
            x = np.asarray(npz["DE"], dtype=float)[:24000]
        ind = snapshot_indicators(x[:, None], 12000, rpm=row.rpm, orders=orders)
        seen[row.fault_location] = ind
    assert seen["IR"]["a1_env_bpfi"] > seen["IR"]["a1_env_bpfo"]
    assert seen["OR@6"]["a1_env_bpfo"] > seen["OR@6"]["a1_env_bpfi"]
