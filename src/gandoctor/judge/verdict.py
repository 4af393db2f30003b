"""The verdict of a set of findings, and when more D steps cannot change it."""

from __future__ import annotations

from collections.abc import Iterable

from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.results.outcome import Finding
from gandoctor.results.series import Summary


def overall(findings: Iterable[Finding]) -> Verdict:
    codes = [(f.code, f.severity) for f in findings]
    if any(code == FindingCode.BROKEN for code, _ in codes):
        return Verdict.BROKEN
    if any(sev == Severity.FAIL for _, sev in codes):
        return Verdict.FAILING
    if any(sev == Severity.WARN for _, sev in codes):
        return Verdict.WARNING
    return Verdict.HEALTHY


def unusable(findings: Iterable[Finding]) -> bool:
    """Nothing can be measured on the generator as it is called: broken, or usable only in
    the other mode (a fail-severity mode_mismatch)."""
    return any(
        f.code == FindingCode.BROKEN
        or (f.code == FindingCode.MODE_MISMATCH and f.severity == Severity.FAIL)
        for f in findings
    )


def is_settled(summary: Summary, findings: list[Finding], settle_steps: int) -> bool:
    """True once more D steps cannot improve the verdict any more.

    Broken stays broken. Otherwise the run may end when D has been saturated for
    ``settle_steps`` and all three of the paper's signs (saturation, vanishing, exploding)
    are found at fail level, none of them borderline: a saturated D only grows more
    confident with training, which shrinks the minimax gradient further and grows the
    -log D one. (A borderline finding has its figure just past its threshold; stopping
    there would report a verdict that a little rounding undoes.) No other finding may be
    borderline either: its figure too may still cross its threshold.

    The figures read so far are lower bounds of those a longer run reads: every seed of
    every generator of the stability matrix lost more minimax decades and gained more -log D
    growth the later they were read (benchmarks/matrix.py). And each margin holds the
    figure's horizon shift (judge.summarise.HORIZON_PACE), so a finding that is firm here
    is firm for a run whose D is somewhat ahead or behind.
    """
    if any(f.code == FindingCode.BROKEN for f in findings):
        return True
    if summary.steps_to_saturation is None:
        return False
    if summary.steps_run - summary.steps_to_saturation < settle_steps:
        return False
    if any(f.borderline for f in findings):
        return False
    failed = {f.code for f in findings if f.severity == Severity.FAIL}
    return {FindingCode.SATURATION, FindingCode.VANISHING, FindingCode.EXPLODING} <= failed


def firm_flips(a: Iterable[Finding], b: Iterable[Finding]) -> list[str]:
    """Finding codes on which two probes of the same generator disagree (present in one,
    absent or at another severity in the other) where neither marks the finding
    borderline: what must not happen between runners, thread counts or precisions."""
    a, b = list(a), list(b)
    soft = {f.code for f in a + b if f.borderline}
    firm_a = {f.code: f.severity for f in a if not f.borderline}
    firm_b = {f.code: f.severity for f in b if not f.borderline}
    codes = (set(firm_a) | set(firm_b)) - soft
    return sorted(str(c) for c in codes if firm_a.get(c) != firm_b.get(c))
