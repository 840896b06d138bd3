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
    mqtt: str | None = typer.Option(None, "--mqtt", help="broker to ingest from, e.g. mqtt://127.0.0.1:1883 or mqtts://geniot@host:8883"),
    mqtt_ca: Path | None = typer.Option(None, "--mqtt-ca", help="CA certificate (PEM) for mqtts:// (default: the system's CAs)"),
    mqtt_cert: Path | None = typer.Option(None, "--mqtt-cert", help="client certificate (PEM), if the broker requires one"),
    mqtt_key: Path | None = typer.Option(None, "--mqtt-key", help="key of the client certificate (PEM)"),
    mqtt_user: str | None = typer.Option(None, "--mqtt-user", help="broker user name; the password comes from GENIOT_MQTT_PASSWORD"),
    topics: str | None = typer.Option(None, "--topics", help="comma-separated MQTT subscriptions (default '#')"),
    publisher_prefix: str | None = typer.Option(None, "--publisher-prefix", envvar="GENIOT_MQTT_PUBLISHER_PREFIX",
                                                help="topics <prefix>/<user>/<site>/... name their publisher: give each gateway its own broker account and the ACL 'pattern write <prefix>/%u/#' (security detection's publisher check)"),
    simulate: bool = typer.Option(False, "--simulate", help="feed the built-in plant simulator in-process"),
    assets: int = typer.Option(3, "--assets", help="with --simulate: number of simulated pumps"),
    home: Path | None = typer.Option(None, "--home", help="folder of the store and models (default GENIOT_HOME)"),
    token: str | None = typer.Option(None, "--token", envvar="GENIOT_TOKEN", help="bearer token for writes"),
) -> None:
    """Run the plant service; prints the dashboard's URL."""
    with user_errors():
        updates = {"token": token}
        if mqtt:
            updates["mqtt_url"] = mqtt
        if topics:
            updates["mqtt_topics"] = topics
        for key, value in (("mqtt_ca_file", mqtt_ca), ("mqtt_cert_file", mqtt_cert), ("mqtt_key_file", mqtt_key), ("mqtt_username", mqtt_user)):
            if value is not None:
                updates[key] = value
        if home is not None:
            updates["home"] = home
        run_service(get_settings().model_copy(update=updates), host=host, port=port, simulate=simulate, assets=assets,
                    publisher_prefix=publisher_prefix)  # fmt: skip


def run_service(settings, *, host: str, port: int, simulate: bool, assets: int = 3, publisher_prefix: str | None = None) -> None:
    """Start the app with uvicorn and print where it is (shared with `geniot demo --serve`)."""
    uvicorn = require("uvicorn", "serve")
    from geniot.service.app import create_app

    if settings.mqtt_url:
        from geniot.ingest.mqtt import BROKER_ADVICE, MQTTConfigError, target_from_settings

        try:
            target = target_from_settings(settings)  # a bad URL or a missing CA file stops here, in words
        except MQTTConfigError as exc:
            raise typer.BadParameter(str(exc), param_hint="--mqtt") from None
        console.print(f"MQTT ingest from {target.safe_url} (topics {settings.mqtt_topics}); {BROKER_ADVICE}", highlight=False)
    if publisher_prefix:
        console.print(f"publishers named by topic: {publisher_prefix}/<broker user>/... (the broker's ACL must guard that level)", highlight=False)
    app = create_app(settings, simulate=simulate, sim_assets=assets, publisher_prefix=publisher_prefix)
    url = f"http://{host}:{port}/"
    console.print(f"[bold green]geniot service:[/bold green] dashboard {url} · API docs {url}docs · store {settings.store_path}")
    if not settings.token:
        console.print("no token set (GENIOT_TOKEN or --token): the API is read-only")
    console.print("stop with Ctrl+C")
    uvicorn.run(app, host=host, port=port, log_level="warning")
