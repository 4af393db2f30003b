"""How a figure is read off a measured series: medians over the end window, running
medians, peaks, and decades between two gradient norms. Pure Python.

One copy, shared by the probe's summary (judge.summarise), the per-layer figures
(results.layers) and the WGAN-GP critic (remedies.critic), so all read alike.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

FINAL_WINDOW = 3
"""The fewest measurements any reading is the median of: the running median's width, the
window around a peak, and the end window's minimum."""


def median_defined(values: list[float]) -> float:
    """Median of the finite ``values``; NaN if none is. For r_v, which is undefined (NaN) at
    measurements where D does not separate its training samples from generated ones: that
    hides nothing broken, so the defined values decide."""
    defined = [v for v in values if math.isfinite(v)]
    return statistics.median(defined) if defined else math.nan


def window_uncertainty(values: list[float]) -> float:
    """95 % half-width of the median of ``values`` (one reading window) from their spread:
    a median of n points has 1.25 / sqrt(n) times their standard deviation. NaN values are
    left out; 0 with fewer than two."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return 0.0
    return 1.96 * 1.2533 * statistics.pstdev(finite) / math.sqrt(len(finite))


def trailing_median(values: list[float]) -> list[float]:
    return [median(values[max(0, i - FINAL_WINDOW + 1) : i + 1]) for i in range(len(values))]


def median(values: list[float]) -> float:
    if any(not math.isfinite(v) for v in values):
        return math.nan  # a NaN figure must not be hidden by its neighbours
    return statistics.median(values)


def decades(numerator: float, denominator: float) -> float:
    """log10(numerator / denominator): orders of magnitude between two gradient norms.

    +inf when a positive finite ``numerator`` is compared with a ``denominator`` of exactly
    0 (a gradient that fell to 0, e.g. by underflow, lost every decade: shown as "all");
    0 when either is otherwise not a positive finite number (nothing to compare).
    """
    if math.isfinite(numerator) and numerator > 0 and denominator == 0:
        return math.inf
    ok = all(math.isfinite(v) and v > 0 for v in (numerator, denominator))
    return math.log10(numerator / denominator) if ok else 0.0


def argmax(values: list[float]) -> int | None:
    finite = [(v, i) for i, v in enumerate(values) if math.isfinite(v)]
    return max(finite, key=lambda pair: pair[0])[1] if finite else None  # first of equals


def nanmax(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return max(finite) if finite else math.nan


def finite_or_none(value: Any) -> float | None:
    """``value`` as a float, or None where it is missing, NaN or infinite (JSON null)."""
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


PEAK_TOLERANCE_DECADES = 0.1
"""A smoothed gradient within this many decades (a factor 1.26) of its maximum counts as
at its peak, and the peak is the *last* such measurement. Against a generator D cannot
quite separate, the minimax gradient has a noisy plateau with near-equal maxima (the
25-epoch example: 23.2 at step 343, 24.9 at step 493, 0.03 decades apart); the first exact
argmax moved 150 steps with 1 % of float rounding (thread count, bf16), this reading does
not."""
END_SHARE = 0.1
"""End values are medians over the measurements in the last tenth of the run's steps (and
never fewer than FINAL_WINDOW of them): the last two measurements of a 500-step run can be
7 steps apart, so "the last three" covered about 30 steps of a gradient that swings
30-fold within 57."""


def end_indexes(steps: list[int]) -> list[int]:
    """Indexes of the measurements an end value is the median of (END_SHARE, at least
    FINAL_WINDOW)."""
    since = steps[-1] * (1 - END_SHARE)
    inside = [i for i, step in enumerate(steps) if step >= since]
    return inside if len(inside) >= FINAL_WINDOW else list(range(len(steps)))[-FINAL_WINDOW:]


def around(i: int, count: int) -> list[int]:
    """Indexes of the measurement ``i`` and its neighbours, a centred window of FINAL_WINDOW
    (shifted inwards at the ends): a value read inside a series lags nothing."""
    half = FINAL_WINDOW // 2
    start = min(max(0, i - half), max(0, count - FINAL_WINDOW))
    return list(range(start, min(count, start + FINAL_WINDOW)))


def median_at(values: list[float], indexes: list[int]) -> float:
    return median([values[i] for i in indexes])


def plateau_peak(smoothed: list[float]) -> int | None:
    """The last index within PEAK_TOLERANCE_DECADES of the maximum of ``smoothed`` (a
    positive series); None when no value is positive and finite."""
    positive = [v for v in smoothed if math.isfinite(v) and v > 0]
    if not positive:
        return argmax(smoothed)
    floor = max(positive) * 10 ** (-PEAK_TOLERANCE_DECADES)
    return max(i for i, v in enumerate(smoothed) if math.isfinite(v) and v >= floor)


def decline_onset(smoothed: list[float], decades_below: float) -> int | None:
    """The first index after the maximum of ``smoothed`` (a positive series) whose value lies
    ``decades_below`` or more below that maximum: where the curve has turned down for
    good, wherever on a plateau its maximum fell. None where it never gets that low.

    The minimax gradient against a generator D separates quickly has a broad plateau with
    several near-equal bumps before its decline (the stability matrix's 32 px DCGAN after
    one epoch: within a factor 1.6 of its maximum from step 12 to step 60), and the -log D
    gradient grows tenfold across that plateau; a reading taken from the plateau's last bump
    (plateau_peak) moved by that decade between seeds. The decline is steep, so where the
    curve crosses a level below the plateau moves little."""
    top = argmax(smoothed)
    if top is None:
        return None
    floor = smoothed[top] * 10 ** (-decades_below)
    return next(
        (i for i in range(top + 1, len(smoothed)) if math.isfinite(smoothed[i])
         and smoothed[i] <= floor),
        None,
    )  # fmt: skip


def trend_residuals(steps: list[int], values: list[float]) -> list[float]:
    """Natural-log residuals of positive ``values`` around their log-linear trend over the
    second half of the run (a steady fall or rise is trend, not noise); empty with fewer
    than four points."""
    half = steps[-1] / 2
    points = [
        (s, math.log(v))
        for s, v in zip(steps, values, strict=True)
        if s >= half and math.isfinite(v) and v > 0
    ]
    if len(points) < 4:
        return []
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    slope, intercept = statistics.linear_regression(xs, ys)
    return [y - (slope * x + intercept) for x, y in points]


def log_noise(steps: list[int], values: list[float]) -> float:
    """The measurement-to-measurement noise of a gradient curve, in decades: the standard
    deviation of its trend residuals (``trend_residuals``); 0 without enough points."""
    residuals = trend_residuals(steps, values)
    return statistics.pstdev(residuals) / math.log(10) if residuals else 0.0


def reading_uncertainty(noise: float, *windows: list[int]) -> float:
    """95 % half-width, in decades, of log10(median over one window / median over another)
    for a curve with this noise: a median of n points has 1.25 / sqrt(n) times the noise's
    standard deviation, and the two medians' errors add in quadrature."""
    return 1.96 * 1.2533 * noise * math.sqrt(sum(1 / len(w) for w in windows if w))
