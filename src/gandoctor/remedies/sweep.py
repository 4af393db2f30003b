"""Remedy checks (``--remedies``): would the paper's remedies help this generator here?

Two remedies, each measured against the same frozen generator, real-data split, held-out
latents and seed as the probe:

- instance noise (Arjovsky & Bottou 2017, sec. 3): the probe again, for each noise level,
  with Gaussian noise on both of D's inputs. With noise the supports overlap, the optimal
  D's loss is 2 log 2 - 2 JS(P_r+eps, P_g+eps), so the JS bound reported is one on the
  noised distributions, and the minimax gradient should no longer vanish;
- a WGAN-GP critic (remedies.critic): its W1 estimate and the generator gradient under it.

The verdict stays the probe's: these checks only add measurements, and the remedy hints of
the saturation/vanishing/exploding findings cite them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
from torch import nn

from gandoctor.config import ProbeConfig, RemedyOptions
from gandoctor.enums import FindingCode
from gandoctor.errors import DataError
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing.loop import run_probe
from gandoctor.remedies.critic import run_critic
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.results.remedies import NoiseCheck, RemedyResult

RemedyProgress = Callable[[str, int, int], None]
"""Called as ``on_progress(check, step, total_steps)``, ``check`` naming the remedy run."""


def check_remedies(
    generator: nn.Module,
    latent: LatentSpec | Sequence[int],
    real: torch.Tensor,
    config: ProbeConfig,
    outcome: ProbeOutcome,
    options: RemedyOptions,
    output_range: tuple[float, float] | None = None,
    on_progress: RemedyProgress | None = None,
) -> RemedyResult | None:
    """Run the remedy checks after the probe ``outcome``; None for a broken generator (no
    probe ran, so nothing to compare with). Costs one probe per noise level and one critic
    run of as many steps as the probe ran."""
    if outcome.summary is None:
        return None
    t = config.thresholds
    unit = data_range(real, output_range)
    checks = []
    for share in sorted(set(options.noise_levels), reverse=True):
        sigma = share * unit
        noised = run_probe(
            generator, latent, real, replace(config, instance_noise=sigma),
            _labelled(on_progress, f"instance noise {share:g}"), output_range,
        )  # fmt: skip
        if noised.summary is not None:
            checks.append(NoiseCheck.of(share, sigma, noised, t))
    critic = None
    if options.critic:
        steps = options.critic_steps or outcome.summary.steps_run
        label = _labelled(on_progress, "WGAN-GP critic")
        critic = run_critic(generator, latent, real, config, options, steps, label)
    baseline = NoiseCheck.of(0.0, 0.0, outcome, t)
    return RemedyResult(options, unit, baseline, checks, critic, t.vanishing_warn_decades)


def with_remedies(
    generator: nn.Module,
    latent: LatentSpec | Sequence[int],
    real: torch.Tensor,
    config: ProbeConfig,
    outcome: ProbeOutcome,
    options: RemedyOptions,
    output_range: tuple[float, float] | None = None,
    on_progress: RemedyProgress | None = None,
    name: str = "",
) -> tuple[ProbeOutcome, RemedyResult | None]:
    """``check_remedies``, and the outcome with findings whose remedy hints cite them.
    Progress goes to ``on_progress`` as "name (remedy)"."""
    named = None
    if on_progress is not None:
        report = on_progress
        named = lambda check, step, total: report(f"{name} ({check})", step, total)  # noqa: E731
    result = check_remedies(generator, latent, real, config, outcome, options, output_range, named)
    return replace(outcome, findings=cite_remedies(outcome.findings, result)), result


def data_range(real: torch.Tensor, output_range: tuple[float, float] | None) -> float:
    """The unit of noise shares: the output range's width, else the real values' span."""
    if output_range is not None:
        return output_range[1] - output_range[0]
    span = float(real.max() - real.min())
    if not span > 0:
        raise DataError("the real data are constant: no data range to scale instance noise to")
    return span


def _labelled(on_progress: RemedyProgress | None, label: str) -> Callable[[int, int], None] | None:
    if on_progress is None:
        return None
    return lambda step, total: on_progress(label, step, total)


_CITED = (FindingCode.SATURATION, FindingCode.VANISHING, FindingCode.EXPLODING)


def cite_remedies(findings: list[Finding], result: RemedyResult | None) -> list[Finding]:
    """The findings with remedy hints that cite the remedy checks' measurements."""
    if result is None:
        return findings
    return [
        replace(f, remedy=f"{f.remedy}. Measured here: {'; '.join(_citations(f, result))}")
        if f.code in _CITED and _citations(f, result)
        else f
        for f in findings
    ]


def _citations(finding: Finding, result: RemedyResult) -> list[str]:
    parts = []
    shown = result.recommended or (result.noise[0] if result.noise else None)
    if shown is not None:
        s, base = shown.summary, result.baseline.summary
        if finding.code == FindingCode.EXPLODING:
            effect = (
                f"let the -log D gradient grow {s.nonsat_growth_after_peak:.2f} decades after "
                f"the minimax peak (without noise {base.nonsat_growth_after_peak:.2f})"
            )
        elif result.baseline.keeps_signal:  # separable, but the gradient is alive anyway
            effect = (
                f"took held-out accuracy from {base.final_accuracy:.2f} to "
                f"{s.final_accuracy:.2f} (the minimax gradient is alive without noise)"
            )
        else:
            state = "kept" if shown.keeps_signal else "did not keep"
            effect = (
                f"{state} the minimax gradient alive ({s.minimax_decades_lost:.1f} decades "
                f"lost, held-out accuracy {s.final_accuracy:.2f}"
                + (", D saturated)" if shown.saturated else ")")
            )
        parts.append(f"instance noise sigma={shown.share:g} of the data range {effect}")
    c = result.critic
    if c is not None:
        parts.append(
            f"a WGAN-GP critic's generator gradient lost {c.decades_lost:.1f} decades in "
            f"{c.steps_run} steps (minimax: {result.baseline.summary.minimax_decades_lost:.1f}), "
            f"W1 estimate {c.w1_estimate:.3g}"
        )
    return parts
