"""`geniot serve`: the plant service (REST API, MQTT ingest, live scoring, dashboard)."""

from __future__ import annotations

from pathlib import Path

import typer

from geniot.cli.progress import console, user_errors
from geniot.core.extras import require
from geniot.core.settings import get_settings


def serve(
    host: str = typer.Option("127.0.0.1", "--host", help="address to listen on"),
    port: int = typer.Option(8000, "--port", help="port to listen on"),
    mqtt: str | None = typer.Option(None, "--mqtt", help="broker to ingest from, e.g. mqtt://127.0.0.1:1883"),
    topics: str | None = typer.Option(None, "--topics", help="comma-separated MQTT subscriptions (default '#')"),
    simulate: bool = typer.Option(False, "--simulate", help="feed the built-in plant simulator in-process"),
    assets: int = typer.Option(3, "--assets", help="with --simulate: number of simulated pumps"),
    home: Path | None = typer.Option(None, "--home", help="folder of the store and models (default GENIOT_HOME)"),
    token: str | None = typer.Option(None, "--token", envvar="GENIOT_TOKEN", help="bearer token for writes"),
) -> None:
    """Run the plant service; prints the dashboard's URL."""
    with user_errors():
        uvicorn = require("uvicorn", "serve")
        from geniot.service.app import create_app

        updates = {"token": token}
        if mqtt:
            updates["mqtt_url"] = mqtt
        if topics:
            updates["mqtt_topics"] = topics
        if home is not None:
            updates["home"] = home
        settings = get_settings().model_copy(update=updates)
        app = create_app(settings, simulate=simulate, sim_assets=assets)
        url = f"http://{host}:{port}/"
        console.print(f"geniot service: dashboard {url} · API docs {url}docs · store {settings.store_path}")
        if not token:
            console.print("no token set (GENIOT_TOKEN or --token): the API is read-only")
        uvicorn.run(app, host=host, port=port, log_level="warning")
