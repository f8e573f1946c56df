"""Shared console helpers: one Rich console, one-line errors, step progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

console = Console()
err_console = Console(stderr=True)


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line saying what is wrong (and how to fix it) and exit non-zero."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def step_progress(steps: Sequence[str], description: str) -> Iterator[Callable[[str], None]]:
    """A progress bar over named steps; yields a callback to call at the start of each step."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[current]}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=False,
    ) as progress:
        task = progress.add_task(description, total=len(steps), current="")
        started = {"count": 0}

        def advance(name: str) -> None:
            if started["count"]:
                progress.advance(task)
            started["count"] += 1
            progress.update(task, current=name)

        yield advance
        progress.update(task, completed=len(steps), current="done")
