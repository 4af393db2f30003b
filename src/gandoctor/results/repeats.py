"""Repeats (``--seeds N``): the same probe under N seeds, and what they agree on.

A seed draws the held-out split, the latents and D's initial weights, so one probe is one
draw of the diagnosis. Over N of them each headline figure is given as its median with its
range, each finding with the number of runs that had it, and the verdict by majority.
Pure Python.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from typing import Any

from gandoctor.enums import Verdict
from gandoctor.results.outcome import Finding, ProbeOutcome

FIGURES = (
    "steps_to_saturation",
    "final_accuracy",
    "final_d_fake",
    "minimax_decades_lost",
    "nonsat_growth_after_peak",
)
"""The headline figures summarised over the seeds."""


@dataclass(frozen=True)
class Repeats:
    """The probes of one checkpoint under seeds ``seeds`` (the first is the report's own)."""

    seeds: list[int]
    outcomes: list[ProbeOutcome]

    @property
    def votes(self) -> Counter[Verdict]:
        return Counter(o.verdict for o in self.outcomes)

    @property
    def verdict(self) -> Verdict:
        """The verdict most runs reached; between equally many, the worse one (a tie is
        no reason to pass a gate)."""
        counts = self.votes
        top = max(counts.values())
        return Verdict.worst(v for v, n in counts.items() if n == top)

    @property
    def finding_counts(self) -> dict[str, int]:
        """``code:severity`` -> how many runs had that finding."""
        counts: Counter[str] = Counter()
        for outcome in self.outcomes:
            counts.update({f"{f.code}:{f.severity}" for f in outcome.findings})
        return dict(sorted(counts.items()))

    @property
    def findings(self) -> list[Finding]:
        """The findings more than half of the runs had (code and severity), each as the
        first run that had it reported it: what the gate judges."""
        counts = self.finding_counts
        kept: dict[str, Finding] = {}
        for outcome in self.outcomes:
            for f in outcome.findings:
                key = f"{f.code}:{f.severity}"
                if counts[key] * 2 > len(self.outcomes):
                    kept.setdefault(key, f)
        return list(kept.values())

    def figures(self) -> dict[str, dict[str, float | None]]:
        """Each headline figure's median, minimum and maximum over the runs that have it."""
        out: dict[str, dict[str, float | None]] = {}
        for name in FIGURES:
            values = [
                float(v)
                for o in self.outcomes
                if o.summary is not None and (v := getattr(o.summary, name)) is not None
            ]
            out[name] = {
                "median": statistics.median(values) if values else None,
                "min": min(values) if values else None,
                "max": max(values) if values else None,
                "runs": len(values),
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "seeds": self.seeds,
            "verdict": str(self.verdict),
            "votes": {str(v): n for v, n in self.votes.items()},
            "finding_counts": self.finding_counts,
            "figures": self.figures(),
            "per_seed": [
                {
                    "seed": seed,
                    "verdict": str(o.verdict),
                    "summary": o.summary.to_dict() if o.summary else None,
                    "series": o.series.to_dict(),
                    "findings": [f.to_dict() for f in o.findings],
                }
                for seed, o in zip(self.seeds, self.outcomes, strict=True)
            ],
        }
