"""The probe: a fresh discriminator trained against a frozen generator, measured as it goes.

``run_probe`` reads top to bottom: draw the split and latents, check the generator, build
a fresh D, plan to the time (probing.plan), train and measure until the schedule ends or
the verdict settles, then measure sample diversity once. ``probing.state.ProbeState``
holds what has been measured so far.

This module returns data and prints nothing; progress goes through a callback.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import replace

import torch
from torch import nn

from gandoctor.analyses.collapse import probe_collapse
from gandoctor.analyses.layers import LayerRecorder
from gandoctor.config import ProbeConfig
from gandoctor.enums import Verdict
from gandoctor.errors import ConfigError, DataError
from gandoctor.judge.rules import find
from gandoctor.judge.verdict import is_settled, overall, unusable
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import check_health, frozen, generate
from gandoctor.nn.latent import GeneratorInputs, LatentSpec, first
from gandoctor.probing.budget import TimeBudget
from gandoctor.probing.costs import count_costs, time_costs
from gandoctor.probing.graphs import MAX_KEPT_GRAPH_VALUES, kept_graph_bytes
from gandoctor.probing.interrupt import interruptible
from gandoctor.probing.noise import InstanceNoise
from gandoctor.probing.pictures import sample_images
from gandoctor.probing.plan import (
    budget_of,
    choose_plan,
    describe_prediction,
    plans_by_work,
    worth_telling,
)
from gandoctor.probing.setup import ProbeDraws, ProgressCallback, draw, measurement_steps, seeded
from gandoctor.probing.state import ProbeState
from gandoctor.probing.steps import HeldoutFakes, TrainingFakes, measure, train_step
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.results.plan import ProbePlan
from gandoctor.runtime.precision import BF16, resolve_precision
from gandoctor.runtime.threads import torch_threads


def run_probe(
    generator: nn.Module,
    latent: LatentSpec | Sequence[int],
    real: torch.Tensor,
    config: ProbeConfig,
    on_progress: ProgressCallback | None = None,
    output_range: tuple[float, float] | None = None,
    on_note: Callable[[str], None] | None = None,
) -> ProbeOutcome:
    """Train a fresh probe D against the frozen ``generator`` and measure (DESIGN.md).

    ``latent`` is a LatentSpec, or just the latent shape for standard-normal z.
    ``real`` holds real samples shaped like the generator's output, in its value range
    ``output_range`` (when given, generated values are checked against it).
    ``on_note`` hears the plan and its predicted time before D's first step.
    The generator's weights, buffers, mode and ``requires_grad`` flags are restored after.
    """
    start = time.perf_counter()
    config = replace(config, precision=resolve_precision(config.precision, config.device))
    spec = LatentSpec.of(latent)
    drawn = draw(real, spec, config, torch.device(config.device))
    _check_batch_size(config, drawn)
    state = ProbeState(config, start, len(drawn.train_real), len(drawn.heldout_real))
    with (
        frozen(generator, config.train_mode) as params,
        interruptible(state.interrupted),
        torch_threads(config.threads),
    ):
        _check_output_shape(generator, drawn, tuple(real.shape[1:]))
        began = time.perf_counter()
        images = generated(generator, drawn.heldout_latents, real[0].numel())
        generate_seconds = time.perf_counter() - began
        state.samples = sample_images(images, drawn.heldout_real, output_range)
        state.health = check_health(generator, drawn.heldout_latents, drawn.heldout_real,
                                    config.train_mode, output_range, images)  # fmt: skip
        state.findings = find(None, state.health, config.thresholds)
        if unusable(state.findings):
            broken = overall(state.findings) == Verdict.BROKEN
            why = "the generator is broken" if broken else "it works in train mode only"
            state.stop(f"stopped before training D: {why}")
            return state.outcome()
        recorder = LayerRecorder(generator, params) if config.per_layer else None
        disc = fresh_discriminator(tuple(real.shape[1:]), config)
        state.plan = _plan(state, generator, disc, params, drawn, images, generate_seconds)
        if on_note is not None and worth_telling(state.plan):
            on_note(describe_prediction(state.plan))
        _train_and_measure(state, generator, disc, params, spec, drawn, images, recorder,
                           on_progress)  # fmt: skip
        # Sample diversity once, at the end: it depends on the generator only, not on D.
        collapse = None
        if overall(state.findings) != Verdict.BROKEN:
            samples = torch.cat(images) if not config.train_mode else None
            collapse = probe_collapse(generator, drawn.heldout_latents, drawn.heldout_real,
                                      train_subset(drawn), samples)  # fmt: skip
        state.findings = find(state.summary, state.health, config.thresholds, collapse)
    layers = None
    if recorder is not None and state.summary is not None:
        layers = recorder.result(state.summary.minimax_grad_peak_step)
    return state.outcome(layers=layers, collapse=collapse)


def fresh_discriminator(sample_shape: tuple[int, ...], config: ProbeConfig) -> nn.Module:
    """The probe D, initialised from the seed alone, on the probe's device."""
    with seeded(config.seed):
        disc = build_probe_discriminator(sample_shape, config.disc_width)
    disc = disc.to(torch.device(config.device))
    if config.precision == BF16:
        # oneDNN's and cuDNN's bf16 convolutions prefer channels-last weights (D steps
        # ~20 % faster on a CPU with AMX). Only here: in fp32 the same change would move
        # the reference figures by float rounding, as another thread count does.
        # (torch's type stubs lack Module.to's memory_format form, which torch documents)
        disc = disc.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
    return disc


