"""The held-out accuracy as a classifier two-sample test (Lopez-Paz & Oquab 2017).

A probe D's held-out accuracy is the statistic of a two-sample test: with real and
generated samples from one distribution, no D beats chance on samples it never saw. The
accuracy is *balanced* (the mean of the real and the fake hit rates, metrics.py), on
``n_real`` held-out real samples and ``n_fake`` held-out fakes, so its variance is
p(1 - p) (1/n_real + 1/n_fake) / 4, and 1/16 (1/n_real + 1/n_fake) under chance (p = 1/2).
Pure Python.
"""

from __future__ import annotations

import math

Z95 = 1.959964
"""Two-sided 95 % normal quantile: the width of an interval, and of a borderline zone."""


def accuracy_sd(accuracy: float, n_real: int, n_fake: int) -> float:
    """Standard error of a balanced accuracy (0 at accuracy 0 or 1)."""
    p = min(max(accuracy, 0.0), 1.0)
    return math.sqrt(p * (1 - p) * (1 / n_real + 1 / n_fake) / 4)


def accuracy_interval(accuracy: float, n_real: int, n_fake: int) -> tuple[float, float]:
    """95 % Wilson score interval of a balanced accuracy, with the effective sample size
    4 / (1/n_real + 1/n_fake) (n for n real and n fake samples: 2n trials). Wilson, unlike
    p +/- 1.96 SE, does not collapse to a point at accuracy 1."""
    n = 4 / (1 / n_real + 1 / n_fake)  # trials of a binomial with the same variance
    p = min(max(accuracy, 0.0), 1.0)
    z2 = Z95**2
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    # Wilson's interval always holds p (at p = 1 its upper end is 1 exactly); min/max keep
    # that against float rounding, which put the end at 1 - 1e-16 below an accuracy of 1.
    return max(0.0, min(p, centre - half)), min(1.0, max(p, centre + half))


def c2st_p_value(accuracy: float, n_real: int, n_fake: int) -> float:
    """One-sided p-value of "D does no better than chance" given its held-out accuracy
    (normal approximation; below about 1e-300 it reads 0)."""
    null_sd = math.sqrt(1 / n_real + 1 / n_fake) / 4
    z = (accuracy - 0.5) / null_sd
    return 0.5 * math.erfc(z / math.sqrt(2))
