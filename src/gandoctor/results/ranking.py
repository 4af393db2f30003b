"""A run's snapshots ranked by the classifier two-sample test (judge.ranking ranks them)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class RankedSnapshot:
    checkpoint: str
    rank: int
    """1 for the best; tied snapshots share their group's rank."""
    group: int
    """Tie group, 1 for the best; snapshots whose intervals overlap share one."""
    accuracy: float
    """The fresh D's final held-out accuracy (lower is better, 0.5 is chance)."""
    low: float
    high: float
    """Its 95 % interval."""
    own_d_problems: int | None
    """Own-D findings at warn or fail (d_dominant, d_overfit, penalty_ineffective); None
    where the checkpoint holds no D."""
    fid: float | None
    """The FID the run logged for this snapshot, where it did."""


@dataclass(frozen=True)
class Ranking:
    snapshots: list[RankedSnapshot]
    """In rank order, best first."""
    best: str | None
    """The best snapshot where its interval is separated from every other's; else None."""
    summary: str
    fid_agreement: float | None
    """Share of the snapshot pairs separated by the ranking that the logged FID orders the
    same way (1 = always agrees); None where fewer than two ranked snapshots have a FID."""
    unranked: list[str]
    """Snapshots without a final accuracy (a broken generator, no D step)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "snapshots": [asdict(s) for s in self.snapshots],
            "best": self.best,
            "summary": self.summary,
            "fid_agreement": self.fid_agreement,
            "unranked": self.unranked,
        }
