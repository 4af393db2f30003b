"""Format-neutral views of a report: the text both the terminal and the Markdown show.

The terminal (report.terminal) and the Markdown report (report.markdown) style these
pieces each in its own way; the words and numbers are decided here once.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.results.baseline import CheckpointComparison
from gandoctor.results.outcome import Margin
from gandoctor.results.plan import ProbePlan

MISSING = "—"
"""What a cell shows for a figure that was not measured or is not a finite number."""


def number(value: float | None, spec: str, suffix: str = "") -> str:
    """``value`` formatted with ``spec`` (``.2e``, ``.3f``, ``.1%``), or MISSING."""
    if value is None or not math.isfinite(value):
        return MISSING
    return format(value, spec) + suffix


NO_FINDINGS = "no findings: D does not separate the generator's samples"
PARTIAL = "partial: the verdict may change with more steps"


@dataclass(frozen=True)
class FindingLine:
    severity: Severity
    code: FindingCode
    message: str
    remedy: str
    borderline: str | None = None
    """For a borderline finding, its margin in words; None otherwise."""


def borderline_text(margin: Margin, seeds: int = 1) -> str:
    """``borderline: minimax_decades_lost 1.05 +/- 0.12 against 1; ...``, with how to settle
    it: more seeds, where the probe ran under one (``seeds``)."""
    settle = "; --seeds 5 settles it by the majority of five probes" if seeds < 2 else ""
    return (
        f"borderline: {margin.figure} {margin.value:.3g} +/- {margin.uncertainty:.2g} "
        f"against {margin.threshold:g}; it does not fail the gate unless --fail-on names "
        f"borderline{settle}"
    )


@dataclass(frozen=True)
class FindingsView:
    """The findings block of one checkpoint: a header, one line per finding, and notes."""

    name: str | None
    """The checkpoint, when several are shown; None for a single one."""
    verdict: Verdict
    stopped: str
    """``<stop reason> in <seconds> s``."""
    complete: bool
    findings: list[FindingLine]
    notes: list[str]
    """``real data: ...`` and ``note: ...`` lines, in that order."""


def range_guess(generator: dict[str, Any]) -> list[str]:
    """A note where the output range, to which the real data were scaled, was read off
    the generator's outputs rather than declared: for an untrained generator, or one without
    a final activation, that is a guess."""
    if generator.get("range_source") not in ("observed", "default"):
        return []
    low, high = generator.get("output_range") or (math.nan, math.nan)
    return [
        f"note: the output range [{low:g}, {high:g}] is a guess from the generator's own "
        "outputs (no final tanh or sigmoid says it); if it was trained on another range, "
        "pass --output-range"
    ]


def findings_view(c: CheckpointReport, with_name: bool) -> FindingsView:
    o = c.outcome
    notes = [plan_line(o.plan)] if o.plan is not None and o.plan.planned else []
    notes += repeats_lines(c)
    notes += [f"real data: {c.data['conversion']}"] if c.data.get("conversion") else []
    notes += range_guess(c.generator)
    notes += [f"note: {note}" for note in o.notes]
    return FindingsView(
        name=c.checkpoint if with_name else None,
        verdict=c.verdict,
        stopped=f"{o.stop_reason} in {o.seconds:.1f} s",
        complete=o.complete,
        findings=[
            FindingLine(
                f.severity,
                f.code,
                f.message,
                f.remedy,
                borderline_text(f.margin, len(c.repeats.seeds) if c.repeats else 1)
                if f.margin is not None and f.borderline
                else None,
            )
            for f in o.findings
        ],
        notes=notes,
    )


def plan_line(plan: ProbePlan) -> str:
    """What a planned probe changed and why: its figures are not the full protocol's."""
    return f"planned run ({plan.describe()}): {plan.reason}"


def repeats_lines(c: CheckpointReport) -> list[str]:
    """With ``--seeds N``: the majority verdict, how many seeds had each finding, and the
    headline figures as median [min, max]; nothing for a single seed."""
    r = c.repeats
    if r is None:
        return []
    seeds = f"{r.seeds[0]}-{r.seeds[-1]}"
    votes = r.votes[r.verdict]
    counts = ", ".join(f"{key} {n}/{len(r.seeds)}" for key, n in r.finding_counts.items())
    figures = "; ".join(
        f"{name} {number(f['median'], '.3g')} [{number(f['min'], '.3g')}, "
        f"{number(f['max'], '.3g')}]"
        for name, f in r.figures().items()
        if f["median"] is not None
    )
    return [
        f"seeds {seeds}: verdict {r.verdict} by majority ({votes} of {len(r.seeds)}); "
        f"findings: {counts or 'none'}",
        f"seeds {seeds}: median [range] {figures}",
    ]


def gate_outcome(report: Report) -> str:
    """The gate's decision in words, e.g. ``fails on saturation, vanishing; 1 baseline
    regression (exit 1)``, for the terminal and the Markdown report."""
    reasons = []
    codes = sorted({code for _, code in report.gate_failures})
    if codes:
        reasons.append(f"fails on {', '.join(codes)}")
    if report.baseline is not None:
        n = len(report.baseline.regressions)
        if n:
            reasons.append(f"{n} baseline regression{'s' if n > 1 else ''}")
        elif not codes:
            reasons.append("passes, no baseline regression")
    text = "; ".join(reasons) or "passes"
    return f"{text} (exit {report.exit_code})"


_SEPARATORS = "_-. "


def _shared_start(texts: list[str]) -> str:
    """The longest start all ``texts`` share, character by character."""
    shortest = min(texts, key=len)
    for i, char in enumerate(shortest):
        if any(text[i] != char for text in texts):
            return shortest[:i]
    return shortest


def short_names(report: Report) -> list[str]:
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
        return MISSING
    if figure == "final_d_fake":
        return f"{value:.2e}"
    if figure == "final_accuracy":
        return f"{value:.3f}"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def run_lines(report: Report) -> list[str]:
    """Each training run folder probed: which snapshots were chosen, and where the real
    data came from when the run's options named them."""
    lines = []
    for run in report.runs:
        line = f"run {run['root']} ({run['kind']}): {run['chosen']}"
        if run.get("data_used"):
            line += f"; real data from {run['options_file'] or run['root']}: {run['data_found']}"
        lines.append(line)
        lines += [f"  {note}" for note in run.get("notes", [])]
    return lines
