"""A probe's plan: how its protocol was cut down to fit its time (probing.plan decides it;
the levels are ``plans.PLAN_LEVELS``).

The full protocol (level 0) trains D on a fresh batch of fakes at every step and measures
both gradient norms over K latent batches at every scheduled step. A plan trades part of
that for time, one lever at a time, in the order that changes the figures least
(README, "Speed"): fewer latent batches for the gradient norms, fakes reused by D's steps,
a smaller batch for the gradient norms, and last a sparser measurement schedule.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

PLAN_SETTINGS = ("level", "measure_growth", "measure_max_interval", "grad_batches",
                 "grad_batch_size", "fake_reuse")  # fmt: skip
"""The fields of a plan that change what is measured."""


@dataclass(frozen=True)
class ProbePlan:
    """The level a probe ran at, its settings, and the prediction it was chosen on."""

    level: int
    measure_growth: float
    measure_max_interval: int
    grad_batches: int
    grad_batch_size: int
    fake_reuse: int
    predicted_seconds: float | None
    """The probe loop's predicted wall time at this level; None when not predicted."""
    full_seconds: float | None
    """The same for the full protocol (level 0)."""
    budget_seconds: float | None
    """The time the plan had to fit: what ``--max-seconds`` left, or the default CPU budget;
    None = no budget."""
    reason: str
    priced: bool = False
    """The predictions are counted work priced at the reference CPU (the default CPU
    budget: the same on every machine), not times measured here (``--max-seconds``)."""

    @property
    def planned(self) -> bool:
        """Whether the probe ran anything but the full protocol."""
        return self.level > 0

    def settings(self) -> dict[str, Any] | None:
        """What changes the figures, compared by ``--baseline`` like the probe's settings;
        None for the full protocol."""
        return {key: getattr(self, key) for key in PLAN_SETTINGS} if self.planned else None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """One line for the report: what the plan changed."""
        if not self.planned:
            return "full protocol"
        return (
            f"level {self.level}: measured at {self.measure_growth:g}x steps up to "
            f"{self.measure_max_interval} apart, gradients over {self.grad_batches} x "
            f"{self.grad_batch_size} latents, each fake used {self.fake_reuse}x"
        )
