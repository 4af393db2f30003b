"""Rich rendering of the ``--baseline`` comparison; data in, renderables out. Its labels and
value formats are report.views', shared with the Markdown report."""

from __future__ import annotations

from pathlib import PurePath

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.report.views import FIGURE_LABELS, column_title, show
from gandoctor.results.baseline import BaselineComparison


def baseline_block(comparison: BaselineComparison) -> RenderableType:
    """A table of the compared figures (baseline / now per checkpoint), then every
    regression, unmatched checkpoint and differing setting."""
    table = Table(title=f"baseline {comparison.path}", title_justify="left")
    table.add_column("figure", style="bold")
    for c in comparison.checkpoints:
        table.add_column(column_title(c), overflow="fold")
    for figure, label in FIGURE_LABELS.items():
        cells = []
        for c in comparison.checkpoints:
            before, now = c.figures[figure]
            regressed = any(r.figure == figure for r in c.regressions) or (
                figure == "fail_findings" and any(r.figure == "finding" for r in c.regressions)
            )
            cells.append(
                Text(
                    f"{show(figure, before)} → {show(figure, now)}",
                    style="red" if regressed else "",
                )
            )
        table.add_row(label, *cells)
    lines: list[RenderableType] = [table]
    for name, regression in comparison.regressions:
        line = Text("  ✗ regression ", style="red")
        line.append(f"{PurePath(name).name}: ", style="bold")
        line.append(regression.message)
        lines.append(line)
    if not comparison.regressed:
        lines.append(Text("  no regression against the baseline", style="green"))
    for name in comparison.unmatched:
        lines.append(
            Text(f"  note: {name} has no entry in the baseline; not compared", style="dim")
        )
    for name in comparison.missing:
        lines.append(Text(f"  note: baseline entry {name} was not probed", style="dim"))
    for key, (before, now) in comparison.settings_differ.items():
        lines.append(
            Text(f"  note: setting {key} differs: {before} in the baseline, {now} now", style="dim")
        )
    return Group(*lines)
