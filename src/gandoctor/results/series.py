"""The records of a probe: its measured series, the summary figures read off it
(judge.summarise) and the checks on the generator itself. Pure Python."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

OPTIONAL_FIGURES = frozenset({"overfit_rt", "overfit_rv"})
"""Series figures that may be NaN (undefined, or not measured by a caller) without anything
being broken; NaN when a caller does not pass them."""


@dataclass
class ProbeSeries:
    """One entry per measurement step; all figures on held-out data and held-out latents."""

    step: list[int] = field(default_factory=list)
    heldout_accuracy: list[float] = field(default_factory=list)
    d_loss: list[float] = field(default_factory=list)
    d_real: list[float] = field(default_factory=list)
    d_fake: list[float] = field(default_factory=list)
    fake_saturated_share: list[float] = field(default_factory=list)
    js_lower_bound: list[float] = field(default_factory=list)
    minimax_grad_mean: list[float] = field(default_factory=list)
    minimax_grad_std: list[float] = field(default_factory=list)
    nonsat_grad_mean: list[float] = field(default_factory=list)
    nonsat_grad_std: list[float] = field(default_factory=list)
    overfit_rt: list[float] = field(default_factory=list)
    """StyleGAN2-ADA's r_t = E[sign(D(x_train))] on a fixed subset of D's training reals."""
    overfit_rv: list[float] = field(default_factory=list)
    """ADA's r_v = (E[D_train] - E[D_val]) / (E[D_train] - E[D_gen]) on raw logits; NaN where
    undefined (analyses.overfitting)."""

    def append(self, **values: float) -> None:
        for f in fields(self):
            if f.name in OPTIONAL_FIGURES:
                getattr(self, f.name).append(values.get(f.name, math.nan))
            else:
                getattr(self, f.name).append(values[f.name])

    def __len__(self) -> int:
        return len(self.step)

    def to_dict(self) -> dict[str, list[Any]]:
        return asdict(self)


@dataclass(frozen=True)
class Summary:
    """Headline figures of one probe; ``judge.summarise.summarize`` defines them."""

    steps_run: int
    measurements: int
    steps_to_saturation: int | None
    final_accuracy: float
    final_d_loss: float
    final_d_real: float
    final_d_fake: float
    final_fake_saturated_share: float
    final_js_lower_bound: float
    max_js_lower_bound: float
    minimax_grad_start: float
    minimax_grad_peak: float
    minimax_grad_peak_step: int
    minimax_grad_end: float
    minimax_decades_lost: float
    nonsat_grad_start: float
    nonsat_grad_end: float
    nonsat_decades_gained: float
    nonsat_growth_after_peak: float
    nonsat_cv_steps: float
    nonsat_cv_latent: float
    final_overfit_rt: float = math.nan
    final_overfit_rv: float = math.nan
    """Median of the defined r_v in the end window; NaN if none is."""
    overfit_rt_uncertainty: float = 0.0
    overfit_rv_uncertainty: float = 0.0
    """95 % half-widths of those two medians from their spread over the end window
    (results.readings.window_uncertainty): D's training subset is fixed during a probe, so
    this is D's own wandering, not the sampling of that subset."""
    minimax_cv_steps: float = 0.0
    """The minimax gradient's own variation between measurements (as nonsat_cv_steps)."""
    minimax_decades_uncertainty: float = 0.0
    """95 % half-width, in decades, of minimax_decades_lost: the curve's noise around its
    trend, through the medians at the peak and over the end window
    (results.readings.reading_uncertainty), and its horizon shift (``horizon_shifts``),
    in quadrature."""
    minimax_declined: bool = False
    """The minimax gradient fell at least ``Thresholds.growth_needs_decline_decades`` below
    its peak: only then is the -log D gradient's growth the paper's mechanism."""
    nonsat_growth_uncertainty: float = 0.0
    """The same for nonsat_growth_after_peak, with its onset shift (``onset_shift``) too."""
    horizon_shifts: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """How far (minimax decades lost, -log D growth, held-out accuracy) moved over the last
    part of the run: |now - at steps_run / 1.25| (judge.summarise.HORIZON_PACE), the
    share of each margin that stands for another run's D being ahead or behind; in the
    two gradient uncertainties above already, in quadrature."""
    onset_shift: float = 0.0
    """How far nonsat_growth_after_peak moves where the decline's onset is read one
    measurement earlier or later (judge.summarise._onset_shift); in its uncertainty
    already, in quadrature."""
    minimax_decline_step: int | None = None
    """Step where the minimax gradient turned down (results.readings.decline_onset), from
    which nonsat_growth_after_peak is read; None where it never fell that far."""
    heldout_real: int | None = None
    heldout_fake: int | None = None
    """Held-out real samples and held-out fakes the accuracy was measured on (None where
    the caller did not say)."""
    accuracy_low: float = math.nan
    accuracy_high: float = math.nan
    """95 % interval of the final held-out accuracy (judge.c2st)."""
    accuracy_sd: float = math.nan
    """Its standard error."""
    c2st_p_value: float = math.nan
    """One-sided p-value of "D does no better than chance" at the final accuracy."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GeneratorHealth:
    """Checks on the generator itself, made before and during the probe."""

    nonfinite_parameters: int
    """NaN/Inf elements among the generator's parameters and buffers."""
    nonfinite_output_share: float
    """Share of output elements that are NaN/Inf, over the held-out latents."""
    output_spread: float
    """Mean per-feature std of generated samples across held-out latents."""
    real_spread: float
    """The same for held-out real samples: the yardstick for output_spread."""
    train_eval_difference: float | None
    """||G_train(z) - G_eval(z)|| / ||G_eval(z)||; None when the modes cannot differ."""
    output_min: float = math.nan
    output_max: float = math.nan
    """Extremes of the generated values over the held-out latents."""
    real_min: float = math.nan
    real_max: float = math.nan
    """Extremes of the held-out real values, after scaling to the generator's range."""
    output_range: tuple[float, float] | None = None
    """The range the real data were scaled to, when known."""
    probed_in_train_mode: bool = False
    other_mode_nonfinite_share: float | None = None
    other_mode_spread: float | None = None
    """The same first latent batch in the other mode (train mode when probed in eval): share
    of NaN/Inf values and spread; None where the modes cannot differ."""
    extreme_uncertainty: float = 0.0
    """How far those extremes move with the samples drawn (nn.generator._extreme_gap): the
    uncertainty of the range_mismatch finding's figures, in output units."""
    nonfinite_measurement_step: int | None = None
    """First step at which a loss or gradient norm was NaN/Inf, if any."""

    @property
    def spread_ratio(self) -> float:
        return self.output_spread / self.real_spread if self.real_spread > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "spread_ratio": self.spread_ratio}
