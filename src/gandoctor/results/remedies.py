"""Records of the remedy checks: one probe per instance-noise level (``NoiseCheck``), a
WGAN-GP critic's run (``CriticSeries``, ``CriticOutcome``) and all of them together
(``RemedyResult``)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from gandoctor.config import RemedyOptions
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.results.series import Summary
from gandoctor.thresholds import Thresholds


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


@dataclass
class CriticSeries:
    """One entry per measurement step, on held-out real samples and the held-out latents."""

    step: list[int] = field(default_factory=list)
    critic_gap: list[float] = field(default_factory=list)
    """Mean C(x) over held-out real minus mean C(G(z)) over the held-out latents."""
    slope: list[float] = field(default_factory=list)
    """Mean |grad_x C| at points between held-out real and generated samples."""
    w1_estimate: list[float] = field(default_factory=list)
    """critic_gap / slope (module docstring)."""
    grad_mean: list[float] = field(default_factory=list)
    """Generator gradient norm of -E[C(G(z))], mean over the K latent batches."""
    grad_std: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class CriticOutcome:
    """What the critic measured: its W1 estimate and the generator's gradient under it."""

    steps_run: int
    w1_estimate: float
    """Final figures are medians of the last three measurements, as the probe's are."""
    critic_gap: float
    slope: float
    grad_start: float
    grad_peak: float
    grad_peak_step: int
    grad_end: float
    decades_lost: float
    """log10(peak / final) of the gradient norm, both off its running median over three
    measurements: the same reading as the probe's minimax decades lost."""
    seconds: float
    series: CriticSeries
    stop_reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
