"""The measured series of a probe and the summary figures drawn from it. Pure Python."""

from __future__ import annotations

import math
import statistics
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
    undefined (overfitting.py)."""

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
    """Headline figures of one probe; see ``summarize`` for their definitions."""

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
    """Median of the defined r_v among the last three measurements; NaN if none is."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarize(
    series: ProbeSeries, saturation_accuracy: float, saturation_fake_prob: float
) -> Summary:
    """Summary figures of a (possibly partial) series with at least one measurement.

    - steps_to_saturation: first measured step from which held-out accuracy stays
      >= ``saturation_accuracy`` and mean D(G(z)) stays <= ``saturation_fake_prob`` at every
      later measurement (None if the last measurement is not saturated).
    - final_*: median of the last three measurements.
    - minimax_decades_lost: log10(peak / final) of the minimax gradient norm (Figure 2),
      both read off its running median over three measurements.
    - nonsat_decades_gained: log10(final / initial) of the -log D gradient norm (Figure 3),
      initial being the fresh D at step 0. Informative, not diagnostic: a fresh D starts
      with tiny weights, so this gradient grows by decades against any generator, a
      perfect one included, as D's weights grow.
    - nonsat_growth_after_peak: log10(final / value at the minimax peak step) of the -log D
      gradient norm: its growth while D grows confident on the fakes. Past the minimax
      peak D(G(z)) is falling, the minimax gradient shrinks with it, and the -log D one
      keeps growing with D's sharpness (Theorem 2.6); against a generator D cannot
      separate the minimax gradient peaks at the end and this growth is 0.
    - nonsat_cv_steps: variation of the -log D gradient norm from one measurement to the
      next over the second half of the run, around its log-linear trend (Figure 3's spread).
    - nonsat_cv_latent: mean over measurements of std / mean across the K latent batches.
    """
    if not series.step:
        raise ValueError("cannot summarise an empty series")
    steps = series.step
    # D oscillates against a generator it cannot yet separate cleanly, so one measurement
    # can land on a swing: "final" figures are medians of the last few measurements, and
    # gradient curves are smoothed the same way before their peak and end are read.
    mm, ns = _trailing_median(series.minimax_grad_mean), _trailing_median(series.nonsat_grad_mean)
    peak = _argmax(mm)
    return Summary(
        steps_run=steps[-1],
        measurements=len(steps),
        steps_to_saturation=_steps_to_saturation(series, saturation_accuracy, saturation_fake_prob),
        final_accuracy=_final(series.heldout_accuracy),
        final_d_loss=_final(series.d_loss),
        final_d_real=_final(series.d_real),
        final_d_fake=_final(series.d_fake),
        final_fake_saturated_share=_final(series.fake_saturated_share),
        final_js_lower_bound=_final(series.js_lower_bound),
        max_js_lower_bound=_nanmax(series.js_lower_bound),
        minimax_grad_start=series.minimax_grad_mean[0],
        minimax_grad_peak=mm[peak] if peak is not None else math.nan,
        minimax_grad_peak_step=steps[peak] if peak is not None else 0,
        minimax_grad_end=mm[-1],
        minimax_decades_lost=decades(mm[peak], mm[-1]) if peak is not None else 0.0,
        nonsat_grad_start=series.nonsat_grad_mean[0],
        nonsat_grad_end=ns[-1],
        nonsat_decades_gained=decades(ns[-1], series.nonsat_grad_mean[0]),
        nonsat_growth_after_peak=decades(ns[-1], ns[peak]) if peak is not None else 0.0,
        nonsat_cv_steps=_detrended_cv(steps, series.nonsat_grad_mean),
        nonsat_cv_latent=_mean_cv(series.nonsat_grad_mean, series.nonsat_grad_std),
        final_overfit_rt=_final(series.overfit_rt),
        final_overfit_rv=_final_defined(series.overfit_rv),
    )


FINAL_WINDOW = 3
"""Measurements a "final" figure is the median of (with spacing up to 25 steps, the last
~50 steps of a run)."""


def _final(values: list[float]) -> float:
    return _median(values[-FINAL_WINDOW:])


def _final_defined(values: list[float]) -> float:
    # r_v is undefined (NaN) at measurements where D does not separate its training samples
    # from generated ones; that hides nothing broken, so the defined values decide.
    defined = [v for v in values[-FINAL_WINDOW:] if math.isfinite(v)]
    return statistics.median(defined) if defined else math.nan


def _trailing_median(values: list[float]) -> list[float]:
    return [_median(values[max(0, i - FINAL_WINDOW + 1) : i + 1]) for i in range(len(values))]


def _median(values: list[float]) -> float:
    if any(not math.isfinite(v) for v in values):
        return math.nan  # a NaN figure must not be hidden by its neighbours
    return statistics.median(values)


def decades(numerator: float, denominator: float) -> float:
    """log10(numerator / denominator): orders of magnitude between two gradient norms.

    0 when either is not a positive finite number (nothing to compare); +inf when only
    the denominator is 0 would be meaningless, so that case is 0 as well.
    """
    ok = all(math.isfinite(v) and v > 0 for v in (numerator, denominator))
    return math.log10(numerator / denominator) if ok else 0.0


def _steps_to_saturation(series: ProbeSeries, min_accuracy: float, max_fake: float) -> int | None:
    first: int | None = None
    for step, acc, fake in zip(series.step, series.heldout_accuracy, series.d_fake, strict=True):
        saturated = acc >= min_accuracy and fake <= max_fake
        if saturated and first is None:
            first = step
        elif not saturated:
            first = None
    return first


def _argmax(values: list[float]) -> int | None:
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    return max(finite, key=lambda pair: pair[0])[1] if finite else None  # first of equals


def _nanmax(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan


def _detrended_cv(steps: list[int], values: list[float]) -> float:
    """Spread of ``values`` around their log-linear trend over the second half of the run.

    A steadily growing norm has no spread by this measure; a jumpy one does. Computed as
    the standard deviation of value / trend, which is a coefficient of variation.
    """
    half = steps[-1] / 2
    points = [
        (s, math.log(v))
        for s, v in zip(steps, values, strict=True)
        if s >= half and math.isfinite(v) and v > 0
    ]
    if len(points) < 4:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    ratios = [math.exp(y - (slope * x + intercept)) for x, y in points]
    return statistics.pstdev(ratios) / statistics.fmean(ratios)


def _mean_cv(means: list[float], stds: list[float]) -> float:
    cvs = [s / m for m, s in zip(means, stds, strict=True) if math.isfinite(m) and m > 0]
    return statistics.fmean(cvs) if cvs else 0.0


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
    nonfinite_measurement_step: int | None = None
    """First step at which a loss or gradient norm was NaN/Inf, if any."""

    @property
    def spread_ratio(self) -> float:
        return self.output_spread / self.real_spread if self.real_spread > 0 else math.inf

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "spread_ratio": self.spread_ratio}
