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

MAX_MESSAGE_CHARS = 360
"""About three lines of a terminal: an error from user code (a generator's forward that
prints its inputs, a config dumped into an exception) can run to tens of thousands of
characters on its one line. The rest goes to a log file the message names."""

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
        typer.echo(f"gandoctor: error: {readable(error.worded(flag))}", err=True)
        raise typer.Exit(EXIT_USAGE) from None


def readable(message: str) -> str:
    """``message`` cut to :data:`MAX_MESSAGE_CHARS`, the whole of it written to a log file
    in the temporary folder (never beside the user's files), which the cut message names."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    import tempfile

    with tempfile.NamedTemporaryFile(
        "w", prefix="gandoctor-error-", suffix=".log", delete=False, encoding="utf-8"
    ) as log:
        log.write(message + "\n")
    head = message[:MAX_MESSAGE_CHARS].rstrip()
    return f"{head} … ({len(message) - len(head)} characters more in {log.name})"


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
