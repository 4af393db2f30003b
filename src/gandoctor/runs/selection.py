"""Which of a run's snapshots to probe: all that fit the time, thinned evenly with the first
and the last always kept, or by hand (``--every N``, ``--last N``)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gandoctor.errors import ConfigError
from gandoctor.paths import expand_checkpoints
from gandoctor.plans import DEFAULT_CPU_SECONDS
from gandoctor.runs.folders import RunFolder, Snapshot, find_run

SECONDS_PER_SNAPSHOT = DEFAULT_CPU_SECONDS
"""Each snapshot is given at least one checkpoint's default CPU budget (plans): the budget
the plan levels were validated at, where every finding kept its full-protocol value
(README, plan validation). A budget of T seconds therefore probes T / 60 snapshots."""

DEFAULT_RUN_SECONDS = 10 * SECONDS_PER_SNAPSHOT
"""Without ``--max-seconds``, a run folder is thinned to what ten minutes hold: ten
snapshots, enough to see a trend and to rank, in the time a CI job or a look at a run
between experiments allows."""


@dataclass(frozen=True)
class SnapshotChoice:
    """``--every N``: every N-th snapshot; ``--last N``: the last N; both: every N-th of the
    last N. The first and the last of the choice are always kept."""

    every: int | None = None
    last: int | None = None

    def __post_init__(self) -> None:
        for name in ("every", "last"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{{opt:{name}}} must be at least 1, got {value}")

    @property
    def by_hand(self) -> bool:
        return self.every is not None or self.last is not None


@dataclass(frozen=True)
class ChosenRun:
    """A run and the snapshots chosen from it, with how they were chosen, in words."""

    run: RunFolder
    chosen: list[Snapshot]
    how: str

    def to_dict(self, data: object = None) -> dict[str, Any]:
        """``data``: what the probe read (a path, or samples), to say whether it is the data
        set the run names."""
        run = self.run
        used = isinstance(data, str | os.PathLike) and _same(data, run.data_path)
        return {
            "root": run.root,
            "kind": run.kind,
            "options_file": run.options_file,
            "data_named": run.data_named,
            "data_found": run.data_path,
            "data_used": used,
            "snapshots_found": len(run.snapshots),
            "snapshots_probed": [s.to_dict() for s in self.chosen],
            "chosen": self.how,
            "notes": list(run.notes),
        }


def choose(run: RunFolder, choice: SnapshotChoice, max_seconds: float | None) -> ChosenRun:
    """The snapshots to probe, in training order."""
    snapshots = run.snapshots
    if choice.by_hand:
        picked = snapshots[-choice.last :] if choice.last is not None else snapshots
        if choice.every is not None:
            picked = _keep_last(picked[:: choice.every], picked)
        how = _by_hand(choice, len(picked), len(snapshots))
        return ChosenRun(run, picked, how)
    budget = DEFAULT_RUN_SECONDS if max_seconds is None else max_seconds
    fits = max(2, int(budget // SECONDS_PER_SNAPSHOT))
    if len(snapshots) <= fits:
        return ChosenRun(run, list(snapshots), f"all {len(snapshots)} snapshots")
    picked = [snapshots[i] for i in evenly_spaced(len(snapshots), fits)]
    limit = "--max-seconds" if max_seconds is not None else "the default ten minutes"
    how = (
        f"{fits} of {len(snapshots)} snapshots, evenly spaced with the first and the last, "
        f"to fit {limit} (at least {SECONDS_PER_SNAPSHOT:.0f} s each); "
        "--every N or --last N to choose"
    )
    return ChosenRun(run, picked, how)


def evenly_spaced(count: int, keep: int) -> list[int]:
    """``keep`` indices of ``range(count)``, evenly spaced, 0 and count - 1 among them."""
    if keep >= count:
        return list(range(count))
    if keep < 2:
        return [count - 1]
    return sorted({round(i * (count - 1) / (keep - 1)) for i in range(keep)})


def expand_runs(
    given: Sequence[str | os.PathLike[str]],
    choice: SnapshotChoice = SnapshotChoice(),
    max_seconds: float | None = None,
) -> list[tuple[list[str], ChosenRun | None]]:
    """For each item the user named, its checkpoint paths and, for a run folder, the run
    (its chosen snapshots); a folder or glob gives its checkpoints and None. The time
    budget is shared among the runs."""
    found = [(item, find_run(item)) for item in given]
    count = sum(run is not None for _, run in found)
    if choice.by_hand and not count:
        raise ConfigError("{opt:every} and {opt:last} choose snapshots of a training run folder")
    share = None if max_seconds is None else max_seconds / max(1, count)
    expanded: list[tuple[list[str], ChosenRun | None]] = []
    for item, run in found:
        if run is None:
            expanded.append((expand_checkpoints([item]), None))
        else:
            picked = choose(run, choice, share)
            expanded.append(([s.path for s in picked.chosen], picked))
    return expanded


def _keep_last(picked: list[Snapshot], among: list[Snapshot]) -> list[Snapshot]:
    return picked if picked[-1] is among[-1] else [*picked, among[-1]]


def _by_hand(choice: SnapshotChoice, picked: int, found: int) -> str:
    parts = []
    if choice.every is not None:
        parts.append(f"every {choice.every}th with the last")
    if choice.last is not None:
        parts.append(f"of the last {choice.last}")
    return f"{picked} of {found} snapshots: " + " ".join(parts)


def run_data(runs: list[ChosenRun]) -> str | None:
    """The data set named by the first run whose options name one that exists here."""
    return next((r.run.data_path for r in runs if r.run.data_path is not None), None)


def missing_data(runs: list[ChosenRun]) -> str:
    """Why there is no real data to probe against, in one line."""
    named = [f"{r.run.data_named} ({r.run.options_file or r.run.root})" for r in runs
             if r.run.data_named]  # fmt: skip
    if named:
        return f"no real data: the run names {named[0]}, which is not here; pass {{opt:data}}"
    return "no real data: pass {opt:data} (a folder of images, .npy/.npz, a dataset ZIP or LMDB)"


def _same(given: str | os.PathLike[str], named: str | None) -> bool:
    try:
        return named is not None and os.path.samefile(given, named)
    except OSError:
        return False
