"""`geniot fl`: placeholder until issue 6 lands this command group."""

from __future__ import annotations

import typer

fl_app = typer.Typer(help="(not built yet)", no_args_is_help=True)
