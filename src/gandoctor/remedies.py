"""Remedy checks (``--remedies``): would the paper's remedies help this generator here?

Two remedies, each measured against the same frozen generator, real-data split, held-out
latents and seed as the probe:

- instance noise (Arjovsky & Bottou 2017, sec. 3): the probe again, for each noise level,
  with Gaussian noise on both of D's inputs. With noise the supports overlap, the optimal
  D's loss is 2 log 2 - 2 JS(P_r+eps, P_g+eps), so the JS bound reported is one on the
  noised distributions, and the minimax gradient should no longer vanish;
- a WGAN-GP critic (critic.py): its W1 estimate and the generator gradient under it.

The verdict stays the probe's: these checks only add measurements, and the remedy hints of
the saturation/vanishing/exploding findings cite them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

import torch
from torch import nn

from gandoctor.config import FindingCode, ProbeConfig, RemedyOptions, Thresholds
from gandoctor.critic import CriticOutcome, run_critic
from gandoctor.errors import DataError
from gandoctor.latent import LatentSpec
from gandoctor.measurement import ProbeOutcome, run_probe
from gandoctor.summary import Summary
from gandoctor.verdict import Finding

RemedyProgress = Callable[[str, int, int], None]
"""Called as ``on_progress(check, step, total_steps)``, ``check`` naming the remedy run."""


@dataclass(frozen=True)
class NoiseCheck:
    """One probe at one instance-noise level (share 0: the plain probe)."""

    share: float
    """sigma as a share of the data range."""
    sigma: float
    """sigma in the generator's output units."""
    summary: Summary
    saturated: bool
    """D saturated (the probe's definition: accuracy >= 0.99 and mean D(G(z)) <= 0.01 held
    to the end)."""
    vanishes: bool
    """The minimax gradient lost at least ``vanishing_warn_decades`` (a 10-fold weaker
    signal, the vanishing finding's lower level)."""
    stopped_early: bool
    complete: bool
    """False when the time budget cut this run short (its figures are partial)."""
    seconds: float
    series: dict[str, list[Any]]

    @property
    def keeps_signal(self) -> bool:
        return not self.saturated and not self.vanishes

    @classmethod
    def of(cls, share: float, sigma: float, outcome: ProbeOutcome, t: Thresholds) -> NoiseCheck:
        s = outcome.summary
        if s is None:
            raise ValueError("a broken generator has no noise check")
        return cls(
            share=share,
            sigma=sigma,
            summary=s,
            saturated=s.steps_to_saturation is not None,
            vanishes=s.minimax_decades_lost >= t.vanishing_warn_decades,
            stopped_early=outcome.stopped_early,
            complete=outcome.complete,
            seconds=outcome.seconds,
            series=outcome.series.to_dict(),
        )

    def to_dict(self) -> dict[str, Any]:
        s = self.summary
        return {
            "share": self.share,
            "sigma": self.sigma,
            "steps_run": s.steps_run,
            "stopped_early": self.stopped_early,
            "complete": self.complete,
            "steps_to_saturation": s.steps_to_saturation,
            "saturated": self.saturated,
            "final_accuracy": s.final_accuracy,
            "final_d_fake": s.final_d_fake,
            "final_js_lower_bound": s.final_js_lower_bound,
            "minimax_grad_start": s.minimax_grad_start,
            "minimax_grad_peak": s.minimax_grad_peak,
            "minimax_grad_end": s.minimax_grad_end,
            "minimax_decades_lost": s.minimax_decades_lost,
            "vanishes": self.vanishes,
            "nonsat_growth_after_peak": s.nonsat_growth_after_peak,
            "keeps_signal": self.keeps_signal,
            "seconds": self.seconds,
            "series": self.series,
        }


@dataclass(frozen=True)
class RemedyResult:
    """The remedy checks of one checkpoint."""

    options: RemedyOptions
    data_range: float
    """The unit of the noise shares: the width of the output range (or of the real data's
    values when the range is unknown)."""
    baseline: NoiseCheck
    """The probe itself, as the sigma = 0 row."""
    noise: list[NoiseCheck]
    """One per noise level, largest sigma first."""
    critic: CriticOutcome | None
    vanishing_decades: float
    """Decades lost from which a gradient counts as vanishing (the threshold
    ``vanishing_warn_decades`` the checks ran with)."""

    @property
    def critic_vanishes(self) -> bool | None:
        c = self.critic
        return None if c is None else c.decades_lost >= self.vanishing_decades

    @property
    def recommended(self) -> NoiseCheck | None:
        """Where to start annealing instance noise: the smallest sigma tried that keeps the
        minimax signal alive (D not saturated, gradient not vanishing), provided every larger
        sigma tried does too. Smallest, because noise blurs the detail the generator must
        learn and the noised JS says less about the un-noised distributions the larger
        sigma is; "every larger one too", so one lucky run at a small sigma does not decide.
        Anneal from it towards 0 as training brings the supports together (sec. 3). None
        when the probe needs no noise, or when even the largest sigma does not help."""
        if self.baseline.keeps_signal:
            return None
        best = None
        for check in self.noise:  # largest sigma first
            if not check.keeps_signal:
                break
            best = check
        return best

    @property
    def suggested_share(self) -> float | None:
        """When no level tried helps: sigma = W1 / ``w1_noise_divisor``, as a share of the
        data range, from the critic's W1 estimate (None without a usable estimate)."""
        c = self.critic
        if self.baseline.keeps_signal or self.recommended is not None or c is None:
            return None
        if not (math.isfinite(c.w1_estimate) and c.w1_estimate > 0):
            return None
        return c.w1_estimate / self.options.w1_noise_divisor / self.data_range

    @property
    def recommendation(self) -> str:
        r = self.recommended
        if self.baseline.keeps_signal:
            return "no noise needed: the minimax signal is alive without it"
        if r is not None:
            return (
                f"start instance noise at sigma = {r.share:g} of the data range "
                f"({r.sigma:.3g}) and anneal it towards 0"
            )
        if not self.noise:
            return "no noise level was tried"
        text = (
            f"none of the noise levels tried (up to {self.noise[0].share:g} of the data range) "
            "keeps the minimax signal alive"
        )
        suggested, c = self.suggested_share, self.critic
        if suggested is None or c is None:
            return f"{text}: try larger ones (--noise-levels) or a WGAN-GP critic"
        return (
            f"{text}; the critic puts the distributions W1 = {c.w1_estimate:.3g} apart and "
            f"noise makes them overlap only at a comparable sigma: try --noise-levels "
            f"{suggested:.2g} (W1 / {self.options.w1_noise_divisor:g}), or a WGAN-GP critic"
        )

    def to_dict(self) -> dict[str, Any]:
        r = self.recommended
        return {
            "settings": asdict(self.options),
            "data_range": self.data_range,
            # The sigma = 0 row; its series is the probe's own, in "series".
            "baseline": {k: v for k, v in self.baseline.to_dict().items() if k != "series"},
            "instance_noise": [c.to_dict() for c in self.noise],
            "recommended_noise": None if r is None else {"share": r.share, "sigma": r.sigma},
            "suggested_noise_share": self.suggested_share,
            "recommendation": self.recommendation,
            "critic": None
            if self.critic is None
            else self.critic.to_dict() | {"vanishes": self.critic_vanishes},
        }


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
