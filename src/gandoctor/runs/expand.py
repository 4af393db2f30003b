"""What the library's ``probe`` is given as generators: modules as they are, paths expanded
(folders of checkpoints, globs), training run folders replaced by their chosen snapshots."""

from __future__ import annotations

import os
from collections.abc import Sequence

from torch import nn

from gandoctor.errors import ConfigError
from gandoctor.runs.selection import ChosenRun, SnapshotChoice, expand_runs

Generator = str | os.PathLike[str] | nn.Module | ChosenRun
"""A checkpoint path (file, folder, glob, run folder), a module, or a run whose snapshots
were already chosen (the command line chooses them before the probe, to check its outputs)."""


def generator_items(
    given: Generator | Sequence[Generator],
    choice: SnapshotChoice | None = None,
    max_seconds: float | None = None,
) -> tuple[list[str | nn.Module], list[ChosenRun]]:
    """The generators in order, and the runs whose snapshots are among them. An
    nn.Sequential is one module, not a sequence of generators."""
    one = str | os.PathLike | nn.Module | ChosenRun
    listed = [given] if isinstance(given, one) else list(given)
    for item in listed:
        if not isinstance(item, one):
            raise ConfigError(
                f"expected checkpoint paths or torch.nn.Module generators, got {item!r}"
            )
    paths = [item for item in listed if isinstance(item, str | os.PathLike)]
    expanded = iter(expand_runs(paths, choice or SnapshotChoice(), max_seconds))
    # Every item keeps its place; each path became one or more paths.
    items: list[str | nn.Module] = []
    runs: list[ChosenRun] = []
    for item in listed:
        if isinstance(item, nn.Module):
            items.append(item)
            continue
        group, run = (
            ([s.path for s in item.chosen], item) if isinstance(item, ChosenRun) else next(expanded)
        )
        items += group
        runs += [run] if run is not None else []
    return items, runs


def item_names(items: list[str | nn.Module]) -> list[str]:
    """Paths as given; modules by their class, numbered where classes repeat."""
    from gandoctor.loading.generator.in_memory import module_names

    modules = [item for item in items if isinstance(item, nn.Module)]
    module_name = dict(zip(map(id, modules), module_names(modules), strict=True))
    return [module_name[id(i)] if isinstance(i, nn.Module) else str(i) for i in items]
