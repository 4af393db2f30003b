"""Rich rendering of the ``--baseline`` comparison; data in, renderables out. The labels and
value formats here are shared with the Markdown report."""

from __future__ import annotations

from pathlib import PurePath
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.results.baseline import BaselineComparison, CheckpointComparison

FIGURE_LABELS = {
    "verdict": "verdict",
    "steps_run": "D steps run",
    "steps_to_saturation": "steps to saturation",
    "final_accuracy": "held-out accuracy",
    "final_d_fake": "mean D(G(z))",
    "minimax_decades_lost": "minimax ∇ decades lost",
    "nonsat_growth_after_peak": "-log D ∇ growth after peak (decades)",
    "fail_findings": "fail-level findings",
}
"""How the terminal table and the Markdown report label the compared figures."""


def column_title(c: CheckpointComparison) -> str:
    """``g.pt: baseline → now``, or ``baseline a.pt → now b.pt`` when the names differ."""
    now, then = PurePath(c.checkpoint).name, PurePath(c.baseline_checkpoint).name
    return f"{now}: baseline → now" if now == then else f"baseline {then} → now {now}"


def show(figure: str, value: Any) -> str:
    """A compared figure's value as the tables print it."""
    if figure == "steps_to_saturation" and value is None:
        return "not saturated"
    if figure == "fail_findings":
        return ", ".join(value) if value else "none"
    if value is None:
        return "—"
    if figure == "final_d_fake":
        return f"{value:.2e}"
    if figure == "final_accuracy":
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


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
