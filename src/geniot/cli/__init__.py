"""L5: the Typer command-line interface (one module per command group)."""
