"""The report with its checkpoints ranked (``--rank``): judge.ranking on each checkpoint's
summary, findings and own D, with the FID the run logged where there is one."""

from __future__ import annotations

import math
from dataclasses import replace

from gandoctor.judge.ranking import Candidate, rank
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.views import short_names


def with_ranking(report: Report) -> Report:
    return replace(report, ranking=rank([_candidate(c) for c in report.checkpoints]))


def _candidate(c: CheckpointReport) -> Candidate:
    o = c.outcome
    return Candidate.of(c.checkpoint, o.summary, o.findings, o.complete,
                        c.own_discriminator is not None, logged_fid(c))  # fmt: skip


def logged_fid(c: CheckpointReport) -> float | None:
    """The FID the run logged for this snapshot (``run_log["fid"]``), where it did."""
    value = c.run_log.get("fid") if c.run_log is not None else None
    return float(value) if isinstance(value, int | float) and math.isfinite(value) else None


RANKING_HEADER = ["rank", "checkpoint", "held-out accuracy [95 %]", "tie group", "own D", "FID"]


def ranking_rows(report: Report) -> list[list[str]]:
    """The ranking's rows, best first, as the terminal, Markdown and HTML show them."""
    ranking = report.ranking
    if ranking is None:
        return []
    short = dict(zip((c.checkpoint for c in report.checkpoints), short_names(report), strict=True))
    rows = []
    for s in ranking.snapshots:
        own = "—" if s.own_d_problems is None else f"{s.own_d_problems} problem(s)"
        if s.own_d_problems == 0:
            own = "healthy"
        rows.append([
            str(s.rank) + ("" if s.checkpoint != ranking.best else " (best)"),
            short.get(s.checkpoint, s.checkpoint),
            f"{s.accuracy:.3f} [{s.low:.3f}, {s.high:.3f}]",
            str(s.group),
            own,
            "—" if s.fid is None else f"{s.fid:.2f}",
        ])  # fmt: skip
    rows += [["—", short.get(name, name), "not ranked", "—", "—", "—"] for name in ranking.unranked]
    return rows


def ranking_lines(report: Report) -> list[str]:
    """The ranking's summary and its FID agreement, in words."""
    ranking = report.ranking
    if ranking is None:
        return []
    lines = [ranking.summary]
    if ranking.fid_agreement is not None:
        lines.append(
            f"the logged FID orders {ranking.fid_agreement:.0%} of the separated pairs the same way"
        )
    return lines
