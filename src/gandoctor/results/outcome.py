"""A finding, and everything one probe measured and concluded."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from gandoctor.enums import FindingCode, Severity, Verdict
from gandoctor.results.layers import LayerGradients
from gandoctor.results.samples import CollapseStats
from gandoctor.results.series import GeneratorHealth, ProbeSeries, Summary


@dataclass(frozen=True)
class Finding:
    code: FindingCode
    severity: Severity
    message: str
    remedy: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "code": str(self.code), "severity": str(self.severity)}


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
