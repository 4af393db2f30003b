"""Findings about the checkpoint's own discriminator (results.own_discriminator). Pure
Python. The thresholds and their reasons are in thresholds.py."""

from __future__ import annotations

import math
from dataclasses import replace

from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.judge.samples import security
from gandoctor.judge.verdict import overall
from gandoctor.results.outcome import Finding, Margin, ProbeOutcome
from gandoctor.results.own_discriminator import OwnDiscriminator
from gandoctor.thresholds import Thresholds

REMEDY_DOMINANT = (
    "the generator trained against a D that had all but won: its minimax gradient was "
    "decades below the -log D one. Use the -log D cost (if the run used minimax), slow D "
    "down (fewer D steps, a lower learning rate), or regularise it (R1, instance noise)"
)


REMEDY_OVERFIT = (
    "the checkpoint's D scores the images the GAN trained on above images it never saw: it "
    "memorises the training set, and its verdicts on the fakes say more about the data set "
    "than about G. Use augmentation on both of D's inputs (ADA, DiffAugment), more data, or "
    "a smaller or more regularised D"
)
REMEDY_PENALTY = (
    "the R1 penalty the run claims costs this D more than its whole adversarial loss at "
    "chance (ln 4), so it cannot have been applied as claimed: check that it is computed on "
    "the reals D sees (after augmentation), with create_graph=True, that lazy "
    "regularisation multiplies it by its interval, and that gamma is what the logs say"
)


def own_d_findings(own: OwnDiscriminator, t: Thresholds) -> list[Finding]:
    """``d_dominant``, ``d_overfit`` and ``penalty_ineffective`` of the checkpoint's own D."""
    return [*_dominant(own, t), *_overfit(own, t), *_penalty(own, t)]


def _dominant(own: OwnDiscriminator, t: Thresholds) -> list[Finding]:
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


def _overfit(own: OwnDiscriminator, t: Thresholds) -> list[Finding]:
    """``d_overfit`` where, against reals the GAN never saw (``--val-data``), the own D
    scores its training reals far above them (AUC), or is sure of them (r_t) while the
    unseen ones sit most of the way to the fakes (r_v). Without unseen reals nothing here
    tells memorisation from a D that is simply winning (both give r_t near 1)."""
    if own.unseen is None or own.unseen_auc is None:
        return []
    auc = Margin("own_d_unseen_auc", own.unseen_auc, t.own_d_overfit_auc,
                 own.unseen_auc_uncertainty)  # fmt: skip
    reasons = [auc] if own.unseen_auc >= t.own_d_overfit_auc else []
    if math.isfinite(own.r_v) and own.r_v >= t.overfit_rv and own.r_t >= t.overfit_rt:
        # Both must hold: that reason stands or falls with the less secure of the two.
        reasons.append(min(Margin("own_d_r_t", own.r_t, t.overfit_rt, own.r_t_uncertainty),
                           Margin("own_d_r_v", own.r_v, t.overfit_rv, own.r_v_uncertainty),
                           key=security))  # fmt: skip
    if not reasons:
        return []
    message = (
        f"the checkpoint's own D scores a training real above an unseen one with probability "
        f"{own.unseen_auc:.2f} (0.5: no gap); r_t = {own.r_t:.2f}, and unseen reals lie "
        f"{own.r_v:.2f} of the way from training reals to fakes (r_v)"
    )
    evidence = {"unseen_auc": own.unseen_auc, "r_t": own.r_t, "r_v": own.r_v}
    # Either reason suffices: the most secure one decides.
    return [Finding(FindingCode.D_OVERFIT, Severity.WARN, message, REMEDY_OVERFIT, evidence,
                    max(reasons, key=security))]  # fmt: skip


def _penalty(own: OwnDiscriminator, t: Thresholds) -> list[Finding]:
    """``penalty_ineffective`` where the run claims R1 with gamma > 0 and gamma / 2 R1 on
    held-out reals exceeds ``own_d_penalty_loss``."""
    gamma = own.r1_gamma
    if gamma is None or gamma <= 0 or not math.isfinite(own.r1.mean):
        return []
    term = gamma / 2 * own.r1.mean
    if term < t.own_d_penalty_loss:
        return []
    # The mean of R1 over held-out reals: its standard error, times gamma / 2.
    half = Z95 * gamma / 2 * own.r1.std / math.sqrt(max(own.r1_samples, 1))
    margin = Margin("own_d_r1_penalty", term, t.own_d_penalty_loss, half)
    message = (
        f"the run claims R1 with gamma = {gamma:g}, yet its D's R1 on held-out reals is "
        f"{own.r1.mean:.3g}: the penalty would cost {term:.2f}, at least "
        f"{t.own_d_penalty_loss:.2f} (by default ln 4, the whole loss of a constant D)"
    )
    evidence = {"r1": own.r1.mean, "r1_gamma": gamma, "penalty": term}
    return [Finding(FindingCode.PENALTY_INEFFECTIVE, Severity.WARN, message, REMEDY_PENALTY,
                    evidence, margin)]  # fmt: skip


def with_own_d_findings(
    outcome: ProbeOutcome, own: OwnDiscriminator | None, t: Thresholds
) -> ProbeOutcome:
    """``outcome`` with the own D's findings added and the verdict judged again."""
    added = own_d_findings(own, t) if own is not None else []
    if not added:
        return outcome
    findings = [*outcome.findings, *added]
    return replace(outcome, findings=findings, verdict=overall(findings))
