"""The summary figures of a probe, read off its measured series. Pure Python."""

from __future__ import annotations

import math
import statistics
from typing import Any

from gandoctor.judge.c2st import accuracy_interval, accuracy_sd, c2st_p_value
from gandoctor.results.readings import (
    FINAL_WINDOW,
    around,
    decades,
    decline_onset,
    end_indexes,
    log_noise,
    median_at,
    median_defined,
    nanmax,
    plateau_peak,
    reading_uncertainty,
    trailing_median,
    trend_residuals,
    window_uncertainty,
)
from gandoctor.results.series import ProbeSeries, Summary
from gandoctor.thresholds import Thresholds


def summarize(
    series: ProbeSeries,
    saturation_accuracy: float,
    saturation_fake_prob: float,
    heldout: tuple[int, int] | None = None,
    decline_decades: float = Thresholds.growth_needs_decline_decades,
) -> Summary:
    """Summary figures of a (possibly partial) series with at least one measurement.

    - steps_to_saturation: first measured step from which held-out accuracy stays
      >= ``saturation_accuracy`` and mean D(G(z)) stays <= ``saturation_fake_prob`` at every
      later measurement (None if the last measurement is not saturated).
    - final_*: median over the end window: the measurements in the last tenth of the
      steps, at least three (results.readings.END_SHARE).
    - minimax_grad_peak: the minimax gradient norm at its peak, the *last* measurement
      whose running median (over three) lies within 0.1 decades of the running median's
      maximum, so that a plateau is not a peak (readings.plateau_peak); its value is that
      maximum (a value, unlike a location, that rounding moves little). minimax_grad_end:
      the median over
      the end window. minimax_decades_lost: log10(peak / end), +inf when the end is 0.
    - nonsat_decades_gained: log10(end / initial) of the -log D gradient norm (Figure 3),
      initial being the fresh D at step 0. Informative, not diagnostic: a fresh D starts
      with tiny weights, so this gradient grows by decades against any generator, a
      perfect one included, as D's weights grow.
    - nonsat_growth_after_peak: log10(end / value where the minimax gradient turned down)
      of the -log D gradient norm: its growth while D grows confident on the fakes
      (Theorem 2.6). "Turned down" is the first measurement after the smoothed minimax
      maximum that lies ``decline_decades`` below it (readings.decline_onset; its step is
      minimax_decline_step), the -log D value there a median over it and its neighbours.
      It means that only where the minimax gradient has declined by ``decline_decades``
      from its peak at the end (``minimax_declined``): without that decline the growth is
      D's weights growing, not a near-optimal D.
    - *_cv_steps: variation of a gradient norm from one measurement to the next over the
      second half of the run, around its log-linear trend (Figure 3's spread).
    - nonsat_cv_latent: mean over measurements of std / mean across the K latent batches.
    - with ``heldout`` = (held-out reals, held-out fakes): the final accuracy's 95 %
      interval, standard error and C2ST p-value (judge.c2st).
    """
    if not series.step:
        raise ValueError("cannot summarise an empty series")
    steps = series.step
    # D oscillates against a generator it cannot yet separate cleanly, so one measurement
    # can land on a swing: figures are medians over a few measurements, never one.
    mm_raw, ns_raw = series.minimax_grad_mean, series.nonsat_grad_mean
    end = end_indexes(steps)
    smoothed = trailing_median(mm_raw)
    peak = plateau_peak(smoothed)
    at_peak = around(peak, len(steps)) if peak is not None else []
    onset = decline_onset(smoothed, decline_decades)
    at_onset = around(onset, len(steps)) if onset is not None else []
    # The peak's value is the smoothed maximum: near-equal maxima differ little in value
    # even where rounding decides which comes first; its step is plateau_peak's.
    mm_peak = nanmax(smoothed)
    mm_end, ns_end = median_at(mm_raw, end), median_at(ns_raw, end)
    lost = decades(mm_peak, mm_end) if peak is not None else 0.0
    growth = decades(ns_end, median_at(ns_raw, at_onset)) if onset is not None else 0.0
    accuracy = median_at(series.heldout_accuracy, end)
    horizon = _horizon_shifts(series, decline_decades, (lost, growth, accuracy))
    shift = _onset_shift(ns_raw, onset, ns_end, growth) if onset is not None else 0.0
    rt_end = [series.overfit_rt[i] for i in end] if series.overfit_rt else []
    rv_end = [series.overfit_rv[i] for i in end] if series.overfit_rv else []
    return Summary(
        steps_run=steps[-1],
        measurements=len(steps),
        steps_to_saturation=_steps_to_saturation(series, saturation_accuracy, saturation_fake_prob),
        final_accuracy=accuracy,
        final_d_loss=median_at(series.d_loss, end),
        final_d_real=median_at(series.d_real, end),
        final_d_fake=median_at(series.d_fake, end),
        final_fake_saturated_share=median_at(series.fake_saturated_share, end),
        final_js_lower_bound=median_at(series.js_lower_bound, end),
        max_js_lower_bound=nanmax(series.js_lower_bound),
        minimax_grad_start=mm_raw[0],
        minimax_grad_peak=mm_peak,
        minimax_grad_peak_step=steps[peak] if peak is not None else 0,
        minimax_grad_end=mm_end,
        minimax_decades_lost=lost,
        nonsat_grad_start=ns_raw[0],
        nonsat_grad_end=ns_end,
        nonsat_decades_gained=decades(ns_end, ns_raw[0]),
        nonsat_growth_after_peak=growth,
        nonsat_cv_steps=_detrended_cv(steps, ns_raw),
        nonsat_cv_latent=_mean_cv(ns_raw, series.nonsat_grad_std),
        final_overfit_rt=median_at(series.overfit_rt, end),
        final_overfit_rv=median_defined(rv_end),
        overfit_rt_uncertainty=window_uncertainty(rt_end),
        overfit_rv_uncertainty=window_uncertainty(rv_end),
        minimax_cv_steps=_detrended_cv(steps, mm_raw),
        minimax_decades_uncertainty=math.hypot(_spread(steps, mm_raw, at_peak, end), horizon[0]),
        minimax_declined=lost >= decline_decades and onset is not None,
        minimax_decline_step=steps[onset] if onset is not None else None,
        nonsat_growth_uncertainty=math.hypot(
            _spread(steps, ns_raw, at_onset, end), horizon[1], shift
        ),
        horizon_shifts=horizon,
        onset_shift=shift,
        **_accuracy_statistics(accuracy, heldout),
    )


