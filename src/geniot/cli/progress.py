"""Progress bars and error reporting shared by the commands."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from geniot.cli.hints import with_hint
from geniot.core.exceptions import GeniotError

console = Console(stderr=True)


@contextlib.contextmanager
def training_progress(
    description: str, total_epochs: int | None, *, budget_minutes: float | None = None
) -> Iterator[Callable[[dict], None]]:
    """Progress fed by the training loop's per-epoch events: a rich bar with the time left on a
    terminal, else a plain line at most every ``PLAIN_EVERY_S`` seconds (logs, pipes, CI). The
    time left is the pace so far, capped by the wall-clock budget when there is one."""
    start = time.monotonic()
    budget_s = None if not budget_minutes else 60.0 * float(budget_minutes)
    last = _Throttle()

    def left(done: float, total: float | None) -> float | None:
        elapsed = time.monotonic() - start
        pace = elapsed / done * (total - done) if total and done > 0 else None
        rest = None if budget_s is None else max(budget_s - elapsed, 0.0)
        known = [x for x in (pace, rest) if x is not None]
        return min(known) if known else None

    with _bar(
        TextColumn("epoch {task.completed:.0f}/{task.total:.0f}"), TextColumn("{task.fields[loss]}"), TextColumn("{task.fields[left]}")
    ) as bar:
        task = bar.add_task(description, total=total_epochs or 1, loss="", left="")

        def update(event: dict) -> None:
            loss = event.get("val_loss", event.get("train_loss"))
            loss_text = "" if loss is None else f"loss {loss:.4f}"
            done, total = event.get("epoch", 0), event.get("epochs", total_epochs)
            remaining = left(done, total)
            left_text = "" if remaining is None else f"about {_clock(remaining)} left"
            bar.update(task, completed=done, total=total, loss=loss_text, left=left_text)
            if bar.disable and last.due(final=bool(total) and done >= total):
                parts = [f"epoch {done}/{total}" if total else f"epoch {done}", loss_text, f"{_clock(time.monotonic() - start)} elapsed", left_text]
                console.print(f"{description}: " + ", ".join(p for p in parts if p), highlight=False, soft_wrap=True)

        yield update
    if bar.disable:
        console.print(f"{description}: done in {_clock(time.monotonic() - start)}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def progress_bar(description: str) -> Iterator[Callable[[int, int], None]]:
    """Progress fed with (done, total): a rich bar with the time left on a terminal, else a
    plain line at most every ``PLAIN_EVERY_S`` seconds."""
    start = time.monotonic()
    last = _Throttle()
    with _bar(TextColumn("{task.completed:.0f}/{task.total:.0f}"), TimeRemainingColumn()) as bar:
        task = bar.add_task(description, total=None)

        def update(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            if bar.disable and last.due(final=bool(total) and done >= total):
                elapsed = time.monotonic() - start
                left = f", about {_clock(elapsed / done * (total - done))} left" if total and 0 < done < total else ""
                console.print(f"{description}: {done}/{total}, {_clock(elapsed)} elapsed{left}", highlight=False, soft_wrap=True)

        yield update


@contextlib.contextmanager
def working(description: str) -> Iterator[None]:
    """For a step with no loop to count: a spinner on a terminal, else a line when it starts and
    one with the time it took."""
    start = time.monotonic()
    if not console.is_terminal:
        console.print(f"{description} ...", highlight=False, soft_wrap=True)
        yield
        console.print(f"{description}: done in {_clock(time.monotonic() - start)}", highlight=False, soft_wrap=True)
        return
    with console.status(description):
        yield


#: seconds between two plain progress lines when the output is not a terminal
PLAIN_EVERY_S = 10.0


class _Throttle:
    def __init__(self) -> None:
        self._last: float | None = None

    def due(self, *, final: bool = False) -> bool:
        now = time.monotonic()
        if final or self._last is None or now - self._last >= PLAIN_EVERY_S:
            self._last = now
            return True
        return False


def _bar(*middle) -> Progress:
    columns = [TextColumn("[bold]{task.description}"), BarColumn(), *middle, TimeElapsedColumn()]
    return Progress(*columns, console=console, transient=False, disable=not console.is_terminal)


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


@contextlib.contextmanager
def user_errors() -> Iterator[None]:
    """Show geniot's own errors as one clear line and exit 2, without a traceback."""
    try:
        yield
    except GeniotError as exc:
        console.print(f"[red]error:[/red] {escape(with_hint(exc))}", highlight=False, soft_wrap=True)
        sys.stderr.flush()
        raise typer.Exit(code=2) from None
