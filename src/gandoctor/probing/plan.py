"""A probe that plans to its time (``--plan``, ``--max-seconds``, ``DEFAULT_CPU_SECONDS``).

Before D's first step the probe costs the three things its protocol repeats on this
generator and D: a batch of fakes for a D step, a D step itself, and a gradient
measurement through G (probing.costs: timed on this machine for ``--max-seconds``, counted
and priced at a reference CPU for the default CPU budget). From them it predicts the time
of the full protocol (every step and scheduled measurement; early stopping can only
shorten it) and of each level of ``config.PLAN_LEVELS``, and runs the first level
predicted to fit the time it has. A level changes what is measured, so the plan is stated
in the report, and the figures' shifts at each level are measured against the full
protocol on the reference cases (benchmarks/plan.py, README "Speed").
"""

from __future__ import annotations

import math

import torch

from gandoctor.config import ProbeConfig
from gandoctor.plans import PLAN_LEVELS, PlanLevel
from gandoctor.probing.costs import Costs
from gandoctor.probing.setup import measurement_steps
from gandoctor.results.plan import ProbePlan

FORWARD_SHARE = 1 / 3
"""A forward pass's share of a forward and backward pass (the backward does about twice
the forward's work), for D's passes that need no gradient."""


def predict(level: PlanLevel, config: ProbeConfig, costs: Costs, heldout_real: int,
            kept_limit: tuple[int, int], train_mode: bool) -> float:  # fmt: skip
    """Predicted seconds of the probe loop at ``level``: every step and every scheduled
    measurement, none cut by early stopping."""
    batch, k = config.batch_size, config.grad_batches
    grad_batches, grad_size = effective(level, config)
    samples = grad_batches * grad_size
    values, graph = kept_limit  # the limits of kept graphs (probing.steps)
    kept = (not train_mode and samples * costs.sample_values <= values
            and samples * costs.graph_bytes <= graph)  # fmt: skip
    forward = costs.generate * grad_size / batch
    # The timed pass is one forward and one backward through G; a measurement runs two
    # backward passes (one per cost) and, where graphs are not kept, one forward.
    backward = max(gradient_seconds(costs, grad_size, batch) - forward, 0.0)
    d_per_sample = costs.d_step / (2 * batch)
    per_grad_batch = 2 * backward + (0.0 if kept else forward) + d_per_sample * grad_size
    accuracy = FORWARD_SHARE * d_per_sample * (k * batch + heldout_real)
    measurement = accuracy + grad_batches * per_grad_batch
    schedule = measurement_steps(config.steps, level.measure_growth, level.measure_max_interval)
    step = costs.d_step + costs.generate / level.fake_reuse
    return config.steps * step + len(schedule) * measurement


def gradient_seconds(costs: Costs, samples: int, batch: int) -> float:
    """A forward and backward pass through G on ``samples``: proportional to the timed
    pass, or along the line through both timed passes where the whole batch was timed."""
    if costs.whole_gradient is None or samples <= costs.gradient_samples:
        return costs.gradient * samples / costs.gradient_samples
    share = (samples - costs.gradient_samples) / (batch - costs.gradient_samples)
    return costs.gradient + share * (costs.whole_gradient - costs.gradient)


def effective(level: PlanLevel, config: ProbeConfig) -> tuple[int, int]:
    """(latent batches, samples each) of the gradient norms at ``level``."""
    grad_batches = min(level.grad_batches or config.grad_batches, config.grad_batches)
    return grad_batches, min(level.grad_batch_size or config.batch_size, config.batch_size)


def budget_of(config: ProbeConfig, elapsed: float) -> tuple[float | None, str]:
    """Seconds the loop may take, and what set them: ``max_seconds`` less what the probe
    has spent so far, else on a CPU ``cpu_budget`` whole: it is priced work, not time on
    this machine's clock, so no set-up time (which a busy machine stretches) comes off it."""
    if config.max_seconds is not None:
        return config.max_seconds - elapsed, "the time budget"
    if config.cpu_budget is not None and torch.device(config.device).type == "cpu":
        return config.cpu_budget, "the CPU budget (seconds of the reference CPU)"
    return None, "no budget"


def plans_by_work(config: ProbeConfig) -> bool:
    """Whether the plan is chosen on counted work priced at the reference CPU (the default
    CPU budget) rather than on the clock (``--max-seconds``): probing.costs says why."""
    return config.max_seconds is None


def choose_plan(config: ProbeConfig, costs: Costs | None, heldout_real: int, elapsed: float,
                kept_limit: tuple[int, int], train_mode: bool) -> ProbePlan:  # fmt: skip
    """The level to run: as ``config.plan`` says, or (``auto``) the first predicted to fit
    the budget, the last where none does. ``costs`` None: not timed (level 0, or as set)."""
    budget, source = budget_of(config, elapsed)
    predicted = [
        predict(level, config, costs, heldout_real, kept_limit, train_mode)
        if costs is not None else None
        for level in PLAN_LEVELS
    ]  # fmt: skip
    if config.plan == "full":
        index, reason = 0, "the full protocol, as asked"
    elif config.plan != "auto":
        index, reason = int(config.plan), f"level {config.plan}, as asked"
    elif budget is None or predicted[0] is None:
        index, reason = 0, f"the full protocol ({source})"
    else:
        fits = [i for i, t in enumerate(predicted) if t is not None and t <= budget]
        index = fits[0] if fits else len(PLAN_LEVELS) - 1
        reason = _reason(index, predicted, budget, source, bool(fits))
    level = PLAN_LEVELS[index]
    grad_batches, grad_size = effective(level, config)
    schedule = (level.measure_growth, level.measure_max_interval)
    if index == 0:  # the protocol: the probe's own schedule, whatever it was set to
        schedule = (config.measure_growth, config.measure_max_interval)
    return ProbePlan(
        level=index, measure_growth=schedule[0], measure_max_interval=schedule[1],
        grad_batches=grad_batches, grad_batch_size=grad_size, fake_reuse=level.fake_reuse,
        predicted_seconds=predicted[index], full_seconds=predicted[0],
        budget_seconds=budget if budget is None else max(budget, 0.0), reason=reason,
        priced=costs is not None and costs.priced,
    )  # fmt: skip


def _reason(index: int, predicted: list[float | None], budget: float, source: str,
            fits: bool) -> str:  # fmt: skip
    full = predicted[0]
    assert full is not None
    if index == 0:
        return f"the full protocol fits {source} ({full:.0f} s predicted, {budget:.0f} s left)"
    chosen = predicted[index]
    assert chosen is not None
    verb = "fits" if fits else "comes closest to"
    return (
        f"the full protocol would take {full:.0f} s, more than the {max(budget, 0):.0f} s of "
        f"{source}; level {index} {verb} it ({chosen:.0f} s predicted)"
    )


TELL_SECONDS = 30.0
"""A prediction is printed before the loop where the probe is planned or predicted to take
at least this long: worth knowing before the wait; a shorter one is only in the report."""


def worth_telling(plan: ProbePlan) -> bool:
    return plan.planned or (plan.predicted_seconds or 0.0) >= TELL_SECONDS


def describe_prediction(plan: ProbePlan) -> str:
    """The line printed on stderr before the loop."""
    if plan.predicted_seconds is None or math.isnan(plan.predicted_seconds):
        return f"plan: {plan.describe()} ({plan.reason})"
    where = " on the reference CPU" if plan.priced else ""
    return f"plan: {plan.describe()}, about {plan.predicted_seconds:.0f} s{where} ({plan.reason})"
