"""A run's own log beside the probe's figures: each checkpoint of the report that is a
snapshot of the run gets what the run logged there (``run_log``), the run-log findings
(judge.run_log) with its verdict judged again, and, for a logged collapse, whether the
probe's fresh D and the checkpoint's own D agree; the report keeps the logged curves for
the plot."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

from gandoctor.enums import FindingCode
from gandoctor.errors import CheckpointError
from gandoctor.judge.run_log import Agreement, collapse_agreement, logged_findings
from gandoctor.judge.verdict import overall
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.results.outcome import Finding, ProbeOutcome
from gandoctor.runs.folders import RunFolder, Snapshot
from gandoctor.runs.logs import RunLog
from gandoctor.runs.nvlabs_logs import metric_files, read_nvlabs
from gandoctor.runs.selection import ChosenRun
from gandoctor.runs.tensorboard import read_tensorboard
from gandoctor.thresholds import Thresholds


def read_run_log(run: RunFolder) -> RunLog | None:
    """The run's own log: stats.jsonl and metric-*.jsonl for an NVlabs run, else the
    TensorBoard event files in the run folder (NVlabs runs write them too); None where it
    has none. Raises CheckpointError where there are event files and tbparse is missing."""
    root = Path(run.root)
    if run.kind == "nvlabs" and ((root / "stats.jsonl").is_file() or metric_files(root)):
        return read_nvlabs(root, run.options)
    return read_tensorboard(root, run.options)


def attach_run_logs(report: Report, run: RunFolder, log: RunLog | None) -> Report:
    """``report`` with ``run``'s log beside the probe's figures at each of its snapshots
    (``checkpoints[i].run_log``), the run-log findings among each one's findings, the notes
    of the reading on the last one, and the logged curves in ``run_curves``. Checkpoints
    that are not snapshots of ``run`` are left as they are; so is the report, without a
    log."""
    if log is None:
        return report
    t = report.settings.thresholds
    snapshots = {_same(s.path): s for s in run.snapshots}
    checkpoints = list(report.checkpoints)
    attached: list[tuple[int, Snapshot]] = []
    for i, c in enumerate(checkpoints):
        snapshot = snapshots.get(_same(c.checkpoint))
        if snapshot is not None:
            checkpoints[i] = with_run_log(c, snapshot, log, t)
            attached.append((i, snapshot))
    if attached and log.notes:
        last = attached[-1][0]
        notes = [f"run log of {run.root}: {note}" for note in log.notes]
        c = checkpoints[last]
        checkpoints[last] = replace(c, outcome=replace(c.outcome, notes=[*c.outcome.notes,
                                                                          *notes]))  # fmt: skip
    probed = [x for _, s in attached if (x := log.position_of(s)) is not None]
    curves = log.curves(run.root, probed)
    return replace(report, checkpoints=checkpoints, run_curves=[*report.run_curves, curves])


def with_run_log(
    c: CheckpointReport, snapshot: Snapshot, log: RunLog, t: Thresholds
) -> CheckpointReport:
    """One checkpoint with what the run logged at ``snapshot`` and the findings of that."""
    around = log.around(snapshot)
    if around is None:
        return c
    at = log.logged_at(snapshot)
    found = logged_findings(at, t) if at is not None else []
    agreement: Agreement | None = None
    for i, f in enumerate(found):
        if f.code == FindingCode.D_LOSS_COLLAPSE:
            agreement = collapse_agreement(f, c.findings, c.own_discriminator is not None)
            found[i] = replace(f, message=f"{f.message}; {agreement.text}")
    run_log = {
        **around,
        "findings": [str(f.code) for f in found],
        "agreement": agreement.to_dict() if agreement is not None else None,
        "notes": list(log.notes),
    }
    repeats = c.repeats
    if repeats is not None:
        repeats = replace(repeats, outcomes=[_with(o, found) for o in repeats.outcomes])
    return replace(c, outcome=_with(c.outcome, found), repeats=repeats, run_log=run_log)


def _with(outcome: ProbeOutcome, added: Sequence[Finding]) -> ProbeOutcome:
    """``outcome`` with the run-log findings added and its verdict judged again."""
    if not added:
        return outcome
    findings = [*outcome.findings, *added]
    return replace(outcome, findings=findings, verdict=overall(findings))


def _same(path: str) -> str:
    """One spelling per file: the checkpoint as given and the snapshot as found."""
    return os.path.normcase(os.path.realpath(os.path.abspath(path)))


def with_run_logs(
    report: Report, runs: Sequence[ChosenRun], on_warning: Callable[[str], None] | None = None
) -> Report:
    """The report with each run's own logs beside its snapshots. A run whose event files
    need tbparse where it is not installed is probed without its logs, with a warning."""
    for chosen in runs:
        try:
            log = read_run_log(chosen.run)
        except CheckpointError as error:
            if on_warning is not None:
                on_warning(f"{chosen.run.root}: the run's logs are not read: {error}")
            continue
        report = attach_run_logs(report, chosen.run, log)
    return report
