"""Rich rendering of a Report for the terminal. Data in, renderables out; no I/O here."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.enums import Severity, Verdict
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.rows import COMPARISON, SAMPLE_COLUMNS, figure_rows, run_log_columns
from gandoctor.report.terminal.baseline import baseline_block
from gandoctor.report.terminal.layers import layers_tables
from gandoctor.report.terminal.own_d import own_d_tables
from gandoctor.report.terminal.ranking import ranking_block
from gandoctor.report.terminal.remedies import remedies_tables
from gandoctor.report.views import (
    NO_FINDINGS,
    PARTIAL,
    findings_view,
    gate_outcome,
    run_lines,
    short_names,
)

VERDICT_STYLE = {
    Verdict.HEALTHY: "bold green",
    Verdict.WARNING: "bold yellow",
    Verdict.FAILING: "bold red",
    Verdict.BROKEN: "bold magenta",
}
SEVERITY_MARK = {
    Severity.FAIL: ("✗", "red"),
    Severity.WARN: ("!", "yellow"),
    Severity.INFO: ("i", "blue"),
}


def figures_table(report: Report) -> Table:
    """One column per checkpoint, one row per headline figure, the verdict last."""
    table = Table(title="gandoctor probe", title_justify="left", show_lines=False)
    table.add_column("figure (held-out; final = last tenth of the run)", style="bold")
    for c in report.checkpoints:
        table.add_column(c.checkpoint, overflow="fold")
    for label, cell in figure_rows(report.checkpoints):
        table.add_row(label, *(cell(c) for c in report.checkpoints))
    table.add_row(
        "verdict",
        *(Text(str(c.verdict), style=VERDICT_STYLE[c.verdict]) for c in report.checkpoints),
        end_section=True,
    )
    return table


def comparison_tables(report: Report) -> list[Table]:
    """One row per checkpoint with the headline figures (the full set is in the JSON): the
    training signal, then the samples; two tables, so each fits a terminal."""
    names = short_names(report)
    tables = []
    groups = [
        ("comparison (held-out; decades of gradient norm)", COMPARISON),
        ("samples (against held-out real data)", SAMPLE_COLUMNS),
    ]
    if logged := run_log_columns(report.checkpoints):  # only snapshots of a run with a log
        groups.append(("logged by the run at each snapshot (its own D)", logged))
    for title, columns in groups:
        table = Table(title=f"gandoctor probe: {title}", title_justify="left")
        # The names are what the rows are about: never squeezed out; on a narrow terminal
        # the headers wrap at their spaces instead.
        table.add_column("checkpoint", style="bold", no_wrap=True)
        for header, _ in columns:
            table.add_column(header, justify="right")
        table.add_column("verdict", no_wrap=True)
        for name, c in zip(names, report.checkpoints, strict=True):
            verdict = Text(str(c.verdict), style=VERDICT_STYLE[c.verdict])
            table.add_row(name, *(cell(c) for _, cell in columns), verdict)
        tables.append(table)
    return tables


def trend_line(report: Report) -> Text:
    """How the paper's figures move from the first checkpoint to the last, in the order
    given (natural order for folders and globs: a training run's history)."""
    first, last = report.checkpoints[0], report.checkpoints[-1]
    names = short_names(report)
    changes = [f"{h} {cell(first)} → {cell(last)}" for h, cell in COMPARISON if h in _TREND]
    changes.append(f"verdict {first.verdict} → {last.verdict}")
    return Text(f"from {names[0]} to {names[-1]}: " + "; ".join(changes))


_TREND = ("saturated at", "accuracy", "minimax ∇ lost")


def findings_block(c: CheckpointReport, with_name: bool) -> RenderableType:
    view = findings_view(c, with_name)
    header = Text()
    if view.name is not None:
        header.append(f"{view.name}: ", style="bold")
    header.append(str(view.verdict), style=VERDICT_STYLE[view.verdict])
    header.append(f" — {view.stopped}")
    if not view.complete:
        header.append(f" ({PARTIAL})", style="yellow")
    lines: list[RenderableType] = [header]
    for f in view.findings:
        mark, style = SEVERITY_MARK[f.severity]
        line = Text(f"  {mark} ", style=style)
        line.append(f"{f.code}", style=f"bold {style}")
        line.append(f": {f.message}")
        lines.append(line)
        if f.borderline is not None:
            lines.append(Text(f"      ({f.borderline})", style="yellow"))
        lines.append(Text(f"      → {f.remedy}", style="dim"))
    if not view.findings:
        lines.append(Text(f"  {NO_FINDINGS}", style="green"))
    lines += [Text(f"  {note}", style="dim") for note in view.notes]
    return Group(*lines)


def render_report(report: Report) -> RenderableType:
    many = len(report.checkpoints) > 1
    parts: list[RenderableType] = (
        [*comparison_tables(report), trend_line(report)] if many else [figures_table(report)]
    )
    parts += layers_tables(report)  # only checkpoints probed with --layers
    parts += remedies_tables(report)  # only checkpoints probed with --remedies
    parts += own_d_tables(report)  # only checkpoints that hold their own D
    parts += ranking_block(report)  # only with --rank
    parts += [Text(line) for line in run_lines(report)]  # only for run folders
    parts += [findings_block(c, with_name=many) for c in report.checkpoints]
    if report.baseline is not None:
        parts.append(baseline_block(report.baseline))
    settings = report.settings
    parts.append(Text(f"device {settings.device}, --precision {settings.precision}", style="dim"))
    if report.config_file:
        parts.append(Text(f"settings: [tool.gandoctor] in {report.config_file}", style="dim"))
    gate = Text(f"gate (--fail-on {report.fail_on}): ")
    gate.append(gate_outcome(report), style="bold red" if report.exit_code else "bold green")
    parts.append(gate)
    return Group(*parts)
