"""Records of ``--baseline``: the saved report as read back, and the comparison's figures
and regressions (judge.baseline)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gandoctor.enums import Verdict


@dataclass(frozen=True)
class BaselineCheckpoint:
    """What the comparison reads from one checkpoint of the baseline report."""

    checkpoint: str
    verdict: Verdict
    steps_run: int
    steps_to_saturation: int | None
    final_accuracy: float | None
    final_d_fake: float | None
    minimax_decades_lost: float | None
    nonsat_growth_after_peak: float | None
    fail_codes: tuple[str, ...]
    complete: bool
    plan: dict[str, Any] | None = None
    """The probe's plan (results.plan.ProbePlan.settings); None for the full protocol, as
    in reports written before plans existed."""


@dataclass(frozen=True)
class Baseline:
    path: str
    checkpoints: list[BaselineCheckpoint]
    settings: dict[str, Any]


@dataclass(frozen=True)
class Regression:
    figure: str
    """``verdict``, ``steps_to_saturation``, ``minimax_decades_lost``,
    ``nonsat_growth_after_peak`` or ``finding``."""
    baseline: Any
    current: Any
    message: str


@dataclass(frozen=True)
class CheckpointComparison:
    checkpoint: str
    baseline_checkpoint: str
    figures: dict[str, tuple[Any, Any]]
    """Figure name -> (baseline, now), as the report shows them."""
    regressions: list[Regression]


@dataclass(frozen=True)
class BaselineComparison:
    """The whole comparison; ``regressed`` turns the exit code to 1."""

    path: str
    tolerances: dict[str, float]
    checkpoints: list[CheckpointComparison]
    unmatched: list[str] = field(default_factory=list)
    """Probed checkpoints the baseline has no entry for (not compared)."""
    missing: list[str] = field(default_factory=list)
    """Baseline checkpoints that were not probed this time."""
    settings_differ: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Probe settings that differ, name -> (baseline, now): figures may differ for that."""

    @property
    def regressions(self) -> list[tuple[str, Regression]]:
        return [(c.checkpoint, r) for c in self.checkpoints for r in c.regressions]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "regressed": self.regressed,
            "tolerances": self.tolerances,
            "checkpoints": [
                {
                    "checkpoint": c.checkpoint,
                    "baseline_checkpoint": c.baseline_checkpoint,
                    "figures": {k: {"baseline": b, "now": n} for k, (b, n) in c.figures.items()},
                    "regressions": [asdict(r) for r in c.regressions],
                }
                for c in self.checkpoints
            ],
            "unmatched": self.unmatched,
            "missing": self.missing,
            "settings_differ": {k: {"baseline": b, "now": n}
                                for k, (b, n) in self.settings_differ.items()},
        }  # fmt: skip
