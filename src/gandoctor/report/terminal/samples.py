"""Table rows for sample diversity (collapse.py) and D overfitting (overfitting.py)."""

from __future__ import annotations

import math
from collections.abc import Callable

from gandoctor.report.model import CheckpointReport

Cell = Callable[[CheckpointReport], str]


def _number(value: float | None, spec: str, suffix: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return format(value, spec) + suffix


def _collapse(spec: str, *names: str, suffix: str = "") -> Cell:
    """Figures of the checkpoint's CollapseStats, or "—" where it was not measured."""

    def cell(c: CheckpointReport) -> str:
        stats = c.outcome.collapse
        if stats is None:
            return "—"
        return " / ".join(_number(getattr(stats, name), spec, suffix) for name in names)

    return cell


def _overfit(*names: str) -> Cell:
    def cell(c: CheckpointReport) -> str:
        s = c.outcome.summary
        return " / ".join(_number(getattr(s, n), ".2f") if s else "—" for n in names)

    return cell


SAMPLE_ROWS: list[tuple[str, Cell]] = [
    ("sample diversity (generated / real)", _collapse(".2f", "diversity_ratio")),
    (
        "near-duplicate pairs (generated / real)",
        _collapse(".1%", "duplicate_rate", "real_duplicate_rate"),
    ),
    ("precision / coverage (k-NN, k = 5)", _collapse(".3f", "precision", "coverage")),
    ("D overfitting r_t / r_v", _overfit("final_overfit_rt", "final_overfit_rv")),
]
"""Rows of the single-checkpoint table."""

SAMPLE_COLUMNS: list[tuple[str, Cell]] = [
    ("diversity", _collapse(".2f", "diversity_ratio")),
    ("dups", _collapse(".1f", "duplicate_ratio", suffix="x")),  # times the real rate
    ("coverage", _collapse(".2f", "coverage")),
    ("r_v", _overfit("final_overfit_rv")),
]
"""Columns of the comparison table."""
