"""`geniot events`: stored events as CEF or ECS JSON lines, to a file, stdout or a syslog receiver."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer
from rich.markup import escape

from geniot.cli.progress import console, progress_bar, user_errors
from geniot.core.exceptions import DataError

MAX_SHOWN_ERRORS = 10


def events(
    fmt: str = typer.Option("cef", "--format", help="cef (ArcSight CEF) or ecs (Elastic Common Schema JSON lines)"),
    store: Path | None = typer.Option(None, "--store", help="DuckDB store to read (default: the service's, GENIOT_HOME/plant.duckdb)"),
    events_file: Path | None = typer.Option(None, "--events", help="read this events CSV instead of a store (e.g. from `geniot security detect`)"),
    since: str | None = typer.Option(None, "--since", help="only events still running at or after this time, e.g. 2026-01-31T06:00"),
    asset: str | None = typer.Option(None, "--asset", help="only this asset's events"),
    out: Path | None = typer.Option(None, "--out", help="file to write, one event a line (default: stdout)"),
    syslog: str | None = typer.Option(None, "--syslog", help="send as RFC 5424 syslog instead: tcp://host:514 or udp://host:514"),
    timeout: float = typer.Option(30.0, "--timeout", min=0.0, help="give up after this many seconds without a message sent (with --syslog)"),
) -> None:
    """Export event history (a store's, or an events file's) for a SIEM. Exits 1 if any event could not be formatted or sent."""
    from geniot.core.names import check_name
    from geniot.core.settings import get_settings
    from geniot.data.store import SensorStore
    from geniot.siem import SyslogTarget, event_record, local_hostname
    from geniot.siem.history import file_events, stored_events
    from geniot.siem.messages import check_format
    from geniot.workflows.synthesis import parse_time

    with user_errors():
        check_format(fmt)
        if out is not None and syslog is not None:
            raise DataError("give either a file to write or a syslog receiver to send to, not both")
        target = SyslogTarget.from_url(syslog) if syslog is not None else None
        start = parse_time(since, what="--since") if since is not None else None
        if asset is not None:
            check_name(asset, "asset")
        if events_file is not None and store is not None:
            raise DataError("give either a store or an events file to read, not both")
        if events_file is not None:
            stored = file_events(events_file)
        else:
            with SensorStore(store or get_settings().store_path, read_only=True) as db:
                stored = stored_events(db, asset=asset, since=start)
        hostname = local_hostname()
        records, errors = [], []
        for event in stored:
            try:
                records.append(event_record(event))
            except DataError as exc:
                errors.append(str(exc) if "row" not in event else str(DataError(exc.reason, file=str(events_file), row=event["row"])))
        if events_file is not None:  # the store filters in SQL; a file's rows here
            since_utc = None if start is None else start.tz_localize("UTC").to_pydatetime()
            records = [r for r in records if (asset is None or r.asset == asset) and (since_utc is None or r.end >= since_utc)]
        if target is None:
            _write_lines(records, fmt, hostname, out)
            where = "stdout" if out is None else str(out)
            console.print(escape(f"wrote {len(records)} event(s) as {fmt} to {where}"), highlight=False, soft_wrap=True)
        else:
            errors += _send_syslog(records, fmt, hostname, target, timeout)
        for line in errors[:MAX_SHOWN_ERRORS]:
            console.print(f"[red]error:[/red] {escape(line)}", highlight=False, soft_wrap=True)
        if len(errors) > MAX_SHOWN_ERRORS:
            console.print(f"[red]error:[/red] ... and {len(errors) - MAX_SHOWN_ERRORS} more", highlight=False)
        if errors:
            raise typer.Exit(code=1)


def _send_syslog(records, fmt: str, hostname: str, target, timeout: float) -> list[str]:
    """Send every record, showing progress; the problems, in words."""
    from geniot.siem import SyslogSender, event_syslog

    errors = []
    sender = SyslogSender(target)
    with progress_bar(f"sending to {target.url}") as update:
        for i, record in enumerate(records):
            message = event_syslog(record, fmt, hostname=hostname, facility=target.facility)
            if not sender.send(message, wait=timeout):  # no room for `timeout` s: the receiver is gone
                errors.append(f"gave up after {timeout:g} s without progress; {len(records) - i - 1} event(s) not tried")
                break
            update(sender.sent, len(records))
        last, idle_from = -1, time.monotonic()
        while not sender.flush(0.2):  # wait while messages keep leaving
            if sender.sent != last:
                last, idle_from = sender.sent, time.monotonic()
            elif time.monotonic() - idle_from >= timeout:
                break
            update(sender.sent, len(records))
        update(sender.sent, len(records))
    sender.close(0.0)
    s = sender.status()
    reasons = "".join(f", {k}: {v}" for k, v in s["failed_reasons"].items())
    console.print(escape(f"sent {s['sent']} of {len(records)} event(s) as {fmt} to {target.url} "
                         f"(failed {s['failed']}{reasons}; reconnects {s['reconnects']})"), highlight=False, soft_wrap=True)  # fmt: skip
    if s["failed"]:
        errors.append(f"{s['failed']} message(s) not sent; last error: {s['last_error']}")
    return errors


def _write_lines(records, fmt: str, hostname: str, out: Path | None) -> None:
    from geniot.siem import event_line

    stream = sys.stdout if out is None else out.open("w", encoding="utf-8", newline="\n")
    try:
        for record in records:
            stream.write(event_line(record, fmt, hostname=hostname) + "\n")
    finally:
        if out is not None:
            stream.close()
