"""Findings and the verdict, from the probe's summary. Pure Python: no torch here."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from gandoctor.config import Thresholds
from gandoctor.enums import FindingCode, Severity
from gandoctor.judge.paper import paper_findings
from gandoctor.judge.samples import sample_drafts
from gandoctor.results.outcome import Finding, Margin
from gandoctor.results.series import GeneratorHealth, Summary

if TYPE_CHECKING:
    from gandoctor.results.samples import CollapseStats


def find(
    summary: Summary | None,
    health: GeneratorHealth,
    t: Thresholds,
    collapse: CollapseStats | None = None,
) -> list[Finding]:
    """All findings for one checkpoint. ``summary`` is None when no probe could run;
    ``collapse`` is None until the probe measured sample diversity."""
    findings = _broken(summary, health, t)
    if summary is not None and not findings:
        findings += paper_findings(summary, t)
    if not any(f.code == FindingCode.BROKEN for f in findings):
        findings += [Finding(*draft) for draft in sample_drafts(summary, collapse, t)]
    if not any(f.code == FindingCode.BROKEN for f in findings):
        findings += _range_mismatch(health, t)
    difference = health.train_eval_difference
    broken = any(f.code in (FindingCode.BROKEN, FindingCode.MODE_MISMATCH) for f in findings)
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
    wrong_mode = _eval_mode_only(h, t)
    if wrong_mode:
        return wrong_mode
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


def _eval_mode_only(h: GeneratorHealth, t: Thresholds) -> list[Finding]:
    """NaN samples, or samples that ignore z, in eval mode only, where train mode is fine:
    the BatchNorm running statistics do not describe the generator (an untrained one keeps
    mean 0 and variance 1, and BigGAN gave NaN at random init), so the generator is not
    broken, the mode is."""
    if h.probed_in_train_mode or h.other_mode_spread is None or h.real_spread <= 0:
        return []
    eval_bad = h.nonfinite_output_share > 0 or h.spread_ratio < t.ignores_z_ratio
    train_ratio = h.other_mode_spread / h.real_spread
    if not eval_bad or train_ratio < t.ignores_z_ratio:
        return []
    what = (
        f"{h.nonfinite_output_share:.1%} of generated values are NaN/Inf"
        if h.nonfinite_output_share > 0
        else f"the samples vary {h.spread_ratio:.1e} times as much as the real data"
    )
    return [
        Finding(
            FindingCode.MODE_MISMATCH,
            Severity.FAIL,
            f"in eval mode {what}, but in train mode the samples are finite and vary "
            f"{train_ratio:.2f} times as much as the real data: the BatchNorm running "
            "statistics do not describe this generator",
            "probe with --train-mode (as an untrained or freshly built generator must be), "
            "or save the running statistics with the weights",
            {
                "eval_spread_ratio": h.spread_ratio,
                "train_spread_ratio": train_ratio,
                "eval_nonfinite_share": h.nonfinite_output_share,
            },
        )
    ]


# Below this share of the output range, generated values are too narrow for their span to
# say anything about the range they were trained on: the example's untrained generator
# spans 1 % of [-1, 1], after one epoch 26 %; a tanh generator trained on [0, 1] spans 50 %.
_INFORMATIVE_SPAN = 0.4


def _range_mismatch(h: GeneratorHealth, t: Thresholds) -> list[Finding]:
    """Generated values and real data that cannot both be right about the value range."""
    values = (h.output_min, h.output_max, h.real_min, h.real_max)
    if h.output_range is None or not all(math.isfinite(v) for v in values):
        return []
    low, high = h.output_range
    span = high - low
    evidence = {
        "output_range": list(h.output_range),
        "generated": [h.output_min, h.output_max],
        "real": [h.real_min, h.real_max],
    }
    shown = f"generated values span [{h.output_min:.3g}, {h.output_max:.3g}]"
    overshoot = max(low - h.output_min, h.output_max - high) / span
    if overshoot > t.range_overshoot:
        margin = Margin(
            "range_overshoot", overshoot, t.range_overshoot, h.extreme_uncertainty / span
        )
        return [
            Finding(
                FindingCode.RANGE_MISMATCH,
                Severity.WARN,
                f"{shown}, beyond the output range [{low:g}, {high:g}] the real data were "
                "scaled to",
                "pass the range the generator was trained on with --output-range",
                evidence,
                margin,
            )
        ]
    overlap = min(h.output_max, h.real_max) - max(h.output_min, h.real_min)
    real_span = h.real_max - h.real_min
    informative = h.output_max - h.output_min >= _INFORMATIVE_SPAN * span
    if informative and real_span > 0 and overlap < t.range_overlap * real_span:
        margin = Margin(
            "range_overlap",
            overlap / real_span,
            t.range_overlap,
            h.extreme_uncertainty / real_span,
        )
        return [
            Finding(
                FindingCode.RANGE_MISMATCH,
                Severity.WARN,
                f"{shown} but the real data, scaled to [{low:g}, {high:g}], span "
                f"[{h.real_min:.3g}, {h.real_max:.3g}]",
                "the generator was likely trained on data in another range (e.g. a tanh "
                "generator on [0, 1]); pass that range with --output-range",
                evidence,
                margin,
            )
        ]
    return []
