"""`geniot ask "QUESTION"`: ask the plant in English or German."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.core.exceptions import DataError
from geniot.core.settings import get_settings


def default_store() -> Path:
    """The configured store, or the demo's when only the demo has run."""
    settings = get_settings()
    for path in (settings.store_path, settings.home / "demo" / settings.store_file):
        if path.is_file():
            return path
    raise DataError(f"no store at {settings.store_path}: run `geniot demo` first, or give --store FILE")


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

        path = store or default_store()
        if not path.is_file():
            raise DataError(f"no store at {path}")
        settings = get_settings()
        with console.status("loading the language model…"), SensorStore(path, read_only=True) as db:
            plant = PlantView(db, models_dir=path.parent / "models", out_dir=path.parent / "answers")
            assistant = PlantAssistant(plant)
            if settings.llm_url:
                from geniot.ask.llm import LLMAssistant

                answer = LLMAssistant(assistant, url=settings.llm_url, model=settings.llm_model, api_key=settings.llm_api_key).ask(question)
            else:
                answer = assistant.ask(question)
        if as_json:
            print(json.dumps(answer.to_dict(), default=str, ensure_ascii=False, indent=2))
        else:
            console.print(answer.text, markup=False, highlight=False)
            for tip in answer.suggestions:
                console.print(f"  • {tip}", markup=False, highlight=False)
            if answer.tool:
                console.print(f"[dim]({answer.tool}; {answer.latency_ms:.0f} ms)[/dim]")
        if plot is not None and answer.figure:
            import plotly.graph_objects as go

            from geniot.report.html import write_figure_report

            write_figure_report(plot, title=question, info={"answer": answer.text, "tool": answer.tool},
                                sections=[(answer.intent, go.Figure(answer.figure))])  # fmt: skip
            console.print(f"plot: {plot.resolve()}")
        if answer.refused:
            raise typer.Exit(code=1)
