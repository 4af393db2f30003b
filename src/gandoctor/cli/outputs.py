"""Where a probe's report goes: ``--json``, ``--markdown``, ``--html``, ``--plot``,
``--samples`` and the terminal."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from gandoctor.cli import parsing
from gandoctor.cli.common import write_text
from gandoctor.errors import ConfigError

if TYPE_CHECKING:
    from gandoctor.report.model import Report


@dataclass(frozen=True)
class Outputs:
    """Where the report goes: ``--json`` and ``--markdown`` (a path, ``-`` for stdout, or
    None), ``--html`` and ``--plot`` (a path or None), ``--samples`` (a folder for the sample
    grids as PNG, or None); the terminal table when neither goes to stdout."""

    json: str | None
    markdown: str | None
    plot: Path | None
    html: Path | None = None
    samples: Path | None = None

    def check(
        self, checkpoints: list[str], data: Path | None, val_data: Path | None = None
    ) -> None:
        """Fail before the probe on outputs that cannot be written, or would overwrite an
        input."""
        from gandoctor.paths import check_outputs_are_not_inputs

        parsing.check_output_path(self.json)
        parsing.check_output_path(self.markdown)
        parsing.check_output_path(None if self.html is None else str(self.html))
        if self.json == "-" and self.markdown == "-":
            raise ConfigError("--json - and --markdown - both want stdout; write one to a file")
        if self.plot is not None:
            from gandoctor.report.plots import check_plot_path

            check_plot_path(self.plot)
        if self.samples is not None:
            from gandoctor.report.pictures import check_samples_folder

            check_samples_folder(self.samples)
        named = {"--json": self.json, "--markdown": self.markdown, "--plot": self.plot,
                 "--html": self.html, "--samples": self.samples}  # fmt: skip
        check_outputs_are_not_inputs(named, checkpoints, data)
        if val_data is not None:
            check_outputs_are_not_inputs(named, [], val_data)

    def emit(self, report: Report) -> None:
        from rich.console import Console

        from gandoctor.paths import write_atomically
        from gandoctor.report.markdown import render_markdown
        from gandoctor.report.terminal.tables import render_report

        if self.json == "-":
            typer.echo(report.to_json())
        elif self.markdown == "-":
            typer.echo(render_markdown(report), nl=False)
        else:
            Console(highlight=False).print(render_report(report))
        if self.json not in (None, "-"):
            write_text(self.json, report.to_json(), write_atomically)
        if self.markdown not in (None, "-"):
            write_text(self.markdown, render_markdown(report), write_atomically)
        if self.plot is not None:
            from gandoctor.report.plots import plot_report

            plot_report(report, self.plot)
        if self.html is not None:
            from gandoctor.report.html import render_html
            from gandoctor.report.plots import panels_svg

            write_text(str(self.html), render_html(report, panels_svg(report)), write_atomically)
        if self.samples is not None:
            from gandoctor.report.pictures import write_sample_grids

            write_sample_grids(report, self.samples)
