"""A finding, and everything one probe measured and concluded."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.results.layers import LayerGradients
from gandoctor.results.plan import ProbePlan
from gandoctor.results.sample_images import SampleImages
from gandoctor.results.samples import CollapseStats
from gandoctor.results.series import GeneratorHealth, ProbeSeries, Summary


@dataclass(frozen=True)
class Margin:
    """What decided a finding: a figure, the threshold it was held against, and how far the
    figure itself is uncertain (a 95 % binomial half-width for an accuracy; the spread in
    decades over the measurements a gradient reading is the median of)."""

    figure: str
    value: float
    threshold: float
    uncertainty: float

    @property
    def borderline(self) -> bool:
        """The figure lies within its uncertainty of the threshold: on another runner, seed
        or precision it may land on the other side. An infinite value (a gradient that fell
        to 0) is never borderline."""
        return math.isfinite(self.value) and abs(self.value - self.threshold) <= self.uncertainty


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    remedy: str
    evidence: dict[str, Any] = field(default_factory=dict)
    margin: Margin | None = None
    """None for findings that are not a figure against a threshold (broken, for one)."""

    @property
    def borderline(self) -> bool:
        return self.margin is not None and self.margin.borderline

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "code": str(self.code),
            "severity": str(self.severity),
            "borderline": self.borderline,
        }


@dataclass(frozen=True)
class ProbeOutcome:
    """Everything one probe measured, and what it concluded."""

    series: ProbeSeries
    summary: Summary | None
    """None when the generator was broken before the first D step."""
    health: GeneratorHealth
    findings: list[Finding]
    verdict: Verdict
    stopped_early: bool
    stop_reason: str
    seconds: float
    train_samples: int
    heldout_samples: int
    heldout_latents: int
    notes: list[str] = field(default_factory=list)
    complete: bool = True
    """False when the probe was cut short (time budget, interrupt) before its verdict
    settled: the findings describe the steps that ran, and may change with more."""
    layers: LayerGradients | None = None
    """Per-layer gradient norms (``ProbeConfig.per_layer``); None when not recorded."""
    collapse: CollapseStats | None = None
    """Diversity of generated samples against held-out real ones (analyses.collapse); None for a
    broken generator or too few samples."""
    plan: ProbePlan | None = None
    """How the protocol was cut down to fit the probe's time (probing.plan); None when the
    probe stopped before it was planned (a broken generator)."""
    samples: SampleImages | None = field(default=None, repr=False, compare=False)
    """A grid's worth of generated and held-out real images (``--html``, ``--samples``);
    None where the samples are not images. Not part of the JSON."""
