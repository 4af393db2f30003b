"""What one probe has measured and concluded so far: every way out of the loop (a broken
generator, a settled verdict, the time budget, Ctrl-C) builds the same record from it."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

from gandoctor.config import ProbeConfig
from gandoctor.judge.rules import find
from gandoctor.judge.summarise import summarize
from gandoctor.judge.verdict import overall
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.results.plan import ProbePlan
from gandoctor.results.sample_images import SampleImages
from gandoctor.results.series import OPTIONAL_FIGURES, GeneratorHealth, ProbeSeries, Summary


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
    plan: ProbePlan | None = None
    """None until the probe was planned (just before D's first step)."""
    summary: Summary | None = None
    samples: SampleImages | None = None
    """The images shown in the HTML report; None until the generator made its samples."""
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
            plan=self.plan,
            samples=self.samples,
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
