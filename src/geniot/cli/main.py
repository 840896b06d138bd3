"""The `geniot` command: one Typer app, one module per command group."""

from __future__ import annotations

import typer

from geniot.cli.ask_cmd import ask
from geniot.cli.data_cmds import export_data, import_data, show_read_reports
from geniot.cli.demo_cmd import demo
from geniot.cli.evaluate_cmd import evaluate, report
from geniot.cli.events_cmd import events
from geniot.cli.export_cmd import export
from geniot.cli.faults_cmd import faults_app
from geniot.cli.fl_cmd import fl_app
from geniot.cli.fleet_cmd import fleet_app
from geniot.cli.model_cmds import fit, models, sample
from geniot.cli.privacy_cmds import audit
from geniot.cli.rul_cmd import rul_app
from geniot.cli.security_cmd import security_app
from geniot.cli.serve_cmd import serve
from geniot.cli.simulate_cmd import simulate
from geniot.cli.synthesize_cmd import synthesize
from geniot.cli.task_cmds import detect, impute
from geniot.cli.twin_cmds import forecast, plan, whatif
from geniot.core.settings import get_settings

app = typer.Typer(
    name="geniot",
    help="Generative AI for industrial IoT sensor data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def configure() -> None:
    """Generative AI for industrial IoT sensor data."""
    show_read_reports()
    threads = get_settings().torch_threads
    if threads:
        import torch

        torch.set_num_threads(threads)


app.command()(demo)
app.command()(simulate)
app.command("import")(import_data)
app.command("export-data")(export_data)
app.command()(fit)
app.command()(sample)
app.command()(synthesize)
app.command()(evaluate)
app.command()(report)
app.command()(impute)
app.command()(detect)
app.command()(forecast)
app.command()(whatif)
app.command()(plan)
app.command()(models)
app.command()(serve)
app.command()(export)
app.command()(audit)
app.command()(ask)
app.command()(events)
app.add_typer(rul_app, name="rul")
app.add_typer(faults_app, name="faults")
app.add_typer(fl_app, name="fl")
app.add_typer(fleet_app, name="fleet")
app.add_typer(security_app, name="security")

if __name__ == "__main__":  # pragma: no cover
    app()
