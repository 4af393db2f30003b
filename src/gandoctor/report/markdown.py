"""The report as GitHub-flavoured Markdown (``--markdown PATH``): a pull-request comment or a
GitHub Actions job summary (``--markdown "$GITHUB_STEP_SUMMARY"``).

The same facts as the terminal table, in the same words: the figures (render.ROWS), each
checkpoint's verdict, stop reason, findings with their remedies and notes, the baseline
comparison and the gate's decision. Text from files and messages is escaped, so a
checkpoint called ``a|b_c.pt`` cannot break a table or start emphasis.
"""

from __future__ import annotations

import re
from pathlib import PurePath

from gandoctor.enums import Severity, Verdict
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.ranked import RANKING_HEADER, ranking_lines, ranking_rows
from gandoctor.report.rows import figure_rows, own_d_rows, own_d_title
from gandoctor.report.views import (
    FIGURE_LABELS,
    NO_FINDINGS,
    PARTIAL,
    column_title,
    findings_view,
    gate_outcome,
    run_lines,
    short_names,
    show,
)
from gandoctor.results.baseline import BaselineComparison

VERDICT_MARK = {
    Verdict.HEALTHY: "✅",
    Verdict.WARNING: "⚠️",
    Verdict.FAILING: "❌",
    Verdict.BROKEN: "💥",
}
# \u2139\ufe0f is the information sign emoji.
SEVERITY_MARK = {Severity.FAIL: "❌", Severity.WARN: "⚠️", Severity.INFO: "\u2139\ufe0f"}

# Characters that format text anywhere in a line (emphasis, code, links, HTML, table cells,
# strikethrough); CommonMark lets a backslash escape each. Others (#, >, +, -) act only at a
# line's start, where escaped text never stands.
_SPECIAL = re.compile(r"([\\`*_\[\]<|~])")


def escape(text: str) -> str:
    """Plain text for a Markdown paragraph or table cell: special characters escaped, line
    breaks flattened (a table row is one line)."""
    return _SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def render_markdown(report: Report) -> str:
    """The whole report as one Markdown document, ending with a newline."""
    code = report.exit_code
    parts = [
        f"## gandoctor: {VERDICT_MARK[report.verdict]} {report.verdict} "
        f"(gate {'fails' if code else 'passes'}, exit {code})",
        _figures(report),
        *_own_d(report),
        *_ranking(report),
        *_runs(report),
        "### Findings",
        *(_findings(c, with_name=len(report.checkpoints) > 1) for c in report.checkpoints),
    ]
    if not report.complete:
        parts.append(
            "> [!WARNING]\n> Partial verdict: a probe was cut short before its verdict "
            "settled (see the stop reason above); more steps may change it."
        )
    if report.baseline is not None:
        parts.append(_baseline(report.baseline))
    parts.append(f"**Gate** (`--fail-on {report.fail_on}`): {escape(gate_outcome(report))}")
    footer = f"gandoctor {escape(report.version)}"
    if report.config_file:
        footer += f"; settings from `[tool.gandoctor]` in {escape(report.config_file)}"
    parts.append(f"<sub>{footer}</sub>")
    return "\n\n".join(parts) + "\n"


def _table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _figures(report: Report) -> str:
    header = ["figure (held-out; final = last tenth of the run)"]
    header += [escape(name) for name in short_names(report)]
    rows = [
        [escape(label)] + [escape(cell(c)) for c in report.checkpoints]
        for label, cell in figure_rows(report.checkpoints)
    ]
    rows.append(["verdict"] + [f"**{c.verdict}**" for c in report.checkpoints])
    return _table(header, rows)


def _own_d(report: Report) -> list[str]:
    """A table per checkpoint whose own D was measured: the probe D's figure, the own D's."""
    return [
        f"**{escape(own_d_title(c, c.own_discriminator))}**\n\n"
        + _table(["figure", "probe D (fresh, end)", "own D (as saved)"],
                 [[escape(cell) for cell in row] for row in own_d_rows(c, c.own_discriminator)])
        for c in report.checkpoints
        if c.own_discriminator is not None
    ]  # fmt: skip


def _runs(report: Report) -> list[str]:
    """The training run folders probed, as one list (none without run folders)."""
    lines = [f"- {escape(line.strip())}" for line in run_lines(report)]
    return ["\n".join(lines)] if lines else []


def _ranking(report: Report) -> list[str]:
    """``--rank``: the ranking table and its summary."""
    if report.ranking is None:
        return []
    rows = [[escape(cell) for cell in row] for row in ranking_rows(report)]
    lines = "\n".join(f"- {escape(line)}" for line in ranking_lines(report))
    return [f"### Ranking\n\n{_table(RANKING_HEADER, rows)}\n\n{lines}"]


def _findings(c: CheckpointReport, with_name: bool) -> str:
    view = findings_view(c, with_name)
    head = f"**{escape(view.name)}**: " if view.name is not None else ""
    head += f"{VERDICT_MARK[view.verdict]} **{view.verdict}** — {escape(view.stopped)}"
    if not view.complete:
        head += f" *({PARTIAL})*"
    lines = [head, ""]
    for f in view.findings:
        lines.append(
            f"- {SEVERITY_MARK[f.severity]} **{f.code}** ({f.severity}): {escape(f.message)}  \n"
            + (f"  *({escape(f.borderline)})*  \n" if f.borderline is not None else "")
            + f"  → {escape(f.remedy)}"
        )
    if not view.findings:
        lines.append(f"- {NO_FINDINGS}")
    lines += [f"- {escape(note)}" for note in view.notes]
    return "\n".join(lines)


def _baseline(comparison: BaselineComparison) -> str:
    header = ["figure"] + [escape(column_title(c)) for c in comparison.checkpoints]
    rows = []
    for figure, label in FIGURE_LABELS.items():
        row = [escape(label)]
        for c in comparison.checkpoints:
            before, now = c.figures[figure]
            row.append(f"{escape(show(figure, before))} → {escape(show(figure, now))}")
        rows.append(row)
    lines = [f"### Baseline ({escape(comparison.path)})", "", _table(header, rows), ""]
    for name, regression in comparison.regressions:
        lines.append(
            f"- ❌ regression, {escape(PurePath(name).name)}: {escape(regression.message)}"
        )
    if not comparison.regressed:
        lines.append("- ✅ no regression against the baseline")
    lines += [f"- note: {escape(n)} has no entry in the baseline; not compared"
              for n in comparison.unmatched]  # fmt: skip
    lines += [f"- note: baseline entry {escape(n)} was not probed" for n in comparison.missing]
    lines += [
        f"- note: setting {escape(key)} differs: {escape(str(before))} in the baseline, "
        f"{escape(str(now))} now"
        for key, (before, now) in comparison.settings_differ.items()
    ]
    return "\n".join(lines)
