"""The `--mqtt` options and the publishing step shared by `geniot simulate` and `geniot synthesize`."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import typer
from rich.markup import escape

from geniot.cli.progress import console, progress_bar

MQTT_CA = typer.Option(None, "--mqtt-ca", help="with --mqtt: CA certificate (PEM) for mqtts://")
MQTT_CERT = typer.Option(None, "--mqtt-cert", help="with --mqtt: client certificate (PEM)")
MQTT_KEY = typer.Option(None, "--mqtt-key", help="with --mqtt: key of the client certificate (PEM)")
MQTT_USER = typer.Option(None, "--mqtt-user", help="with --mqtt: user name; the password comes from GENIOT_MQTT_PASSWORD")
RATE = typer.Option(None, "--rate", help="with --mqtt: rows per second per asset, stamped now (default: all at once, history ending now)")
PER_SIGNAL = typer.Option(False, "--per-signal", help="with --mqtt: one message per value on <site>/<area>/<asset>/<signal>")
SITE = typer.Option("plant", "--site", help="with --mqtt: first topic level")
AREA = typer.Option("pumps", "--area", help="with --mqtt: second topic level")


def mqtt_target(url: str | None, ca: Path | None, cert: Path | None, key: Path | None, user: str | None):
    """The broker target of ``--mqtt URL`` (None without one), checked before any work so that a
    bad URL fails at once."""
    if url is None:
        return None
    from geniot.ingest.mqtt_target import MQTTConfigError, MQTTTarget

    try:
        return MQTTTarget.from_url(url, ca_file=ca, cert_file=cert, key_file=key, username=user)
    except MQTTConfigError as exc:
        raise typer.BadParameter(str(exc), param_hint="--mqtt") from None


def publish_frames(target, frames: dict, *, site: str, area: str, per_signal: bool, rate: float | None) -> int:
    """Publish one wide frame per asset with progress; a broker that cannot be reached or
    configured exits 2 with the reason. Returns the number of messages sent."""
    from geniot.ingest.mqtt_target import MQTTConfigError, MQTTConnectError
    from geniot.ingest.publish import publish_wide

    try:
        with progress_bar("publish") as update:
            return publish_wide(target, frames, site=site, area=area, per_signal=per_signal, rate=rate, progress=update)
    except (MQTTConfigError, MQTTConnectError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None


PUBLISHER_PREFIX = typer.Option(None, "--publisher-prefix", help="with --attacks --mqtt: each publisher of the message log logs in as itself (user name = publisher, password GENIOT_MQTT_PASSWORD) and sends on <prefix>/<publisher>/<topic>, as gateways with their own broker accounts do")


def publish_log(target, log, *, speedup: float, publisher_prefix: str | None) -> dict:
    """Publish a message log live with progress (see ``ingest.publish.publish_message_log``); an
    unreachable broker exits 2 with the reason, a publisher it refuses is said and counted."""
    from geniot.ingest.mqtt_target import PASSWORD_ENV, MQTTConfigError, MQTTConnectError
    from geniot.ingest.publish import publish_message_log

    if publisher_prefix and target.password is None and os.environ.get(PASSWORD_ENV):
        # each publisher logs in as itself: the URL names no user, the password is theirs
        target = dataclasses.replace(target, password=os.environ[PASSWORD_ENV])
    try:
        with progress_bar("publish") as update:
            result = publish_message_log(target, log, speedup=speedup, publisher_prefix=publisher_prefix, progress=update)
    except (MQTTConfigError, MQTTConnectError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        raise typer.Exit(code=2) from None
    for publisher, error in result["errors"].items():
        n = result["refused"].get(publisher, 0)
        console.print(f"[yellow]not sent:[/yellow] {n} message(s) of publisher {escape(publisher or 'geniot-simulator')!s}: {escape(error)}",
                      highlight=False, soft_wrap=True)  # fmt: skip
    if result["errors"] and not result["sent"]:
        raise typer.Exit(code=2)
    return result
