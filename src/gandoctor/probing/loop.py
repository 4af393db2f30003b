"""The measurement: a fresh discriminator trained against a frozen generator.

This module returns data and prints nothing; progress goes through a callback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import replace

import torch
from torch import nn

from gandoctor.analyses.collapse import probe_collapse
from gandoctor.analyses.layers import LayerRecorder
from gandoctor.config import ProbeConfig
from gandoctor.enums import Verdict
from gandoctor.errors import ConfigError, DataError
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.judge.verdict import is_settled, overall
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import check_health, frozen
from gandoctor.nn.latent import LatentSpec, first
from gandoctor.probing.budget import TimeBudget
from gandoctor.probing.interrupt import interruptible
from gandoctor.probing.noise import InstanceNoise
from gandoctor.probing.setup import ProgressCallback, draw, measurement_steps, seeded
from gandoctor.probing.steps import HeldoutFakes, measure, train_step
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.results.series import OPTIONAL_FIGURES, GeneratorHealth, ProbeSeries, Summary
from gandoctor.runtime.precision import BF16, resolve_precision


def run_probe(
    generator: nn.Module,
    latent: LatentSpec | Sequence[int],
    real: torch.Tensor,
    config: ProbeConfig,
    on_progress: ProgressCallback | None = None,
    output_range: tuple[float, float] | None = None,
) -> ProbeOutcome:
    """Train a fresh probe D against the frozen ``generator`` and measure (DESIGN.md).

    ``latent`` is a LatentSpec, or just the latent shape for standard-normal z.
    ``real`` holds real samples shaped like the generator's output, in its value range
    ``output_range`` (when given, generated values are checked against it).
    The generator's weights, buffers, mode and ``requires_grad`` flags are restored after.
    """
    start = time.perf_counter()
    config = replace(config, precision=resolve_precision(config.precision, config.device))
    device = torch.device(config.device)
    noise = InstanceNoise.of(config)  # None without instance noise: no extra draws
    spec = LatentSpec.of(latent)
    drawn = draw(real, spec, config, device)
    train_real, heldout_real, z_batches, rng = (
        drawn.train_real,
        drawn.heldout_real,
        drawn.heldout_latents,
        drawn.rng,
    )
    if config.batch_size > len(train_real):
        raise ConfigError(
            f"batch size {config.batch_size} exceeds the {len(train_real)} real samples D "
            "trains on; use a smaller --batch-size"
        )
    notes = _small_data_notes(len(train_real), len(heldout_real), config)
    # D's training reals for r_t and r_v, as many as held out; the split is a random
    # permutation, so its head is a random subset, and no draw changes the other numbers.
    train_subset = train_real[: len(heldout_real)]

    series, health = ProbeSeries(), None  # health: GeneratorHealth | None

    def partial() -> ProbeOutcome | None:  # Ctrl-C: what was measured, marked incomplete
        counts = len(train_real), len(heldout_real)
        return _interrupted(series, health, config, start, *counts, notes)

    with frozen(generator, config.train_mode) as params, interruptible(partial):
        recorder = LayerRecorder(generator, params) if config.per_layer else None
        # Two samples: BatchNorm1d in train mode refuses a batch of one.
        sample = generator(*first(z_batches[0], 2))
        if tuple(sample.shape[1:]) != tuple(real.shape[1:]):
            raise DataError(
                f"real samples have shape {tuple(real.shape[1:])} but the generator makes "
                f"{tuple(sample.shape[1:])}"
            )
        health = check_health(generator, z_batches, heldout_real, config.train_mode, output_range)
        findings = find(None, health, config.thresholds)
        if findings and overall(findings) == Verdict.BROKEN:
            return ProbeOutcome(
                ProbeSeries(), None, health, findings, Verdict.BROKEN, True,
                "stopped before training D: the generator is broken",
                time.perf_counter() - start, len(train_real), len(heldout_real),
                config.grad_batches * config.batch_size, notes,
            )  # fmt: skip

        with seeded(config.seed):  # D's initial weights depend on the seed only
            disc = build_probe_discriminator(tuple(real.shape[1:]), config.disc_width)
        disc = disc.to(device)
        if config.precision == BF16:
            # oneDNN's and cuDNN's bf16 convolutions prefer channels-last weights (D steps
            # ~20 % faster on a CPU with AMX). Only here: in fp32 the same change would move
            # the reference figures by float rounding, as another thread count does.
            # (torch's type stubs lack Module.to's memory_format form, which torch documents)
            disc = disc.to(memory_format=torch.channels_last)  # type: ignore[call-overload]
        fakes = HeldoutFakes(generator, z_batches, config)
        optimizer = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=config.betas)
        series = ProbeSeries()
        schedule = set(measurement_steps(config.steps, config.measure_growth,
                                         config.measure_max_interval))  # fmt: skip
        summary: Summary | None = None
        stop_reason = f"ran all {config.steps} steps"
        stopped_early = False
        budget, complete = TimeBudget(config.max_seconds, start), True
        for step in range(config.steps + 1):
            if step > 0:
                with budget.step():
                    train_step(generator, disc, optimizer, train_real, spec, config, rng, noise)
                if on_progress is not None:
                    on_progress(step, config.steps)
            # Out of time: measure now (the budget kept room for it) and stop after it.
            out_of_time = step < config.steps and budget.exhausted(step in schedule)
            if step not in schedule and not out_of_time:
                continue
            with budget.measurement():
                figures = measure(disc, params, fakes, heldout_real, noise, recorder, train_subset)
            series.append(step=step, **figures)
            if recorder is not None:
                recorder.end_measurement(step)
            t = config.thresholds
            summary = summarize(series, t.saturation_accuracy, t.saturation_fake_prob)
            if not _all_finite(series):
                health = _with_nonfinite_step(health, step)
            findings = find(summary, health, t)
            if health.nonfinite_measurement_step is not None:
                stop_reason, stopped_early = f"a figure became NaN/Inf at step {step}", True
                break
            if (
                config.early_stop
                and step < config.steps
                and is_settled(summary, findings, config.settle_steps)
            ):
                stop_reason = (
                    f"stopped at step {step} of {config.steps}: D saturated at step "
                    f"{summary.steps_to_saturation} and the verdict cannot improve"
                )
                stopped_early = True
                break
            if out_of_time:
                stop_reason, stopped_early = budget.stop_reason(step, config.steps), True
                complete = False
                break
        # Sample diversity once, at the end: it depends on the generator only, not on D.
        collapse = None if overall(findings) == Verdict.BROKEN else probe_collapse(
            generator, z_batches, heldout_real, train_subset)  # fmt: skip
        findings = find(summary, health, config.thresholds, collapse)
    return ProbeOutcome(
        series, summary, health, findings, overall(findings), stopped_early, stop_reason,
        time.perf_counter() - start, len(train_real), len(heldout_real),
        config.grad_batches * config.batch_size, notes,
        layers=recorder.result(summary.minimax_grad_peak_step) if recorder and summary else None,
        complete=complete, collapse=collapse,
    )  # fmt: skip


def _with_nonfinite_step(health: GeneratorHealth, step: int) -> GeneratorHealth:
    return replace(health, nonfinite_measurement_step=step)


def _all_finite(series: ProbeSeries) -> bool:
    last = [v[-1] for name, v in series.to_dict().items() if name not in OPTIONAL_FIGURES]
    return all(math.isfinite(v) for v in last)


def _interrupted(
    series: ProbeSeries,
    health: GeneratorHealth | None,
    config: ProbeConfig,
    start: float,
    train: int,
    heldout: int,
    notes: list[str],
) -> ProbeOutcome | None:
    """The outcome of a probe cut short by Ctrl-C: findings from the measurements so far,
    ``complete`` False; None when it stopped before the generator was checked."""
    if health is None:
        return None
    t, summary = config.thresholds, None
    if series.step:
        summary = summarize(series, t.saturation_accuracy, t.saturation_fake_prob)
    findings = find(summary, health, t)
    last = f"at step {series.step[-1]}" if series.step else "before the first measurement"
    return ProbeOutcome(
        series, summary, health, findings, overall(findings), True,
        f"interrupted (Ctrl-C) {last} of {config.steps}", time.perf_counter() - start,
        train, heldout, config.grad_batches * config.batch_size, notes, complete=False,
    )  # fmt: skip


def _small_data_notes(train: int, heldout: int, config: ProbeConfig) -> list[str]:
    notes = []
    if heldout < config.heldout_min:
        # Binomial standard error of an accuracy near 0.5 on n samples is 0.5 / sqrt(n).
        notes.append(
            f"only {heldout} held-out real samples (fewer than {config.heldout_min}): "
            f"held-out accuracy is uncertain by about +/-{0.5 / math.sqrt(heldout):.2f}"
        )
    return notes
