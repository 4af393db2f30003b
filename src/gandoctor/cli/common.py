"""Helpers shared by the commands: errors as one line, the progress bar, writing files."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import typer

from gandoctor.errors import ConfigError, GanDoctorError

if TYPE_CHECKING:
    from rich.progress import Progress

EXIT_USAGE = 2

_FLAGS = {"latent_distribution": "--latent", "json_out": "--json"}
"""Options whose flag is not their Python name with dashes."""


def flag(option: str) -> str:
    """The command line's flag for a library option: ``batch_size`` -> ``--batch-size``."""
    return _FLAGS.get(option, "--" + option.replace("_", "-"))


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn gandoctor's own errors into one line on stderr and exit code 2; real bugs keep
    their traceback."""
    try:
        yield
    except GanDoctorError as error:
        typer.echo(f"gandoctor: error: {error.worded(flag)}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


@contextmanager
def progress_bar(enabled: bool) -> Iterator[tuple[Progress | None, Any]]:
    if not enabled:
        yield None, None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    tasks: dict[str, Any] = {}
    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), console=Console(stderr=True), transient=True,
    ) as bar:  # fmt: skip

        def callback(checkpoint: str, step: int, total: int) -> None:
            if checkpoint not in tasks:
                tasks[checkpoint] = bar.add_task(f"probing {checkpoint}", total=total)
            bar.update(tasks[checkpoint], completed=step)

        yield bar, callback


def write_text(path: str, text: str, writer: Any) -> None:
    try:
        writer(path, text)
    except OSError as error:
        raise ConfigError(f"cannot write the report to {path}: {error.strerror}") from None
