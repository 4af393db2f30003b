"""The levels of a probe's plan and the default CPU budget (probing.plan uses them; the
record of a plan is results.plan). Torch-free, so that config.py can check ``--plan``."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PlanLevel:
    """What one level of the plan changes against the full protocol."""

    measure_growth: float
    measure_max_interval: int
    grad_batches: int | None
    """Latent batches whose gradient norms are measured; None = all K of the protocol."""
    grad_batch_size: int | None
    """Samples of each of those batches; None = the whole batch."""
    fake_reuse: int
    """How many D steps each generated sample serves, on average (1 = a fresh batch each
    step)."""


PLAN_LEVELS: tuple[PlanLevel, ...] = (
    PlanLevel(1.25, 25, None, None, 1),  # the full protocol (ProbeConfig's schedule)
    PlanLevel(1.25, 25, 2, None, 1),
    PlanLevel(1.25, 25, 2, None, 4),
    PlanLevel(1.25, 25, 2, 32, 8),
    PlanLevel(1.25, 25, 1, 16, 16),
    # The schedule last: fewer measurements read the end of the run off fewer points, and
    # the readings of a noisy series moved most (benchmarks/plan.py: at measurements 100
    # steps apart the 25-epoch example's -log D growth was read as 0.33, not "no decline").
    PlanLevel(1.25, 50, 1, 16, 16),
)
"""Level 0 is the protocol; each further level keeps the changes of the one before and adds
the next lever. Their figures' shifts against level 0 are measured by
benchmarks/plan.py on the reference cases (README, "Speed")."""


PLAN_CHOICES = ("auto", "full", *(str(level) for level in range(1, len(PLAN_LEVELS))))
"""``--plan``: ``auto`` plans to the time budget, ``full`` runs the protocol whatever it
costs, a number runs that level."""
DEFAULT_CPU_SECONDS = 60.0
"""The time ``gandoctor probe`` on a CPU plans to fit when no ``--max-seconds`` is given
(``ProbeConfig.cpu_budget``): a CI job's minute per checkpoint. The shipped example's full
protocol takes 15 s and an untrained 64x64 DCGAN's about 40 s, so both run unplanned; a
64x64 StyleGAN2 of about 1 M parameters would take about 5 minutes in full
(benchmarks/README.md). On a GPU there is no default budget."""
