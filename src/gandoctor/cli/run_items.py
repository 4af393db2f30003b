"""What ``gandoctor probe`` is given: checkpoint paths, and each training run folder as its
chosen snapshots; the data set a run names; this process's share under ``--shard``."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from gandoctor.cli.outputs import Outputs


def expand(
    checkpoints: list[Path], every: int | None, last: int | None, max_seconds: float | None
) -> tuple[list[Any], list[str], list[Any]]:
    """What the probe is given (paths, and each run folder as its chosen snapshots), every
    checkpoint path (to check the outputs against), and the runs."""
    from gandoctor.runs.selection import SnapshotChoice, expand_runs

    expanded = expand_runs(checkpoints, SnapshotChoice(every, last), max_seconds)
    items = [item for group, run in expanded for item in ([run] if run else group)]
    paths = [path for group, _ in expanded for path in group]
    return items, paths, [run for _, run in expanded if run is not None]


def run_data(runs: list[Any], tell: Callable[[str], None] | None) -> Path:
    """The data set a run's options name, said on stderr; no run, or none found: exit 2."""
    from gandoctor.errors import ConfigError
    from gandoctor.runs.selection import missing_data
    from gandoctor.runs.selection import run_data as named_data

    found = named_data(runs)
    if found is None:
        raise ConfigError(missing_data(runs))
    if tell is not None:
        source = next(r.run.options_file or r.run.root for r in runs if r.run.data_path == found)
        tell(f"real data from {source}: {found}")
    return Path(found)


def share(
    items: list[Any], paths: list[str], shard: str | None, outputs: Outputs, device: str
) -> tuple[list[Any], Outputs, str]:
    """What this process probes, its outputs and its device: everything as given, or with
    ``--shard`` this rank's share of the checkpoints (a run's snapshots one by one),
    outputs named by rank, and its GPU."""
    if shard is None:
        return items, outputs, device
    from gandoctor.cli.sharding import parse_shard
    from gandoctor.runtime.devices import resolve_device

    share = parse_shard(shard, os.environ)
    by_rank = lambda path: None if path is None else Path(str(share.path(str(path))))  # noqa: E731
    named = replace(outputs, json=share.path(outputs.json), markdown=share.path(outputs.markdown),
                    html=by_rank(outputs.html), samples=by_rank(outputs.samples))  # fmt: skip
    return share.take(paths), named, share.device(resolve_device(device))
