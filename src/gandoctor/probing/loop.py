"""The probe: a fresh discriminator trained against a frozen generator, measured as it goes.

``run_probe`` reads top to bottom: draw the split and latents, check the generator, build
a fresh D, train and measure until the schedule ends or the verdict settles, then measure
sample diversity once. ``ProbeState`` holds what has been measured so far, so that every
way out (broken generator, settled verdict, time budget, Ctrl-C) builds the same record.

This module returns data and prints nothing; progress goes through a callback.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from torch import nn

from gandoctor.analyses.collapse import probe_collapse
from gandoctor.analyses.layers import LayerRecorder
from gandoctor.config import ProbeConfig
from gandoctor.enums import Verdict
from gandoctor.errors import ConfigError, DataError
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.judge.verdict import is_settled, overall, unusable
from gandoctor.nn.discriminators import build_probe_discriminator
from gandoctor.nn.generator import check_health, frozen
from gandoctor.nn.latent import LatentSpec, first
from gandoctor.probing.budget import TimeBudget
from gandoctor.probing.interrupt import interruptible
from gandoctor.probing.noise import InstanceNoise
from gandoctor.probing.setup import ProbeDraws, ProgressCallback, draw, measurement_steps, seeded
from gandoctor.probing.steps import HeldoutFakes, measure, train_step
from gandoctor.results.outcome import Finding, ProbeOutcome
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
    spec = LatentSpec.of(latent)
    drawn = draw(real, spec, config, torch.device(config.device))
    _check_batch_size(config, drawn)
    state = ProbeState(config, start, len(drawn.train_real), len(drawn.heldout_real))
    with frozen(generator, config.train_mode) as params, interruptible(state.interrupted):
        _check_output_shape(generator, drawn, tuple(real.shape[1:]))
        state.health = check_health(
            generator, drawn.heldout_latents, drawn.heldout_real, config.train_mode, output_range
        )
        state.findings = find(None, state.health, config.thresholds)
        if unusable(state.findings):
            broken = overall(state.findings) == Verdict.BROKEN
            why = "the generator is broken" if broken else "it works in train mode only"
            state.stop(f"stopped before training D: {why}")
            return state.outcome()
        recorder = LayerRecorder(generator, params) if config.per_layer else None
        disc = fresh_discriminator(tuple(real.shape[1:]), config)
        _train_and_measure(state, generator, disc, params, spec, drawn, recorder, on_progress)
        # Sample diversity once, at the end: it depends on the generator only, not on D.
        collapse = None
        if overall(state.findings) != Verdict.BROKEN:
            collapse = probe_collapse(
                generator, drawn.heldout_latents, drawn.heldout_real, train_subset(drawn)
            )
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


def _train_and_measure(
    state: ProbeState,
    generator: nn.Module,
    disc: nn.Module,
    params: list[nn.Parameter],
    spec: LatentSpec,
    drawn: ProbeDraws,
    recorder: LayerRecorder | None,
    on_progress: ProgressCallback | None,
) -> None:
    """D steps, with a measurement at every scheduled step, until the last step, a NaN, a
    settled verdict or the end of the time budget."""
    config = state.config
    noise = InstanceNoise.of(config)  # None without instance noise: no extra draws
    fakes = HeldoutFakes(generator, drawn.heldout_latents, config)
    optimizer = torch.optim.Adam(disc.parameters(), lr=config.lr, betas=config.betas)
    schedule = set(
        measurement_steps(config.steps, config.measure_growth, config.measure_max_interval)
    )
    budget = TimeBudget(config.max_seconds, state.start)
    for step in range(config.steps + 1):
        if step > 0:
            with budget.step():
                train_step(generator, disc, optimizer, drawn.train_real, spec, config,
                           drawn.rng, noise)  # fmt: skip
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


@dataclass
class ProbeState:
    """What one probe has measured and concluded so far."""

    config: ProbeConfig
    start: float
    """``time.perf_counter()`` when the probe began."""
    train_samples: int
    heldout_samples: int
    series: ProbeSeries = field(default_factory=ProbeSeries)
    health: GeneratorHealth | None = None
    """None until the generator was checked."""
    summary: Summary | None = None
    findings: list[Finding] = field(default_factory=list)
    stop_reason: str = ""
    stopped_early: bool = False
    complete: bool = True

    def __post_init__(self) -> None:
        self.stop_reason = f"ran all {self.config.steps} steps"

    def record(self, step: int, figures: dict[str, float]) -> None:
        """Add one measurement, then summarise and judge the series so far."""
        assert self.health is not None  # measurements start after the generator's check
        self.series.append(step=step, **figures)
        t = self.config.thresholds
        self.summary = self.summarise(self.series)
        if not _last_measurement_finite(self.series):
            self.health = replace(self.health, nonfinite_measurement_step=step)
        self.findings = find(self.summary, self.health, t)

    def summarise(self, series: ProbeSeries) -> Summary:
        t, config = self.config.thresholds, self.config
        heldout = self.heldout_samples, config.grad_batches * config.batch_size
        return summarize(series, t.saturation_accuracy, t.saturation_fake_prob, heldout,
                         t.growth_needs_decline_decades)  # fmt: skip

    def stop(self, reason: str, complete: bool = True) -> None:
        self.stop_reason, self.stopped_early, self.complete = reason, True, complete

    def outcome(self, **extra: Any) -> ProbeOutcome:
        """The record of the probe; ``extra``: its ``layers`` and ``collapse``."""
        assert self.health is not None
        config = self.config
        return ProbeOutcome(
            series=self.series,
            summary=self.summary,
            health=self.health,
            findings=self.findings,
            verdict=overall(self.findings),
            stopped_early=self.stopped_early,
            stop_reason=self.stop_reason,
            seconds=time.perf_counter() - self.start,
            train_samples=self.train_samples,
            heldout_samples=self.heldout_samples,
            heldout_latents=config.grad_batches * config.batch_size,
            notes=_small_data_notes(self.heldout_samples, config),
            complete=self.complete,
            **extra,
        )

    def interrupted(self) -> ProbeOutcome | None:
        """The outcome of a probe cut short by Ctrl-C: findings from the measurements so
        far, ``complete`` False; None when it stopped before the generator was checked."""
        if self.health is None:
            return None
        t, summary = self.config.thresholds, None
        if self.series.step:
            summary = self.summarise(self.series)
        last = f"at step {self.series.step[-1]}" if self.series else "before the first measurement"
        cut = replace(self, summary=summary, findings=find(summary, self.health, t))
        cut.stop(f"interrupted (Ctrl-C) {last} of {self.config.steps}", complete=False)
        return cut.outcome()


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


def _last_measurement_finite(series: ProbeSeries) -> bool:
    last = [v[-1] for name, v in series.to_dict().items() if name not in OPTIONAL_FIGURES]
    return all(math.isfinite(v) for v in last)


def _small_data_notes(heldout: int, config: ProbeConfig) -> list[str]:
    notes = []
    if heldout < config.heldout_min:
        # Binomial standard error of an accuracy near 0.5 on n samples is 0.5 / sqrt(n).
        notes.append(
            f"only {heldout} held-out real samples (fewer than {config.heldout_min}): "
            f"held-out accuracy is uncertain by about +/-{0.5 / math.sqrt(heldout):.2f}"
        )
    return notes
