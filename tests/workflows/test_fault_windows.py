"""fit --labels: windows that touch a fault are left out of training, not kept with gaps."""

from __future__ import annotations

import numpy as np

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.workflows.datasets import windows_from_file


def _plant(tmp_path, fault_rate):
    sim = simulate_plant(PlantConfig(n_assets=1, days=3, seed=2, interval_s=300, fault_rate=fault_rate,
                                     drop_rate=0, outage_rate=0, degrading_fraction=0))  # fmt: skip
    data, labels = tmp_path / "p.csv", tmp_path / "l.csv"
    sim.write(data, layout="long")
    sim.labels.to_csv(labels, index=False)
    return data, labels, sim.labels


def test_windows_touching_a_fault_are_left_out(tmp_path):
    data, labels, lab = _plant(tmp_path, fault_rate=8)
    assert (lab["fault"] != "normal").sum() > 20  # the plant has faults to leave out
    plain = windows_from_file(data, 12)
    clean = windows_from_file(data, 12, labels=labels)
    assert not np.isnan(clean.windows).all(axis=2).any()  # no window holds a fault row
    assert 0.5 * len(plain.windows) <= len(clean.windows) < len(plain.windows)
    assert clean.faults  # the fault types were still learned


def test_where_faults_are_everywhere_the_windows_keep_their_gaps(tmp_path):
    data, _, lab = _plant(tmp_path, fault_rate=0)
    # one short fault every 10 rows: hardly a window is clear of one
    fault = np.where(np.arange(len(lab)) % 10 == 0, "spikes", "normal")
    labels = tmp_path / "dense.csv"
    lab.assign(fault=fault, anomaly=(fault != "normal").astype(int)).to_csv(labels, index=False)
    out = windows_from_file(data, 12, labels=labels)
    assert np.isnan(out.windows).all(axis=2).any()  # fault rows kept as gaps rather than no data
    assert len(out.windows) > 0.9 * len(windows_from_file(data, 12).windows)
