"""The vocabulary of findings and verdicts, with their order. Pure Python.

The order lives here and only here: ``Severity.rank`` (info < warn < fail) and
``Verdict.rank`` (healthy < warning < failing < broken).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["FindingCode", "LatentDistribution", "Severity", "Verdict"]


class Severity(StrEnum):
    FAIL = "fail"
    WARN = "warn"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for info, 1 for warn, 2 for fail: compare severities by rank."""
        return _SEVERITY_ORDER.index(self)

    def at_least(self, floor: Severity) -> bool:
        """Whether this severity is ``floor`` or worse."""
        return self.rank >= floor.rank


class FindingCode(StrEnum):
    SATURATION = "saturation"
    VANISHING = "vanishing"
    EXPLODING = "exploding"
    COLLAPSE = "collapse"
    BROKEN = "broken"
    MODE_MISMATCH = "mode_mismatch"
    RANGE_MISMATCH = "range_mismatch"
    OVERFITTING = "overfitting"
    D_DOMINANT = "d_dominant"
    D_OVERFIT = "d_overfit"
    PENALTY_INEFFECTIVE = "penalty_ineffective"
    D_LOSS_COLLAPSE = "d_loss_collapse"
    """The run's own log (runs.logs): its D loss fell toward 0 with r_t near 1."""
    AUGMENT_CEILING = "augment_ceiling"
    """The run's own log: ADA's augmentation probability p held at its ceiling."""
    FID_REGRESSED = "fid_regressed"
    """The run's own log: its FID rose over several evaluations in a row."""


class LatentDistribution(StrEnum):
    NORMAL = "normal"
    """Standard normal, as in DCGAN and most GANs."""
    UNIFORM = "uniform"
    """Uniform on [-1, 1]."""


class Verdict(StrEnum):
    HEALTHY = "healthy"
    WARNING = "warning"
    FAILING = "failing"
    BROKEN = "broken"

    @property
    def rank(self) -> int:
        """0 for healthy up to 3 for broken: compare verdicts by rank."""
        return _VERDICT_ORDER.index(self)

    @staticmethod
    def worst(verdicts: Iterable[Verdict]) -> Verdict:
        """The worst of ``verdicts``; healthy when there are none."""
        return max(verdicts, key=lambda v: v.rank, default=Verdict.HEALTHY)


_SEVERITY_ORDER = (Severity.INFO, Severity.WARN, Severity.FAIL)
_VERDICT_ORDER = (Verdict.HEALTHY, Verdict.WARNING, Verdict.FAILING, Verdict.BROKEN)
