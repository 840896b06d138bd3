"""`geniot ask "QUESTION"`: ask the plant in English or German."""

from __future__ import annotations

import json
import os
from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.core.settings import get_settings


def resolve_store(store: Path | None) -> tuple[Path, str]:
    """(absolute store path, the rule that chose it): ``--store``, else ``$GENIOT_HOME``'s store, else
    the demo's under ``$GENIOT_HOME``. The same from any folder once ``GENIOT_HOME`` is set; without
    it the home is ``./geniot-data`` of the working directory, and the rule says so."""
    if store is not None:
        path = store.expanduser().resolve()
        if not path.is_file():
            raise DataError(f"no store at {path} (given with --store)")
        return path, "--store"
    settings = get_settings()
    home = settings.home.expanduser().resolve()
    where = "$GENIOT_HOME" if os.environ.get("GENIOT_HOME") else "./geniot-data (GENIOT_HOME is not set)"
    served, demo = home / settings.store_file, home / "demo" / settings.store_file
    if served.is_file():
        also = f"; the demo's store {demo} is there too, pass --store to use it" if demo.is_file() else ""
        return served, f"the store of {where}{also}"
    if demo.is_file():
        return demo, f"the demo's store under {where} (there is no {served})"
    raise DataError(f"no store at {served} nor {demo} ({where}): run `geniot demo` first, or give --store FILE")


def ask(
    question: str = typer.Argument(..., help='the question, e.g. "which assets had anomalies yesterday?"'),
    store: Path | None = typer.Option(None, "--store", help="DuckDB store (default: $GENIOT_HOME's, else the demo's)"),
    as_json: bool = typer.Option(False, "--json", help="print the whole answer (tool, slots, values) as JSON"),
    plot: Path | None = typer.Option(None, "--plot", help="write the answer's plot to this HTML file"),
) -> None:
    """Ask the plant a question (English or German); answers with numbers, a summary and a plot."""
    with user_errors():
        from geniot.ask import PlantAssistant, PlantView
        from geniot.data.store import SensorStore

        path, rule = resolve_store(store)
        settings = get_settings()
        with console.status("loading the language model…"), SensorStore(path, read_only=True) as db:
            plant = PlantView(db, models_dir=path.parent / "models", out_dir=path.parent / "answers")
            assistant = PlantAssistant(plant, router_cache=path.parent / "cache")  # the example vectors, kept between runs
            if settings.llm_url:
                from geniot.ask.llm import LLMAssistant

                answer = LLMAssistant(assistant, url=settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key).ask(question)
            else:
                answer = assistant.ask(question)
        answer.store = str(path)
        if as_json:
            print(json.dumps({**answer.to_dict(), "store_rule": rule}, default=str, ensure_ascii=False, indent=2))
        else:
            console.print(answer.text, markup=False, highlight=False)
            for tip in answer.suggestions:
                console.print(f"  • {tip}", markup=False, highlight=False)
            tool = f"{answer.tool}; " if answer.tool else ""
            console.print(f"({tool}{answer.latency_ms:.0f} ms; store {path}: {rule})", style="dim", markup=False, highlight=False)
        if plot is not None and answer.figure:
            import plotly.graph_objects as go

            from geniot.report.html import write_figure_report

            write_figure_report(plot, title=question, info={"answer": answer.text, "tool": answer.tool},
                                sections=[(answer.intent, go.Figure(answer.figure))])  # fmt: skip
            console.print(f"plot: {plot.resolve()}")
        if answer.refused:
            raise typer.Exit(code=1)
