"""The summary figures of a probe, read off its measured series. Pure Python."""

from __future__ import annotations

import math
import statistics

from gandoctor.results.readings import (
    argmax,
    decades,
    final,
    final_defined,
    nanmax,
    trailing_median,
)
from gandoctor.results.series import ProbeSeries, Summary


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
    mm, ns = trailing_median(series.minimax_grad_mean), trailing_median(series.nonsat_grad_mean)
    peak = argmax(mm)
    return Summary(
        steps_run=steps[-1],
        measurements=len(steps),
        steps_to_saturation=_steps_to_saturation(series, saturation_accuracy, saturation_fake_prob),
        final_accuracy=final(series.heldout_accuracy),
        final_d_loss=final(series.d_loss),
        final_d_real=final(series.d_real),
        final_d_fake=final(series.d_fake),
        final_fake_saturated_share=final(series.fake_saturated_share),
        final_js_lower_bound=final(series.js_lower_bound),
        max_js_lower_bound=nanmax(series.js_lower_bound),
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
        final_overfit_rt=final(series.overfit_rt),
        final_overfit_rv=final_defined(series.overfit_rv),
    )


def _steps_to_saturation(series: ProbeSeries, min_accuracy: float, max_fake: float) -> int | None:
    first: int | None = None
    for step, acc, fake in zip(series.step, series.heldout_accuracy, series.d_fake, strict=True):
        saturated = acc >= min_accuracy and fake <= max_fake
        if saturated and first is None:
            first = step
        elif not saturated:
            first = None
    return first


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
