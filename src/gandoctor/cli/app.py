"""The Typer app and the console entry point."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from gandoctor._version import __version__
from gandoctor.cli.common import EXIT_USAGE

app = typer.Typer(
    name="gandoctor",
    help="A doctor for GAN generators: probe a frozen generator with a fresh discriminator "
    "(Arjovsky & Bottou, 2017).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gandoctor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """gandoctor: is your generator's training signal alive?"""


def main() -> None:
    """Console entry point: usage errors become one line on stderr and exit code 2."""
    _printable_file_names()
    try:
        code = app(standalone_mode=False)
    except _CLI_ERRORS as error:
        message = error.format_message()  # type: ignore[attr-defined]
        if type(error).__name__ == "NoArgsIsHelpError":
            typer.echo(message, err=True)  # the message is the help text
        else:
            typer.echo(f"gandoctor: error: {_one_line(message)}", err=True)
        sys.exit(getattr(error, "exit_code", EXIT_USAGE))
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("gandoctor: interrupted; no report was written", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


def _cli_error_types() -> tuple[type[Exception], ...]:
    """Usage errors of the command-line parser: typer >= 0.22 vendors click and raises
    ``typer.TyperException`` subclasses; older typer raises ``click.ClickException``."""
    found: list[type[Exception]] = []
    if hasattr(typer, "TyperException"):
        found.append(typer.TyperException)
    try:
        import click

        found.append(click.ClickException)
    except ImportError:
        pass
    return tuple(found)


_CLI_ERRORS = _cli_error_types()


def _printable_file_names() -> None:
    """File names that are not valid UTF-8 reach Python as lone surrogates, which a strict
    UTF-8 stream refuses to print, failing after the probe ran. Such streams escape them
    instead (``\\udcff``); streams that already write them back as bytes are left alone."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def _one_line(message: str) -> str:
    return " ".join(message.split())
