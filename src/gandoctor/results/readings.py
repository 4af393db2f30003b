"""How a figure is read off a measured series: medians over the last measurements,
running medians, peaks, and decades between two gradient norms. Pure Python.

One copy, shared by the probe's summary (judge.summarise), the per-layer figures
(results.layers) and the WGAN-GP critic (remedies.critic), so all read alike.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

FINAL_WINDOW = 3
"""Measurements a "final" figure is the median of (with spacing up to 25 steps, the last
~50 steps of a run)."""


def final(values: list[float]) -> float:
    return median(values[-FINAL_WINDOW:])


def final_defined(values: list[float]) -> float:
    # r_v is undefined (NaN) at measurements where D does not separate its training samples
    # from generated ones; that hides nothing broken, so the defined values decide.
    defined = [v for v in values[-FINAL_WINDOW:] if math.isfinite(v)]
    return statistics.median(defined) if defined else math.nan


def trailing_median(values: list[float]) -> list[float]:
    return [median(values[max(0, i - FINAL_WINDOW + 1) : i + 1]) for i in range(len(values))]


def median(values: list[float]) -> float:
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
