"""What-if holds exogenous signals (set by the weather, not the pump) as given: raising the speed
never moves the ambient temperature, while the machine's own signals still follow the physics."""

import numpy as np
import pytest
from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.core.exceptions import CapabilityError, DataError
from geniot.data.io import series_from_frame
from geniot.data.simulate import PlantConfig, simulate_plant
from geniot.models.gan import WGANGenerator
from geniot.models.gaussian import GaussianBaseline
from geniot.tasks.twin import WhatIf, exogenous_channels


@pytest.fixture(scope="module")
def pump():
    plant = simulate_plant(PlantConfig(n_assets=1, days=3, seed=2, fault_rate=0, degrading_fraction=0, drop_rate=0, outage_rate=0))
    return series_from_frame(plant.wide(plant.assets()[0]))


def _shift(twin, channel, lo=1200.0, hi=1320.0):
    j = list(twin.channels_).index(channel)
    a, b = twin.simulate(lo), twin.simulate(hi)
    return float(b["median"][:, j].mean() - a["median"][:, j].mean()), a, b


def test_speed_up_does_not_move_the_weather(pump):
    # Left free (the old behaviour), the history's correlation moves the ambient temperature.
    free = WhatIf(generator=GaussianBaseline(), window=24, exogenous=[]).fit(pump, control="speed_rpm")
    moved, _, _ = _shift(free, "ambient_temp_c")
    assert abs(moved) > 0.5
    twin = WhatIf(generator=GaussianBaseline(), window=24).fit(pump, control="speed_rpm")
    assert twin.exogenous_ == ["ambient_temp_c"]  # found by name
    held, slow, fast = _shift(twin, "ambient_temp_c")
    assert held == 0.0
    j = list(twin.channels_).index("ambient_temp_c")
    assert np.array_equal(slow["draws"][:, :, j], fast["draws"][:, :, j])  # the same given weather
    # The ambient windows are the history's own, not one repeated value.
    assert np.std(slow["draws"][:, :, j].mean(axis=1)) > 0.5
    for signal in ("flow_m3h", "pressure_bar", "motor_current_a"):
        up, _, _ = _shift(twin, signal)
        assert up > 0.05 * abs(float(slow["median"][:, list(twin.channels_).index(signal)].mean())), signal


def test_exogenous_declared_checked_and_capability(pump):
    chans = list(pump.channels)
    assert exogenous_channels(chans) == ["ambient_temp_c"]
    assert exogenous_channels(chans, []) == []
    assert exogenous_channels(chans, ["bearing_temp_c"]) == ["bearing_temp_c"]
    with pytest.raises(DataError, match="not channels"):
        exogenous_channels(chans, ["outdoor_c"])
    with pytest.raises(DataError, match="control"):
        WhatIf(generator=GaussianBaseline(), exogenous=["speed_rpm"]).fit(pump, control="speed_rpm")
    with pytest.raises(CapabilityError, match="exogenous"):
        WhatIf(generator=WGANGenerator(epochs=1)).fit(pump, control="speed_rpm")


def test_cli_whatif_says_what_it_holds(pump, tmp_path):
    data = tmp_path / "pump.csv"
    pump.to_dataframe().to_csv(data)
    out = tmp_path / "w.csv"
    res = CliRunner().invoke(app, ["whatif", str(data), "--control", "speed_rpm", "--set", "1200", "--set", "1320", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "held as given" in res.output and "ambient_temp_c" in res.output
    import pandas as pd

    frame = pd.read_csv(out)
    amb = frame[frame.signal == "ambient_temp_c"].groupby("scenario")["median"].mean()
    assert amb.nunique() == 1