HORIZON_PACE = 1.25
"""Runs of one probe differ mostly in D's pace: another seed, thread count or precision
sends D along another trajectory, and the figures read at the end then lie where a run
that is somewhat ahead or behind would read them. Measured on the stability matrix
(benchmarks/matrix.py, 32 px DCGAN after one epoch): every seed's minimax decades lost and
-log D growth rise steadily with the step they are read at (1.27 at step 143 to 2.49 at
500), and seed 1 at step 500 reads what seed 0 read at about step 330; between thread
counts the issue that asked for this saw saturation 118 against 143 steps. So each
deciding figure's margin includes how far it moved over the last part of the run: its
value now against its value read at steps_run / HORIZON_PACE (one step of the geometric
measurement schedule, x1.25), in quadrature with the curve's own noise."""


def _horizon_shifts(series: ProbeSeries, decline_decades: float,
                    now: tuple[float, float, float]) -> tuple[float, float, float]:  # fmt: skip
    """|figure now - figure at steps_run / HORIZON_PACE| for (minimax decades lost, -log D
    growth after the decline, held-out accuracy); 0 where either is not finite, and the
    figures themselves where too few measurements came before that step to read them."""
    earlier = series.step[-1] / HORIZON_PACE
    count = sum(step <= earlier for step in series.step)
    if count < FINAL_WINDOW:
        return tuple(_finite(v) for v in now)  # type: ignore[return-value]
    part = ProbeSeries(**{name: values[:count] for name, values in series.to_dict().items()})
    smoothed = trailing_median(part.minimax_grad_mean)
    end = end_indexes(part.step)
    mm_end = median_at(part.minimax_grad_mean, end)
    lost = decades(nanmax(smoothed), mm_end) if plateau_peak(smoothed) is not None else 0.0
    onset = decline_onset(smoothed, decline_decades)
    growth = 0.0
    if onset is not None:
        at_onset = around(onset, count)
        growth = decades(median_at(part.nonsat_grad_mean, end),
                         median_at(part.nonsat_grad_mean, at_onset))  # fmt: skip
    accuracy = median_at(part.heldout_accuracy, end)
    then = (lost, growth, accuracy)
    return tuple(_finite(a - b) for a, b in zip(now, then, strict=True))  # type: ignore[return-value]


def _onset_shift(ns_raw: list[float], onset: int, ns_end: float, growth: float) -> float:
    """How far the -log D growth moves where the decline's onset is read one measurement
    earlier or later: the larger of the two. The onset comes early (steps 30-40 against the
    stability matrix's generators), where the measurements are far apart and the -log D
    gradient grows fastest, so another run that crosses the level one measurement sooner
    reads its growth from another point. Measured on the matrix's 64 px generators: the
    growth's spread between seeds 0-4 (sd 0.01-0.07) is two to five times the curve's noise
    and horizon shift, and this term brings the stated half-width to about that spread
    (0.04-0.17)."""
    count = len(ns_raw)
    neighbours = {max(onset - 1, 0), min(onset + 1, count - 1)} - {onset}
    moved = [decades(ns_end, median_at(ns_raw, around(i, count))) - growth for i in neighbours]
    return max((_finite(m) for m in moved), default=0.0)


def _finite(value: float) -> float:
    return abs(value) if math.isfinite(value) else 0.0


def _spread(steps: list[int], values: list[float], at_peak: list[int], end: list[int]) -> float:
    """Uncertainty in decades of log10(end / peak) (readings.reading_uncertainty)."""
    return reading_uncertainty(log_noise(steps, values), at_peak, end)


def _accuracy_statistics(accuracy: float, heldout: tuple[int, int] | None) -> dict[str, Any]:
    if heldout is None or not math.isfinite(accuracy) or min(heldout) < 1:
        return {}
    low, high = accuracy_interval(accuracy, *heldout)
    return {
        "heldout_real": heldout[0],
        "heldout_fake": heldout[1],
        "accuracy_low": low,
        "accuracy_high": high,
        "accuracy_sd": accuracy_sd(accuracy, *heldout),
        "c2st_p_value": c2st_p_value(accuracy, *heldout),
    }


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
    ratios = [math.exp(r) for r in trend_residuals(steps, values)]
    return statistics.pstdev(ratios) / statistics.fmean(ratios) if ratios else 0.0


def _mean_cv(means: list[float], stds: list[float]) -> float:
    cvs = [s / m for m, s in zip(means, stds, strict=True) if math.isfinite(m) and m > 0]
    return statistics.fmean(cvs) if cvs else 0.0
