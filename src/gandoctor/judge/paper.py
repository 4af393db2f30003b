"""The paper's three findings (Arjovsky & Bottou 2017): a saturated D (Figure 1), a vanishing
minimax gradient (Figure 2) and a growing, noisy -log D gradient (Figure 3). Each states its
margin: the deciding figure, its threshold, and the figure's uncertainty. Pure Python."""

from __future__ import annotations

import math

from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.c2st import Z95
from gandoctor.results.outcome import Finding, Margin
from gandoctor.results.series import Summary
from gandoctor.thresholds import Thresholds

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


def paper_findings(s: Summary, t: Thresholds) -> list[Finding]:
    return _saturation(s, t) + _vanishing(s, t) + _exploding(s, t)


def _decades_text(value: float) -> str:
    return "all" if value == math.inf else f"{value:.1f}"


def _accuracy_margin(s: Summary, threshold: float) -> Margin:
    """The binomial half-width and the accuracy's horizon shift (Summary.horizon_shifts:
    another run's D ahead or behind), in quadrature."""
    sd = s.accuracy_sd if math.isfinite(s.accuracy_sd) else 0.0
    return Margin("final_accuracy", s.final_accuracy, threshold,
                  math.hypot(Z95 * sd, s.horizon_shifts[2]))  # fmt: skip


def _saturation(s: Summary, t: Thresholds) -> list[Finding]:
    evidence = {
        "steps_to_saturation": s.steps_to_saturation,
        "final_accuracy": s.final_accuracy,
        "accuracy_interval": [s.accuracy_low, s.accuracy_high],
        "c2st_p_value": s.c2st_p_value,
        "final_d_fake": s.final_d_fake,
        "final_js_lower_bound": s.final_js_lower_bound,
    }
    remedy = REMEDY[FindingCode.SATURATION]
    if s.steps_to_saturation is not None:
        message = (
            f"a fresh D separates real from generated after {s.steps_to_saturation} steps "
            f"(held-out accuracy {s.final_accuracy:.3f}, mean D(G(z)) {s.final_d_fake:.1e})"
        )
        margin = _accuracy_margin(s, t.saturation_accuracy)
        return [Finding(FindingCode.SATURATION, Severity.FAIL, message, remedy, evidence, margin)]
    # A warning needs D to beat chance significantly too (a C2ST, judge.c2st); unknown
    # p-values (callers that do not give the held-out counts) do not hold it back.
    significant = not s.c2st_p_value >= t.c2st_alpha
    if s.final_accuracy >= t.separable_accuracy and significant:
        interval = ""
        if math.isfinite(s.accuracy_low):
            interval = f", 95 % interval {s.accuracy_low:.3f}-{s.accuracy_high:.3f}"
        message = (
            f"a fresh D reaches held-out accuracy {s.final_accuracy:.3f}{interval} in "
            f"{s.steps_run} steps without saturating (mean D(G(z)) {s.final_d_fake:.2f})"
        )
        margin = _accuracy_margin(s, t.separable_accuracy)
        return [Finding(FindingCode.SATURATION, Severity.WARN, message, remedy, evidence, margin)]
    return []


def _vanishing(s: Summary, t: Thresholds) -> list[Finding]:
    lost = s.minimax_decades_lost
    severity = _level(lost, t.vanishing_fail_decades, t.vanishing_warn_decades)
    if severity is None:
        return []
    message = (
        f"the minimax gradient fell {_decades_text(lost)} decades, from {s.minimax_grad_peak:.2e} "
        f"around step {s.minimax_grad_peak_step} to {s.minimax_grad_end:.2e} at the end "
        f"(step {s.steps_run}); both are medians over neighbouring measurements"
    )
    evidence = {
        "decades_lost": lost,
        "peak": s.minimax_grad_peak,
        "peak_step": s.minimax_grad_peak_step,
        "end": s.minimax_grad_end,
        "fell_to_zero": s.minimax_grad_end == 0,
        "cv_steps": s.minimax_cv_steps,
    }
    margin = Margin(
        "minimax_decades_lost",
        lost,
        _nearest(lost, t.vanishing_warn_decades, t.vanishing_fail_decades),
        s.minimax_decades_uncertainty,
    )
    remedy = REMEDY[FindingCode.VANISHING]
    return [Finding(FindingCode.VANISHING, severity, message, remedy, evidence, margin)]


def _exploding(s: Summary, t: Thresholds) -> list[Finding]:
    gained, cv = s.nonsat_growth_after_peak, s.nonsat_cv_steps
    # Growth after the peak is the paper's mechanism only where the minimax gradient has
    # declined from that peak (Summary.minimax_declined); otherwise D's weights are growing.
    severity = None
    if s.minimax_declined:
        severity = _level(gained, t.exploding_fail_decades, t.exploding_warn_decades)
    margin = None
    if severity is not None:
        threshold = _nearest(gained, t.exploding_warn_decades, t.exploding_fail_decades)
        margin = Margin("nonsat_growth_after_peak", gained, threshold, s.nonsat_growth_uncertainty)
    elif cv >= t.noisy_cv:
        severity = Severity.WARN
        margin = Margin("nonsat_cv_steps", cv, t.noisy_cv, 0.0)
    if severity is None:
        return []
    message = (
        f"the -log D gradient grew {_decades_text(gained)} decades after the minimax gradient "
        f"turned down (step {s.minimax_decline_step}), to {s.nonsat_grad_end:.2e}, with "
        f"{cv:.0%} variation between measurements"
    )
    if not s.minimax_declined:
        message = (
            f"the -log D gradient varies {cv:.0%} between measurements (the minimax gradient "
            f"did not decline, so its growth of {_decades_text(gained)} decades does not count)"
        )
    evidence = {
        "growth_after_peak": gained,
        "growth_counts": s.minimax_declined,
        "decline_step": s.minimax_decline_step,
        "decades_gained_from_start": s.nonsat_decades_gained,
        "start": s.nonsat_grad_start,
        "end": s.nonsat_grad_end,
        "cv_steps": cv,
        "cv_latent": s.nonsat_cv_latent,
    }
    remedy = REMEDY[FindingCode.EXPLODING]
    return [Finding(FindingCode.EXPLODING, severity, message, remedy, evidence, margin)]


def _level(value: float, fail_at: float, warn_at: float) -> Severity | None:
    if math.isnan(value):
        return None
    if value >= fail_at:  # +inf included: a gradient that fell to 0 lost every decade
        return Severity.FAIL
    if value >= warn_at:
        return Severity.WARN
    return None


def _nearest(value: float, *thresholds: float) -> float:
    """The threshold a figure is closest to: the one a small change could take it across."""
    return min(thresholds, key=lambda threshold: abs(value - threshold))
