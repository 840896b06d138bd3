"""`geniot import` and `geniot export-data`: a user's files into the store and back out; and the
printing of every read report (what a command took from a file, what it ignored and why)."""

from __future__ import annotations

import logging
from pathlib import Path

import typer
from rich.markup import escape

from geniot.cli.progress import console, user_errors
from geniot.data.io import read_data
from geniot.workflows.store_io import export_store, import_files


class _ReportPrinter(logging.Handler):
    """Prints each read report (logged on ``geniot.data.read``) on the command's console."""

    def emit(self, record: logging.LogRecord) -> None:
        console.print(escape(record.getMessage()), highlight=False, soft_wrap=True)


def show_read_reports() -> None:
    """Make every file a command reads say what it took and what it ignored (once per process)."""
    logger = logging.getLogger("geniot.data.read")
    if not any(isinstance(h, _ReportPrinter) for h in logger.handlers):
        logger.addHandler(_ReportPrinter())
    logger.setLevel(logging.INFO)


def import_data(
    data: Path = typer.Argument(..., help="CSV/Parquet file (wide or long) or a folder of them, one file per asset"),
    store: Path = typer.Option(..., "--store", help="DuckDB store to add the readings to (created if missing), e.g. plant.duckdb"),
    asset: str | None = typer.Option(None, "--asset", help="asset name for a wide file, or for every file of a folder (parts of one history)"),
) -> None:
    """Put readings from files into the store, so that ask, serve, fleet and fl can use them."""
    with user_errors():
        result = import_files(data, store, asset=asset)
        if result.read is not None:
            console.print(escape(result.read.text()), highlight=False, soft_wrap=True)
        for line in result.lines():
            console.print(escape(line), highlight=False, soft_wrap=True)
        console.print(f"imported {result.new} new readings of {len(result.assets)} asset(s) into {escape(str(store))}")


def export_data(
    store: Path = typer.Option(..., "--store", help="DuckDB store to read, e.g. plant.duckdb"),
    out: Path = typer.Option(..., "--out", help="file to write: .csv or .parquet"),
    asset: str | None = typer.Option(None, "--asset", help="only this asset (needed for --layout wide when the store has several)"),
    start: str | None = typer.Option(None, "--start", help="first time to include, e.g. 2026-01-31 or 2026-01-31T06:00:00+01:00"),
    end: str | None = typer.Option(None, "--end", help="end of the range (not included)"),
    layout: str | None = typer.Option(None, "--layout", help="wide (one asset) or long; default wide for one asset, else long"),
    like: Path | None = typer.Option(None, "--like", help="write in the layout of this file: separator, decimal mark, time zone, headers with units"),
) -> None:
    """Write readings from the store to a CSV or Parquet file."""
    with user_errors():
        if layout not in (None, "wide", "long"):
            raise typer.BadParameter("--layout must be 'wide' or 'long'")
        like_layout = None
        if like is not None:
            read = read_data(like)
            like_layout = next(iter(read.table.values())).layout
            console.print(escape(f"layout of {like}: {like_layout.describe()}"), highlight=False, soft_wrap=True)
        result = export_store(store, out, asset=asset, start=start, end=end, layout=layout, like=like_layout)
        console.print(escape(f"wrote {result.out} ({result.layout} layout, {result.rows} rows, assets {', '.join(result.assets)})"), highlight=False)