def _plan(state: ProbeState, generator: nn.Module, disc: nn.Module,
          params: list[nn.Parameter], drawn: ProbeDraws, images: list[torch.Tensor],
          generate_seconds: float) -> ProbePlan:  # fmt: skip
    """The probe's plan (probing.plan): its costs found where ``auto`` has a budget to fit
    (none for the library's defaults on a CPU), timed for ``--max-seconds``, counted for
    the default CPU budget, so that the plan, like the figures, does not depend on the
    machine (probing.costs)."""
    config = state.config
    costs = None
    if config.plan == "auto" and budget_of(config, 0.0)[0] is not None:
        if plans_by_work(config):
            costs = count_costs(generator, disc, params, drawn.train_real, images,
                                drawn.heldout_latents, config)  # fmt: skip
        else:
            costs = time_costs(generator, disc, params, drawn.train_real, images,
                               drawn.heldout_latents, generate_seconds, config)  # fmt: skip
    return choose_plan(config, costs, len(drawn.heldout_real),
                       time.perf_counter() - state.start,
                       (MAX_KEPT_GRAPH_VALUES, kept_graph_bytes()),
                       config.train_mode)  # fmt: skip


def generated(generator: nn.Module, z_batches: list[GeneratorInputs], sample_values: int
              ) -> list[torch.Tensor]:  # fmt: skip
    """The generator's samples of the held-out latents, one tensor per batch, no graph."""
    with torch.no_grad():
        return [generate(generator, inputs, sample_values) for inputs in z_batches]


def _train_and_measure(
    state: ProbeState,
    generator: nn.Module,
    disc: nn.Module,
    params: list[nn.Parameter],
    spec: LatentSpec,
    drawn: ProbeDraws,
    images: list[torch.Tensor],
    recorder: LayerRecorder | None,
    on_progress: ProgressCallback | None,
) -> None:
    """D steps, with a measurement at every scheduled step, until the last step, a NaN, a
    settled verdict or the end of the time budget; as planned (``state.plan``)."""
    config, plan = state.config, state.plan
    assert plan is not None
    noise = InstanceNoise.of(config)  # None without instance noise: no extra draws
    fakes = HeldoutFakes(generator, drawn.heldout_latents, config, images, plan.grad_batches,
                         plan.grad_batch_size)  # fmt: skip
    device = torch.device(config.device)
    training = TrainingFakes(generator, spec, config, drawn.rng, device, plan.fake_reuse,
                             drawn.heldout_real[0].numel())  # fmt: skip
    optimizer = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=config.betas)
    schedule = set(measurement_steps(config.steps, plan.measure_growth,
                                     plan.measure_max_interval))  # fmt: skip
    budget = TimeBudget(config.max_seconds, spent=time.perf_counter() - state.start)
    for step in range(config.steps + 1):
        if step > 0:
            with budget.step():
                train_step(disc, optimizer, drawn.train_real, training, config, drawn.rng,
                           noise)  # fmt: skip
            if on_progress is not None:
                on_progress(step, config.steps)
        # Out of time: measure now (the budget kept room for it) and stop after it.
        out_of_time = step < config.steps and budget.exhausted(step in schedule)
        if step not in schedule and not out_of_time:
            continue
        with budget.measurement():
            figures = measure(disc, params, fakes, drawn.heldout_real, noise, recorder,
                              train_subset(drawn))  # fmt: skip
        state.record(step, figures)
        if recorder is not None:
            recorder.end_measurement(step)
        if state.health is not None and state.health.nonfinite_measurement_step is not None:
            return state.stop(f"a figure became NaN/Inf at step {step}")
        summary = state.summary
        settled = summary is not None and is_settled(summary, state.findings, config.settle_steps)
        if config.early_stop and step < config.steps and settled and summary is not None:
            return state.stop(
                f"stopped at step {step} of {config.steps}: D saturated at step "
                f"{summary.steps_to_saturation} and the verdict cannot improve"
            )
        if out_of_time:
            return state.stop(budget.stop_reason(step, config.steps), complete=False)


def train_subset(drawn: ProbeDraws) -> torch.Tensor:
    """D's training reals for r_t and r_v, as many as held out. The split is a random
    permutation, so its head is a random subset, and no draw changes the other numbers."""
    return drawn.train_real[: len(drawn.heldout_real)]


def _check_batch_size(config: ProbeConfig, drawn: ProbeDraws) -> None:
    if config.batch_size > len(drawn.train_real):
        raise ConfigError(
            f"batch size {config.batch_size} exceeds the {len(drawn.train_real)} real samples D "
            "trains on; use a smaller {opt:batch_size}"
        )


def _check_output_shape(generator: nn.Module, drawn: ProbeDraws, shape: tuple[int, ...]) -> None:
    # Two samples: BatchNorm1d in train mode refuses a batch of one.
    sample = generator(*first(drawn.heldout_latents[0], 2))
    if tuple(sample.shape[1:]) != shape:
        raise DataError(
            f"real samples have shape {shape} but the generator makes {tuple(sample.shape[1:])}"
        )
