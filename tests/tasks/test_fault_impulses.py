"""Spikes on demand are learned as the simulator makes them: isolated impulses labelled on their
own rows, an event rate and amplitudes (not a per-bin mean of a few rows), placed at that rate
with only the impulse rows labelled."""

import numpy as np
import pandas as pd

from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.tasks.long_synthesis import (
    IMPULSE_GAP,
    FaultProfile,
    fault_episodes,
    impulsive_faults,
    learn_fault_profiles,
)


def _fleet():
    sim = simulate_plant(PlantConfig(n_assets=2, days=8, seed=3, interval_s=300, fault_rate=14, faults=("spikes", "stuck_sensor"),
                                     drop_rate=0, outage_rate=0, degrading_fraction=0))  # fmt: skip
    channels = tuple(sim.wide("P-1").columns[1:])
    values, keys = [], []
    for asset in sim.assets():
        lab = sim.labels[sim.labels["asset"] == asset].reset_index(drop=True)
        values.append(sim.wide(asset)[list(channels)].to_numpy())
        keys.append(pd.Series(np.where(lab["fault_signal"] != "", lab["fault"] + ":" + lab["fault_signal"], lab["fault"])))
    return sim, channels, values, keys


def test_spike_profiles_hold_the_real_rate_and_amplitudes_of_the_labelled_signal():
    sim, channels, values, keys = _fleet()
    impulsive = impulsive_faults(keys)
    assert impulsive and all(k.startswith("spikes:") for k in impulsive)  # stuck sensors are stretches
    profiles = learn_fault_profiles(values, keys, channels)
    for key in impulsive & set(profiles):
        p = profiles[key]
        signal = key.partition(":")[2]
        assert p.impulses is not None and not p.mean.any() and not p.frozen.any()
        moved = [channels[j] for j, a in enumerate(p.impulses["amplitude"]) if a]
        assert moved == [signal]
        # the simulator's spikes: 30-60% of the signal's mean level, either sign
        level = np.mean([np.nanmean(np.abs(v[:, channels.index(signal)])) for v in values])
        amps = np.asarray(p.impulses["amplitude"][channels.index(signal)]) / level
        assert 0.15 < np.median(np.abs(amps)) < 1.0  # (the level around a spike is not the mean level)
        assert len(amps) < 4 or ((amps > 0).any() and (amps < 0).any())
        # the rate: labelled rows per row of the merged episodes, as counted from the labels
        rows = sum(int((k == key).sum()) for k in keys)
        span = sum(hi - lo for k in keys for f, lo, hi in fault_episodes(k, merge_gap=IMPULSE_GAP, merge=impulsive) if f == key)
        assert p.impulses["rate"] == rows / span
    stuck = [p for k, p in profiles.items() if k.startswith("stuck_sensor")]
    assert stuck and all(p.impulses is None and p.frozen.any() for p in stuck)


def test_placed_spikes_change_and_label_only_their_own_rows():
    _, channels, values, keys = _fleet()
    profiles = learn_fault_profiles(values, keys, channels)
    key = next(k for k in sorted(profiles) if profiles[k].impulses is not None)
    p = profiles[key]
    j = channels.index(key.partition(":")[2])
    base = np.random.default_rng(0).normal(size=(500, len(channels)))
    out, rows = p.apply_rows(base, 100, 200, np.random.default_rng(1))
    assert 1 <= len(rows) < 100 and rows.min() >= 100 and rows.max() < 200
    changed = np.argwhere(out != base)
    assert set(changed[:, 1]) == {j} and set(changed[:, 0]) == set(rows)
    again = FaultProfile.from_dict(p.to_dict())
    np.testing.assert_array_equal(again.apply_rows(base, 100, 200, np.random.default_rng(1))[0], out)
    old = {k: v for k, v in p.to_dict().items() if k != "impulses"}  # a profile saved before impulses existed
    assert FaultProfile.from_dict(old).impulses is None


def test_fault_episodes_join_impulses_of_one_fault_only_when_asked():
    lab = pd.Series(["normal"] * 3 + ["s"] + ["normal"] * 4 + ["s", "s"] + ["normal"] * 30 + ["s"] + ["d"] * 3)
    assert fault_episodes(lab) == [("s", 3, 4), ("s", 8, 10), ("s", 40, 41), ("d", 41, 44)]
    assert fault_episodes(lab, merge_gap=5) == [("s", 3, 10), ("s", 40, 41), ("d", 41, 44)]
    assert fault_episodes(lab, merge_gap=5, merge={"d"}) == fault_episodes(lab)
