"""Ctrl-C during ``gandoctor probe``: write the reports asked for, marked incomplete."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import typer

from gandoctor.cli.common import write_text
from gandoctor.probing.interrupt import EXIT_INTERRUPTED

if TYPE_CHECKING:
    from gandoctor.api import ProbeInterruptedWithReport


@contextmanager
def partial_reports(json_out: str | None, markdown: str | None) -> Iterator[None]:
    """On Ctrl-C inside the block, write what was measured to ``--json`` and ``--markdown``
    (``"complete": false`` in the JSON), say so in one line on stderr and exit with 130.

    Without a measurement to report, or without those options, nothing is written. Ctrl-C
    outside a probe (while loading) is left to the entry point, which says that no report
    was written.
    """
    from gandoctor.api import ProbeInterruptedWithReport  # here: the CLI starts without torch

    try:
        yield
    except ProbeInterruptedWithReport as interrupt:
        written = [] if interrupt.report is None else _write(interrupt, json_out, markdown)
        where = f"a partial report (not complete) is in {', '.join(written)}" if written else ""
        typer.echo(f"gandoctor: interrupted; {where or 'no report was written'}", err=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None


def _write(
    interrupt: ProbeInterruptedWithReport, json_out: str | None, markdown: str | None
) -> list[str]:
    from gandoctor.paths import write_atomically

    report = interrupt.report
    assert report is not None
    written = []
    if json_out == "-":
        typer.echo(report.to_json())
        written.append("the JSON on stdout")
    elif json_out is not None:
        write_text(json_out, report.to_json(), write_atomically)
        written.append(json_out)
    if markdown is not None:
        from gandoctor.report.markdown import render_markdown

        if markdown == "-":
            typer.echo(render_markdown(report), nl=False)
            written.append("the Markdown on stdout")
        else:
            write_text(markdown, render_markdown(report), write_atomically)
            written.append(markdown)
    return written
