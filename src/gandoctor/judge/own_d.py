"""Findings about the checkpoint's own discriminator (results.own_discriminator). Pure
Python. The thresholds and their reasons are in thresholds.py."""

from __future__ import annotations

import math
from dataclasses import replace

from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.judge.verdict import overall
from gandoctor.results.outcome import Finding, Margin, ProbeOutcome
from gandoctor.results.own_discriminator import OwnDiscriminator
from gandoctor.thresholds import Thresholds

REMEDY_DOMINANT = (
    "the generator trained against a D that had all but won: its minimax gradient was "
    "decades below the -log D one. Use the -log D cost (if the run used minimax), slow D "
    "down (fewer D steps, a lower learning rate), or regularise it (R1, instance noise)"
)


def own_d_findings(own: OwnDiscriminator, t: Thresholds) -> list[Finding]:
    """``d_dominant`` where the own D separates at near-saturation and the minimax gradient
    through it lies ``own_d_dominant_decades`` below the -log D one."""
    mm, ns = own.minimax_grad_norm, own.nonsat_grad_norm
    if not (mm.mean > 0 and ns.mean > 0) or own.heldout_accuracy < t.separable_accuracy:
        return []
    gap = math.log10(ns.mean / mm.mean)
    if gap < t.own_d_dominant_decades:
        return []
    # The log10 of a ratio of two means over K batches: relative standard errors in
    # quadrature, over ln 10.
    k = max(own.latent_batches, 1)
    relative = math.hypot(mm.std / mm.mean, ns.std / ns.mean) / math.sqrt(k)
    margin = Margin("own_d_gradient_gap_decades", gap, t.own_d_dominant_decades,
                    Z95 * relative / math.log(10))  # fmt: skip
    message = (
        f"the checkpoint's own D ({own.architecture}) separates held-out samples at accuracy "
        f"{own.heldout_accuracy:.3f} with mean D(G(z)) {own.mean_d_fake:.2e}, and its minimax "
        f"gradient ({mm.mean:.2e}) lies {gap:.1f} decades below the -log D one ({ns.mean:.2e})"
    )
    evidence = {"heldout_accuracy": own.heldout_accuracy, "gap_decades": gap}
    return [Finding(FindingCode.D_DOMINANT, Severity.WARN, message, REMEDY_DOMINANT, evidence,
                    margin)]  # fmt: skip


def with_own_d_findings(
    outcome: ProbeOutcome, own: OwnDiscriminator | None, t: Thresholds
) -> ProbeOutcome:
    """``outcome`` with the own D's findings added and the verdict judged again."""
    added = own_d_findings(own, t) if own is not None else []
    if not added:
        return outcome
    findings = [*outcome.findings, *added]
    return replace(outcome, findings=findings, verdict=overall(findings))
