"""`geniot audit`: placeholder until the privacy audit lands (issue 6)."""

from __future__ import annotations

import typer


def audit() -> None:
    """Privacy audit of synthetic data against real data (not built yet)."""
    raise typer.Exit(code=2)
