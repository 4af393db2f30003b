"""The report: what a probe found, as data and as JSON. Rendering lives in report.terminal."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from gandoctor.config import ProbeConfig
from gandoctor.enums import Verdict
from gandoctor.judge.gate import FailOn
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.results.repeats import Repeats

if TYPE_CHECKING:
    from gandoctor.results.baseline import BaselineComparison
    from gandoctor.results.own_discriminator import OwnDiscriminator
    from gandoctor.results.ranking import Ranking
    from gandoctor.results.remedies import RemedyResult

SCHEMA = "gandoctor.report/1"


@dataclass(frozen=True)
class CheckpointReport:
    """One checkpoint: the generator's facts, the data it was probed on, the outcome."""

    checkpoint: str
    generator: dict[str, Any]
    data: dict[str, Any]
    outcome: ProbeOutcome
    remedies: RemedyResult | None = None
    """The remedy checks (``--remedies``, remedies.sweep); None when not run."""
    repeats: Repeats | None = None
    """The probes under more seeds (``--seeds N``); None for one seed. ``outcome`` is then
    the first seed's probe."""
    own_discriminator: OwnDiscriminator | None = None
    """The checkpoint's own D (probing.own_discriminator); None where none was measured."""
    run_log: dict[str, Any] | None = None
    """What the training run logged at this snapshot (runs.logs.RunLog.around, with the
    run-log findings' codes and their agreement with the probe: runs.attach); None where the
    checkpoint is not a snapshot of a run with a log."""

    @property
    def verdict(self) -> Verdict:
        """The probe's verdict; with repeats, the verdict by majority over the seeds."""
        return self.repeats.verdict if self.repeats is not None else self.outcome.verdict

    @property
    def findings(self) -> list[Finding]:
        """What the gate judges: the probe's findings; with repeats, those most seeds had."""
        return self.repeats.findings if self.repeats is not None else self.outcome.findings

    def to_dict(self) -> dict[str, Any]:
        o = self.outcome
        return {
            "checkpoint": self.checkpoint,
            "verdict": str(self.verdict),
            "generator": self.generator,
            "data": self.data,
            "probe": {
                "steps_run": o.summary.steps_run if o.summary else 0,
                "complete": o.complete,
                "stopped_early": o.stopped_early,
                "stop_reason": o.stop_reason,
                "seconds": o.seconds,
                "train_samples": o.train_samples,
                "heldout_samples": o.heldout_samples,
                "heldout_latents": o.heldout_latents,
                "plan": o.plan.to_dict() if o.plan is not None else None,
            },
            "health": o.health.to_dict(),
            "summary": o.summary.to_dict() if o.summary else None,
            "series": o.series.to_dict(),
            "findings": [f.to_dict() for f in o.findings],
            "notes": list(o.notes),
            "collapse": o.collapse.to_dict() if o.collapse is not None else None,
            "layers": o.layers.to_list() if o.layers is not None else None,
            "remedies": self.remedies.to_dict() if self.remedies is not None else None,
            "repeats": self.repeats.to_dict() if self.repeats is not None else None,
            "own_discriminator": (
                self.own_discriminator.to_dict() if self.own_discriminator is not None else None
            ),
            "run_log": self.run_log,
        }


@dataclass(frozen=True)
class Report:
    """All checkpoints of one ``gandoctor probe`` run, and the gate's decision."""

    checkpoints: list[CheckpointReport]
    settings: ProbeConfig
    fail_on: FailOn
    version: str
    baseline: BaselineComparison | None = None
    """The comparison with ``--baseline``; its regressions also fail the gate."""
    config_file: str | None = None
    """The pyproject.toml whose ``[tool.gandoctor]`` table set options, if any."""
    runs: list[dict[str, Any]] = field(default_factory=list)
    """The training run folders among the checkpoints, with the snapshots chosen from each
    (runs.selection.ChosenRun.to_dict); empty where none was given."""
    run_curves: list[dict[str, Any]] = field(default_factory=list, repr=False, compare=False)
    """The logged curves of each run whose log was read (runs.logs.RunLog.curves), for the
    plot; not part of the JSON, whose ``checkpoints[i].run_log`` holds the values at each
    snapshot."""
    ranking: Ranking | None = None
    """The checkpoints ranked by the classifier two-sample test (``--rank``,
    judge.ranking); None without it."""

    @property
    def verdict(self) -> Verdict:
        return Verdict.worst(c.verdict for c in self.checkpoints)

    @property
    def complete(self) -> bool:
        """False when any checkpoint's probe was cut short before its verdict settled."""
        return all(c.outcome.complete for c in self.checkpoints)

    @property
    def gate_failures(self) -> list[tuple[str, str]]:
        """(checkpoint, finding code) for every finding named by ``fail_on``."""
        return [
            (c.checkpoint, str(f.code))
            for c in self.checkpoints
            for f in c.findings
            if self.fail_on.matches(f)
        ]

    @property
    def exit_code(self) -> int:
        """0 when the gate passes, 1 when a finding named by ``fail_on`` was found or
        the training signal regressed against the baseline."""
        regressed = self.baseline is not None and self.baseline.regressed
        return 1 if self.gate_failures or regressed else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": self.version,
            "verdict": str(self.verdict),
            "complete": self.complete,
            "exit_code": self.exit_code,
            "fail_on": str(self.fail_on),
            "settings": asdict(self.settings),
            "checkpoints": [c.to_dict() for c in self.checkpoints],
            "baseline": self.baseline.to_dict() if self.baseline is not None else None,
            "config_file": self.config_file,
            "runs": self.runs,
            "ranking": self.ranking.to_dict() if self.ranking is not None else None,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return strict_json(self.to_dict(), indent)


def strict_json(value: Any, indent: int | None = 2) -> str:
    """Strict JSON: NaN and infinities (a broken generator's figures) become null."""
    return json.dumps(_finite(value), indent=indent, allow_nan=False)


def _finite(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
