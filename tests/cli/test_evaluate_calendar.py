"""`geniot evaluate REAL SYNTH --model M` on a model fitted with --calendar: its baseline of
independent windows is drawn given each window's calendar row (it used to crash asking for
conditions)."""

from __future__ import annotations

from typer.testing import CliRunner

from geniot.cli.main import app
from geniot.data.simulate import simulate_plant

runner = CliRunner()


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


def test_evaluate_a_calendar_model_against_its_synthetic_day(tmp_path):
    plant = simulate_plant(n_assets=1, days=2.0, interval_s=300, seed=3)
    data = tmp_path / "P-1.csv"
    plant.wide(plant.assets()[0]).to_csv(data, index=False)
    model, synth = tmp_path / "m", tmp_path / "synth.csv"
    assert (r := run("fit", data, "--model", "gaussian", "--window", "12", "--calendar", "--out", model)).exit_code == 0, r.output
    assert (r := run("synthesize", model, "--duration", "1d", "--out", synth)).exit_code == 0, r.output
    result = run("evaluate", data, synth, "--model", model, "--out", tmp_path / "long.html")
    assert result.exit_code == 0, result.output
    assert "seam" in result.output.lower() and (tmp_path / "long.html").is_file()
    # Every channel's seam statistic, by name, in the text and the report.
    assert "seam statistic per channel" in result.output
    for channel in plant.wide(plant.assets()[0]).columns[1:]:
        assert f"  {channel[:36]} " in result.output
    assert "Seam statistic per channel" in (tmp_path / "long.html").read_text()
