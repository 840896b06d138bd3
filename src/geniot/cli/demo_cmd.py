"""`geniot demo`: the whole path on the embedded default, in a few minutes."""

from __future__ import annotations

from pathlib import Path

import typer

from geniot.cli.progress import console, training_progress, user_errors
from geniot.core.settings import get_settings


def demo(
    home: Path | None = typer.Option(None, "--home", help="folder for the demo's files (default: $GENIOT_HOME/demo)"),
    model: str = typer.Option("diffusion", "--model", help="generator to train"),
    minutes: float = typer.Option(3.0, "--minutes", help="training budget in minutes"),
    assets: int = typer.Option(4, "--assets", help="pumps in the simulated fleet"),
    days: float = typer.Option(3.0, "--days", help="simulated days"),
    seed: int = typer.Option(0, "--seed", help="random seed"),
    holdout_split: str = typer.Option(
        "blocks", "--holdout-split",
        help="windows kept out for the memorization check: 'blocks' spread over the whole span, or 'time' (the latest 20%)",
    ),
    serve: bool = typer.Option(False, "--serve", help="then run the plant service with the live simulator and its dashboard"),
    port: int = typer.Option(8000, "--port", help="with --serve: port of the dashboard and API"),
) -> None:
    """Simulate a pump fleet into DuckDB, train a generator, sample, synthesize a day of the fleet,
    evaluate and write the report (and with --serve, go on to the live plant service)."""
    with user_errors():
        # the workflow imports the model stack (seconds): only when the demo runs
        from geniot.workflows.demo import run_demo

        home = home or get_settings().home / "demo"
        with training_progress(f"train {model}", None) as progress:
            result = run_demo(
                home, model=model, minutes=minutes, assets=assets, days=days, seed=seed, holdout_split=holdout_split,
                say=console.print, progress=progress)
        m = result.metrics
        console.print(
            f"discriminative score {m.get('discriminative_score', float('nan')):.3f} "
            f"(0 = indistinguishable, 0.5 = trivially told apart)"
        )
        if "memorized" in m:
            console.print(f"memorization: {m.get('memorization_verdict', 'copies' if m['memorized'] else 'no copies')}")
            console.print(f"holdout: {m.get('memorization_holdout', '?')}")
        console.print(f"[bold green]report:[/bold green] {result.report.resolve()}")
        if serve:
            from geniot.cli.serve_cmd import run_service

            # The live service keeps its own store beside the demo's, so the dashboard links the report.
            settings = get_settings().model_copy(update={"home": home, "store_file": "live.duckdb"})
            run_service(settings, host="127.0.0.1", port=port, simulate=True)
