"""Which snapshot of a run is best: the classifier two-sample test the probe already runs
(Lopez-Paz & Oquab 2017), with its statistics.

Every snapshot is probed with the same fixed protocol (``--rank``: the same steps, seeds,
split and plan, no early stop), so a fresh D's held-out accuracy at the end is one
statistic measured the same way for each: lower means D tells the fakes from the data less
well. Its 95 % Wilson interval (judge.c2st) says how far each reading is to be trusted.
Snapshots whose intervals overlap are tied; a best one is named only where it is separated
from all the others. Within a tie the order goes by the second keys, which do not break
the tie: the checkpoint's own D's health (how many of d_dominant, d_overfit and
penalty_ineffective it shows: 0 is healthiest) and the FID the run logged, where it did.

Pure Python: the figures come from the probes' summaries and findings.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from gandoctor.config import ProbeConfig
from gandoctor.enums import FindingCode, Severity
from gandoctor.results.outcome import Finding
from gandoctor.results.ranking import RankedSnapshot, Ranking
from gandoctor.results.series import Summary

OWN_D_PROBLEMS = (FindingCode.D_DOMINANT, FindingCode.D_OVERFIT, FindingCode.PENALTY_INEFFECTIVE)
WARN_OR_FAIL = (Severity.WARN, Severity.FAIL)


@dataclass(frozen=True)
class Candidate:
    """What the ranking needs of one probed snapshot."""

    checkpoint: str
    accuracy: float
    """The fresh D's final held-out accuracy; NaN where there is none (a broken G)."""
    low: float
    high: float
    """Its 95 % interval (judge.c2st)."""
    problems: frozenset[str]
    """The codes of its findings at warn or fail."""
    complete: bool
    """False for a probe cut short (time, Ctrl-C): not measured at the fixed budget."""
    has_own_d: bool
    fid: float | None = None

    @classmethod
    def of(cls, checkpoint: str, summary: Summary | None, findings: list[Finding],
           complete: bool, has_own_d: bool, fid: float | None = None) -> Candidate:  # fmt: skip
        """From a probe's summary and findings."""
        figures = (
            (summary.final_accuracy, summary.accuracy_low, summary.accuracy_high)
            if summary is not None
            else (math.nan,) * 3
        )
        codes = frozenset(str(f.code) for f in findings if f.severity in WARN_OR_FAIL)
        return cls(checkpoint, *figures, codes, complete, has_own_d, fid)


def rank(candidates: list[Candidate]) -> Ranking:
    """Rank the snapshots by their fresh D's final held-out accuracy (see the module)."""
    readings, unranked = [], []
    for c in candidates:
        if not all(map(math.isfinite, (c.accuracy, c.low, c.high))) or not c.complete:
            unranked.append(c.checkpoint)
            continue
        readings.append((c, c.accuracy, c.low, c.high))
    readings.sort(key=lambda r: r[1])
    groups = _tie_groups([(low, high) for _, _, low, high in readings])
    ranked = []
    for (c, accuracy, low, high), group in zip(readings, groups, strict=True):
        rank_of_group = 1 + sum(1 for g in groups if g < group)
        problems = _own_d_problems(c)
        ranked.append(
            RankedSnapshot(c.checkpoint, rank_of_group, group, accuracy, low, high, problems, c.fid)
        )
    ranked.sort(key=_order_within_ties)
    best = ranked[0].checkpoint if ranked and groups.count(1) == 1 and len(ranked) > 1 else None
    return Ranking(ranked, best, _summary(ranked, best), _fid_agreement(ranked), unranked)


def _tie_groups(intervals: list[tuple[float, float]]) -> list[int]:
    """Group numbers for intervals sorted by their reading: a snapshot joins the group
    before it where its interval overlaps any interval of that group."""
    groups: list[int] = []
    reach = -math.inf  # the highest upper end in the current group
    for low, high in intervals:
        if groups and low <= reach:
            groups.append(groups[-1])
            reach = max(reach, high)
        else:
            groups.append(groups[-1] + 1 if groups else 1)
            reach = high
    return groups


def _order_within_ties(s: RankedSnapshot) -> tuple[int, int, float, float]:
    problems = s.own_d_problems if s.own_d_problems is not None else len(OWN_D_PROBLEMS)
    fid = s.fid if s.fid is not None and math.isfinite(s.fid) else math.inf
    return (s.group, problems, fid, s.accuracy)


def _own_d_problems(c: Candidate) -> int | None:
    if not c.has_own_d:
        return None
    return sum(str(code) in c.problems for code in OWN_D_PROBLEMS)


def _fid_agreement(ranked: list[RankedSnapshot]) -> float | None:
    with_fid = [s for s in ranked if s.fid is not None]
    pairs = [(a, b) for i, a in enumerate(with_fid) for b in with_fid[i + 1 :]
             if a.group != b.group]  # fmt: skip
    if len(with_fid) < 2 or not pairs:
        return None
    # a ranks better than b (lower group): FID agrees where a's FID is lower too.
    agree = sum((a.group < b.group) == (a.fid < b.fid) for a, b in pairs)  # type: ignore[operator]
    return agree / len(pairs)


def _summary(ranked: list[RankedSnapshot], best: str | None) -> str:
    if not ranked:
        return "no snapshot could be ranked"
    if len(ranked) == 1:
        return f"one snapshot ranked: {ranked[0].checkpoint}"
    if best is not None:
        return f"best: {best}, its interval separated from every other snapshot's"
    tied = [s.checkpoint for s in ranked if s.group == 1]
    groups = ranked[-1].group
    return (
        f"no single best: {len(tied)} snapshots tie for first ({', '.join(tied)}); "
        f"{groups} group{'s' if groups > 1 else ''} in all"
    )


def ranking_config(config: ProbeConfig) -> ProbeConfig:
    """The fixed protocol of a ranking: every step run (no early stop, whose stopping point
    depends on the snapshot) and one plan for all, the full protocol unless a level was
    chosen by hand (``--plan N``: a level chosen per snapshot by its timing could differ)."""
    plan = "full" if config.plan == "auto" else config.plan
    return replace(config, early_stop=False, plan=plan)
