"""Findings and the verdict, from the probe's summary. Pure Python: no torch here."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from gandoctor.config import FindingCode, Severity, Thresholds, Verdict
from gandoctor.errors import ConfigError
from gandoctor.summary import GeneratorHealth, Summary

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARN: 1, Severity.FAIL: 2}

REMEDY = {
    FindingCode.SATURATION: (
        "once D separates the two supports the JS signal is flat: add annealed instance "
        "noise to D's inputs (Arjovsky & Bottou 2017, sec. 3) or train with a Wasserstein "
        "critic (WGAN-GP)"
    ),
    FindingCode.VANISHING: (
        "do not train G with the minimax cost log(1 - D(G(z))); use -log D(G(z)) or a "
        "WGAN-GP critic, and do not train D to optimality"
    ),
    FindingCode.EXPLODING: (
        "the -log D(G(z)) gradient grows and turns noisy near a saturated D: use instance "
        "noise or a gradient penalty (WGAN-GP, R1), or slow D down"
    ),
}


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    remedy: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "code": str(self.code), "severity": str(self.severity)}


def find(summary: Summary | None, health: GeneratorHealth, t: Thresholds) -> list[Finding]:
    """All findings for one checkpoint. ``summary`` is None when no probe could run."""
    findings = _broken(summary, health, t)
    if summary is not None and not findings:
        findings += _saturation(summary, t) + _vanishing(summary, t) + _exploding(summary, t)
    difference = health.train_eval_difference
    broken = any(f.code == FindingCode.BROKEN for f in findings)
    if (
        not broken
        and difference is not None
        and math.isfinite(difference)
        and (difference > t.mode_mismatch_ratio)
    ):
        findings.append(
            Finding(
                FindingCode.MODE_MISMATCH,
                Severity.INFO,
                f"train-mode and eval-mode outputs differ by "
                f"{health.train_eval_difference:.0%} for the same z",
                "probe in the mode you train or sample in (--train-mode keeps BatchNorm "
                "batch statistics)",
                {"train_eval_difference": health.train_eval_difference},
            )
        )
    return findings


def overall(findings: Iterable[Finding]) -> Verdict:
    codes = [(f.code, f.severity) for f in findings]
    if any(code == FindingCode.BROKEN for code, _ in codes):
        return Verdict.BROKEN
    if any(sev == Severity.FAIL for _, sev in codes):
        return Verdict.FAILING
    if any(sev == Severity.WARN for _, sev in codes):
        return Verdict.WARNING
    return Verdict.HEALTHY


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    order = [Verdict.HEALTHY, Verdict.WARNING, Verdict.FAILING, Verdict.BROKEN]
    return max(verdicts, key=order.index, default=Verdict.HEALTHY)


def is_settled(summary: Summary, findings: list[Finding], settle_steps: int) -> bool:
    """True once more D steps cannot improve the verdict any more.

    Broken stays broken. Otherwise the run may end when D has been saturated for
    ``settle_steps`` and all three of the paper's signs (saturation, vanishing, exploding)
    are found at fail level: a saturated D only grows more confident with training, which
    shrinks the minimax gradient further and grows the -log D one.
    """
    if any(f.code == FindingCode.BROKEN for f in findings):
        return True
    if summary.steps_to_saturation is None:
        return False
    if summary.steps_run - summary.steps_to_saturation < settle_steps:
        return False
    failed = {f.code for f in findings if f.severity == Severity.FAIL}
    return {FindingCode.SATURATION, FindingCode.VANISHING, FindingCode.EXPLODING} <= failed


@dataclass(frozen=True)
class FailOn:
    """Which findings make the gate fail: named codes, and/or severities at or above one."""

    codes: frozenset[FindingCode] = frozenset()
    min_severity: Severity | None = Severity.FAIL

    def matches(self, finding: Finding) -> bool:
        if finding.code in self.codes:
            return True
        if self.min_severity is None:
            return False
        return _SEVERITY_RANK[finding.severity] >= _SEVERITY_RANK[self.min_severity]

    def __str__(self) -> str:
        parts = sorted(str(c) for c in self.codes)
        if self.min_severity is not None:
            parts.append(str(self.min_severity))
        return ",".join(parts) or "none"


def parse_fail_on(text: str) -> FailOn:
    """Parse ``--fail-on``: comma-separated codes and severities, or ``none``.

    ``fail`` (the default) fails on every fail-severity finding; ``warn`` on warnings too;
    ``saturation,vanishing`` only on those codes, whatever their severity.
    """
    tokens = [t.strip().lower() for t in text.split(",") if t.strip()]
    if tokens == ["none"]:
        return FailOn(min_severity=None)
    codes: set[FindingCode] = set()
    severities: list[Severity] = []
    for token in tokens:
        if token in {s.value for s in Severity}:
            severities.append(Severity(token))
        elif token in {c.value for c in FindingCode}:
            codes.add(FindingCode(token))
        else:
            choices = [s.value for s in Severity] + [c.value for c in FindingCode] + ["none"]
            raise ConfigError(f"--fail-on: unknown entry {token!r}; choose from {choices}")
    if not codes and not severities:
        raise ConfigError("--fail-on is empty; use 'none' to never fail the gate")
    lowest = min(severities, key=_SEVERITY_RANK.__getitem__) if severities else None
    return FailOn(codes=frozenset(codes), min_severity=lowest)


def _broken(summary: Summary | None, h: GeneratorHealth, t: Thresholds) -> list[Finding]:
    def broken(message: str, remedy: str, **evidence: Any) -> Finding:
        return Finding(FindingCode.BROKEN, Severity.FAIL, message, remedy, evidence)

    if h.nonfinite_parameters:
        return [
            broken(
                f"{h.nonfinite_parameters} NaN/Inf values in the generator's weights",
                "the checkpoint was saved after training diverged; use an earlier one",
                nonfinite_parameters=h.nonfinite_parameters,
            )
        ]
    if h.nonfinite_output_share > 0:
        return [
            broken(
                f"{h.nonfinite_output_share:.1%} of generated values are NaN/Inf",
                "check the generator's forward pass (division, log, sqrt) and its weights",
                nonfinite_output_share=h.nonfinite_output_share,
            )
        ]
    if h.spread_ratio < t.ignores_z_ratio:
        return [
            broken(
                f"the generator ignores z: its samples vary {h.spread_ratio:.1e} times as "
                "much as the real data",
                "check that z reaches the network (no detach, no constant input) and that "
                "the latent shape is right",
                spread_ratio=h.spread_ratio,
                output_spread=h.output_spread,
                real_spread=h.real_spread,
            )
        ]
    if h.nonfinite_measurement_step is not None:
        return [
            broken(
                f"a loss or gradient became NaN/Inf at step {h.nonfinite_measurement_step}",
                "the generator's outputs or gradients overflow; check its output range",
                step=h.nonfinite_measurement_step,
            )
        ]
    if summary is not None and summary.minimax_grad_start == 0 and summary.nonsat_grad_start == 0:
        return [
            broken(
                "no gradient reaches the generator's parameters",
                "the output is detached from the parameters (detach, no_grad, .data) or no "
                "parameter is floating point",
            )
        ]
    return []


def _saturation(s: Summary, t: Thresholds) -> list[Finding]:
    evidence = {
        "steps_to_saturation": s.steps_to_saturation,
        "final_accuracy": s.final_accuracy,
        "final_d_fake": s.final_d_fake,
        "final_js_lower_bound": s.final_js_lower_bound,
    }
    remedy = REMEDY[FindingCode.SATURATION]
    if s.steps_to_saturation is not None:
        message = (
            f"a fresh D separates real from generated after {s.steps_to_saturation} steps "
            f"(held-out accuracy {s.final_accuracy:.3f}, mean D(G(z)) {s.final_d_fake:.1e})"
        )
        return [Finding(FindingCode.SATURATION, Severity.FAIL, message, remedy, evidence)]
    if s.final_accuracy >= t.separable_accuracy:
        message = (
            f"a fresh D reaches held-out accuracy {s.final_accuracy:.3f} in {s.steps_run} "
            f"steps without saturating (mean D(G(z)) {s.final_d_fake:.2f})"
        )
        return [Finding(FindingCode.SATURATION, Severity.WARN, message, remedy, evidence)]
    return []


def _vanishing(s: Summary, t: Thresholds) -> list[Finding]:
    lost = s.minimax_decades_lost
    severity = _level(lost, t.vanishing_fail_decades, t.vanishing_warn_decades)
    if severity is None:
        return []
    message = (
        f"the minimax gradient fell {lost:.1f} decades, from {s.minimax_grad_peak:.2e} at "
        f"step {s.minimax_grad_peak_step} to {s.minimax_grad_end:.2e} at step {s.steps_run}"
    )
    evidence = {
        "decades_lost": lost,
        "peak": s.minimax_grad_peak,
        "peak_step": s.minimax_grad_peak_step,
        "end": s.minimax_grad_end,
    }
    return [
        Finding(FindingCode.VANISHING, severity, message, REMEDY[FindingCode.VANISHING], evidence)
    ]


def _exploding(s: Summary, t: Thresholds) -> list[Finding]:
    gained, cv = s.nonsat_growth_after_peak, s.nonsat_cv_steps
    severity = _level(gained, t.exploding_fail_decades, t.exploding_warn_decades)
    if severity is None and cv >= t.noisy_cv:
        severity = Severity.WARN
    if severity is None:
        return []
    message = (
        f"the -log D gradient grew {gained:.1f} decades after the minimax peak at step "
        f"{s.minimax_grad_peak_step}, to {s.nonsat_grad_end:.2e}, with {cv:.0%} variation "
        "between measurements"
    )
    evidence = {
        "growth_after_peak": gained,
        "decades_gained_from_start": s.nonsat_decades_gained,
        "start": s.nonsat_grad_start,
        "end": s.nonsat_grad_end,
        "cv_steps": cv,
        "cv_latent": s.nonsat_cv_latent,
    }
    return [
        Finding(FindingCode.EXPLODING, severity, message, REMEDY[FindingCode.EXPLODING], evidence)
    ]


def _level(value: float, fail_at: float, warn_at: float) -> Severity | None:
    if not math.isfinite(value):
        return None
    if value >= fail_at:
        return Severity.FAIL
    if value >= warn_at:
        return Severity.WARN
    return None
