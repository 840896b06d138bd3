"""`geniot ask`: placeholder until issue 7 lands."""

from __future__ import annotations

import typer


def ask() -> None:
    """Ask the plant a question (not built yet)."""
    raise typer.Exit(code=2)
