"""Format-neutral views of a report: the text both the terminal and the Markdown show."""

from __future__ import annotations

from gandoctor.report.model import Report


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
