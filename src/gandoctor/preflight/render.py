"""The preflight table for the terminal. Data in, renderables out; no I/O here."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.preflight.result import PreflightReport, Status

STATUS_STYLE = {
    Status.PASS: "bold green",
    Status.WARN: "bold yellow",
    Status.FAIL: "bold red",
    Status.SKIP: "dim",
}


def render_preflight(report: PreflightReport) -> RenderableType:
    g = report.generator
    title = (
        f"gandoctor preflight: {g['architecture']} ({g['checkpoint']}), "
        f"{tuple(g['latent_shape'])} → {tuple(g['output_shape'])}, {g['parameters']:,} parameters"
    )
    table = Table(title=title, title_justify="left")
    table.add_column("check", style="bold", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("reason", overflow="fold")
    for check in report.checks:
        table.add_row(
            check.name, Text(str(check.status), style=STATUS_STYLE[check.status]), check.reason
        )
    counts = {s: sum(c.status == s for c in report.checks) for s in Status}
    summary = Text(f"{report.status} — ", style=STATUS_STYLE[report.status])
    summary.append(
        f"{counts[Status.FAIL]} failed, {counts[Status.WARN]} warned, "
        f"{counts[Status.PASS]} passed, {counts[Status.SKIP]} skipped in "
        f"{report.seconds:.1f} s (exit {report.exit_code})"
    )
    return Group(table, summary)
