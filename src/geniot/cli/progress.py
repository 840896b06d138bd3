"""Progress bars and error reporting shared by the commands."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from geniot.core.exceptions import GeniotError

console = Console(stderr=True)


@contextlib.contextmanager
def training_progress(description: str, total_epochs: int | None) -> Iterator[Callable[[dict], None]]:
    """A rich progress bar fed by the training loop's per-epoch events."""
    columns = [
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"),
        TextColumn("{task.fields[loss]}"),
        TimeElapsedColumn(),
    ]
    with Progress(*columns, console=console, transient=False, disable=not console.is_terminal and not _force()) as bar:
        task = bar.add_task(description, total=total_epochs or 1, loss="")

        def update(event: dict) -> None:
            loss = event.get("val_loss", event.get("train_loss"))
            text = "" if loss is None else f"loss {loss:.4f}"
            bar.update(task, completed=event.get("epoch", 0), total=event.get("epochs", total_epochs), loss=text)

        yield update
    if not console.is_terminal:
        console.print(f"{description}: done")


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """A rich progress bar fed with (done, total)."""
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:.0f}/{task.total:.0f}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        yield update


def _force() -> bool:
    return False


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show geniot's own errors as one clear line and exit 2, without a traceback."""
    try:
        yield
    except GeniotError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.stderr.flush()
        raise typer.Exit(code=2) from None
