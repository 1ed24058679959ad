"""What every command shares: options, the one error printer, and the sync progress bar."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.pipeline import Assistant
from assistant.sync import SyncReport

console = Console(stderr=True, soft_wrap=True)  # progress and messages; stdout is for results

CorpusOption = Annotated[Path | None, typer.Option("--corpus", help="Folder of documents.")]
IndexOption = Annotated[Path | None, typer.Option("--index", help="Index folder.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
ModelOption = Annotated[Path | None, typer.Option("--model", help="A GGUF model file.")]


def settings_from(**overrides) -> Settings:
    """The settings (defaults and environment) with the command's options on top."""
    return Settings().with_overrides(**overrides)


def fail(error: AssistantError) -> NoReturn:
    console.print(f"[bold red]Error:[/] {error}", highlight=False)
    raise typer.Exit(code=1)


def sync_with_progress(
    assistant: Assistant, *, rebuild: bool = False, quiet: bool = False
) -> SyncReport:
    """Run a sync, showing a progress bar on stderr unless quiet."""
    if quiet:
        return assistant.sync(rebuild=rebuild)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(stage: str, done: int, total: int, detail: str) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(stage.capitalize(), total=total)
            bar.update(
                tasks[stage],
                completed=done,
                total=total,
                description=f"{stage.capitalize()} {detail}".strip(),
            )

        return assistant.sync(rebuild=rebuild, progress=progress)


def print_skipped(report: SyncReport) -> None:
    """What the sync left out and why, and the files indexed once as duplicates."""
    for skipped in report.skipped:
        console.print(f"[yellow]Skipped[/] {escape(skipped['reason'])}", highlight=False)
    for duplicate in report.duplicates:
        console.print(
            f"[cyan]Duplicate[/] {escape(duplicate['document'])} has the same content as "
            f"{escape(duplicate['same_as'])}: indexed once.",
            highlight=False,
        )


@contextmanager
def interrupt_on_terminate() -> Iterator[None]:
    """`kill PID` (SIGTERM) and `kill -INT PID` stop a run like Ctrl-C: with a partial report.

    A run started in the background from a shell inherits an ignored SIGINT, and SIGTERM would
    end it without a report; inside this block both raise KeyboardInterrupt (main thread only).
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    signal.signal(signal.SIGTERM, interrupt)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
