"""Rich rendering of a Report for the terminal. Data in, renderables out; no I/O here."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import PurePath
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from gandoctor.enums import Severity, Verdict
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.terminal.baseline import baseline_block
from gandoctor.report.terminal.layers import layers_tables
from gandoctor.report.terminal.remedies import remedies_tables
from gandoctor.report.terminal.samples import SAMPLE_COLUMNS, SAMPLE_ROWS
from gandoctor.report.views import gate_outcome

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


def _sci(value: float | None) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.2e}"


def _fixed(value: float | None, digits: int = 3) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}f}"


def _steps_or(value: int | None, missing: str) -> str:
    return missing if value is None else str(value)


Row = tuple[str, Callable[[CheckpointReport], str]]


def _summary(c: CheckpointReport) -> dict[str, Any]:
    return c.outcome.summary.to_dict() if c.outcome.summary else {}


ROWS: list[Row] = [
    ("architecture", lambda c: str(c.generator.get("architecture", "?"))),
    (
        "latent → output",
        lambda c: f"{tuple(c.generator['latent_shape'])} → {tuple(c.generator['output_shape'])}",
    ),
    ("parameters", lambda c: f"{c.generator.get('parameters', 0):,}"),
    (
        "real samples (train / held-out)",
        lambda c: f"{c.outcome.train_samples} / {c.outcome.heldout_samples}",
    ),
    ("D steps run", lambda c: str(_summary(c).get("steps_run", 0))),
    (
        "steps to saturation",
        lambda c: _steps_or(_summary(c).get("steps_to_saturation"), "not saturated"),
    ),
    ("held-out accuracy", lambda c: _fixed(_summary(c).get("final_accuracy"))),
    ("mean D(x)", lambda c: _fixed(_summary(c).get("final_d_real"))),
    ("mean D(G(z))", lambda c: _sci(_summary(c).get("final_d_fake"))),
    ("JS lower bound (nats, max log 2)", lambda c: _fixed(_summary(c).get("final_js_lower_bound"))),
    (
        "minimax ∇ start / peak / final",
        lambda c: " / ".join(
            _sci(_summary(c).get(k))
            for k in ("minimax_grad_start", "minimax_grad_peak", "minimax_grad_end")
        ),
    ),
    ("minimax ∇ decades lost", lambda c: _fixed(_summary(c).get("minimax_decades_lost"), 2)),
    (
        "-log D ∇ start / final",
        lambda c: " / ".join(
            _sci(_summary(c).get(k)) for k in ("nonsat_grad_start", "nonsat_grad_end")
        ),
    ),
    (
        "-log D ∇ decades gained (total / after peak)",
        lambda c: " / ".join(
            _fixed(_summary(c).get(k), 2)
            for k in ("nonsat_decades_gained", "nonsat_growth_after_peak")
        ),
    ),
    (
        "-log D ∇ variation (steps / latents)",
        lambda c: " / ".join(
            f"{_summary(c).get(k, math.nan):.1%}"
            if math.isfinite(_summary(c).get(k, math.nan))
            else "—"
            for k in ("nonsat_cv_steps", "nonsat_cv_latent")
        ),
    ),
    *SAMPLE_ROWS,
]


def figures_table(report: Report) -> Table:
    """One column per checkpoint, one row per headline figure, the verdict last."""
    table = Table(title="gandoctor probe", title_justify="left", show_lines=False)
    table.add_column("figure (held-out; final = median of last 3)", style="bold")
    for c in report.checkpoints:
        table.add_column(c.checkpoint, overflow="fold")
    for label, cell in ROWS:
        table.add_row(label, *(cell(c) for c in report.checkpoints))
    table.add_row(
        "verdict",
        *(Text(str(c.verdict), style=VERDICT_STYLE[c.verdict]) for c in report.checkpoints),
        end_section=True,
    )
    return table


# Columns of the comparison table: short headers, the same figures as the single table.
COMPARISON: list[Row] = [
    ("steps", lambda c: str(_summary(c).get("steps_run", 0))),
    ("saturated at", lambda c: _steps_or(_summary(c).get("steps_to_saturation"), "-")),
    ("accuracy", lambda c: _fixed(_summary(c).get("final_accuracy"))),
    ("D(G(z))", lambda c: _sci(_summary(c).get("final_d_fake"))),
    ("JS bound", lambda c: _fixed(_summary(c).get("final_js_lower_bound"))),
    ("minimax ∇ lost", lambda c: _fixed(_summary(c).get("minimax_decades_lost"), 2)),
    ("-log D ∇ growth", lambda c: _fixed(_summary(c).get("nonsat_growth_after_peak"), 2)),
]


def comparison_tables(report: Report) -> list[Table]:
    """One row per checkpoint with the headline figures (the full set is in the JSON): the
    training signal, then the samples; two tables, so each fits a terminal."""
    names = _short_names(report)
    tables = []
    for title, columns in (
        ("comparison (held-out; decades of gradient norm)", COMPARISON),
        ("samples (against held-out real data)", SAMPLE_COLUMNS),
    ):
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
    names = _short_names(report)
    changes = [f"{h} {cell(first)} → {cell(last)}" for h, cell in COMPARISON if h in _TREND]
    changes.append(f"verdict {first.verdict} → {last.verdict}")
    return Text(f"from {names[0]} to {names[-1]}: " + "; ".join(changes))


_TREND = ("saturated at", "accuracy", "minimax ∇ lost")


_SEPARATORS = "_-. "


def _shared_start(texts: list[str]) -> str:
    """The longest start all ``texts`` share, character by character."""
    shortest = min(texts, key=len)
    for i, char in enumerate(shortest):
        if any(text[i] != char for text in texts):
            return shortest[:i]
    return shortest


def _short_names(report: Report) -> list[str]:
    """What tells the checkpoints apart: file names without the prefix and suffix they all
    share (``dcgan_epoch10.safetensors`` -> ``epoch10``), cut at a separator so that no
    word is split; the paths as given where file names repeat."""
    names = [PurePath(c.checkpoint).name for c in report.checkpoints]
    if len(set(names)) < len(names):
        return [c.checkpoint for c in report.checkpoints]
    if len(names) < 2:
        return names
    prefix = _shared_start(names)
    prefix = prefix[: max(prefix.rfind(sep) + 1 for sep in _SEPARATORS)]
    suffix = _shared_start([n[::-1] for n in names])[::-1]
    cuts = [i for i in (suffix.find(sep) for sep in _SEPARATORS) if i >= 0]
    suffix = suffix[min(cuts, default=len(suffix)) :]
    short = [n[len(prefix) : len(n) - len(suffix)] for n in names]
    return short if all(short) and len(set(short)) == len(short) else names


def findings_block(c: CheckpointReport, with_name: bool) -> RenderableType:
    lines: list[RenderableType] = []
    header = Text()
    if with_name:
        header.append(f"{c.checkpoint}: ", style="bold")
    header.append(str(c.verdict), style=VERDICT_STYLE[c.verdict])
    header.append(f" — {c.outcome.stop_reason} in {c.outcome.seconds:.1f} s")
    if not c.outcome.complete:
        header.append(" (partial: the verdict may change with more steps)", style="yellow")
    lines.append(header)
    for f in c.outcome.findings:
        mark, style = SEVERITY_MARK[f.severity]
        line = Text(f"  {mark} ", style=style)
        line.append(f"{f.code}", style=f"bold {style}")
        line.append(f": {f.message}")
        lines.append(line)
        lines.append(Text(f"      → {f.remedy}", style="dim"))
    if not c.outcome.findings:
        lines.append(
            Text("  no findings: D does not separate the generator's samples", style="green")
        )
    if c.data.get("conversion"):
        lines.append(Text(f"  real data: {c.data['conversion']}", style="dim"))
    for note in c.outcome.notes:
        lines.append(Text(f"  note: {note}", style="dim"))
    return Group(*lines)


def render_report(report: Report) -> RenderableType:
    many = len(report.checkpoints) > 1
    parts: list[RenderableType] = (
        [*comparison_tables(report), trend_line(report)] if many else [figures_table(report)]
    )
    parts += layers_tables(report)  # only checkpoints probed with --layers
    parts += remedies_tables(report)  # only checkpoints probed with --remedies
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
