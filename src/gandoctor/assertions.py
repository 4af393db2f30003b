"""``gandoctor.check``: the gate as an assertion, for a pytest test or a training script.

    def test_generator_is_healthy():
        gandoctor.check("checkpoints/g.safetensors", "data/", config=ProbeConfig(steps=100))

It probes as :func:`gandoctor.probe` does and raises :class:`GeneratorCheckFailed` (an
``AssertionError``, so pytest shows it as a failed assertion) when the gate fails: a finding
named by ``fail_on``, or a regression against ``baseline``. The message lists each of them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

from gandoctor.config import DataOptions, LoadOptions, ProbeConfig
from gandoctor.judge.gate import FailOn
from gandoctor.report.views import gate_outcome

if TYPE_CHECKING:
    import numpy as np
    import torch
    from torch import nn

    from gandoctor.api import CheckpointProgress
    from gandoctor.report.model import Report

PathLike = str | os.PathLike[str]


class GeneratorCheckFailed(AssertionError):
    """The gate failed; ``report`` holds everything the probe measured."""

    def __init__(self, report: Report) -> None:
        self.report = report
        super().__init__(failure_message(report))


def failure_message(report: Report) -> str:
    """The gate's decision, then one line per finding it names and per regression."""
    lines = [f"gandoctor gate (--fail-on {report.fail_on}): {gate_outcome(report)}"]
    for c in report.checkpoints:
        status = "" if c.outcome.complete else " (partial)"
        for f in c.outcome.findings:
            if report.fail_on.matches(f):
                lines.append(
                    f"  {PurePath(c.checkpoint).name}{status}: {f.code} ({f.severity}): {f.message}"
                )
    if report.baseline is not None:
        for name, regression in report.baseline.regressions:
            lines.append(f"  {PurePath(name).name}: regression: {regression.message}")
    return "\n".join(lines)


def check(
    checkpoints: PathLike | nn.Module | Sequence[PathLike | nn.Module],
    data: PathLike | torch.Tensor | np.ndarray,
    *,
    latent_shape: Sequence[int] | None = None,
    output_range: tuple[float, float] | None = None,
    load_options: LoadOptions | None = None,
    data_options: DataOptions | None = None,
    config: ProbeConfig | None = None,
    fail_on: str | FailOn = "fail",
    baseline: PathLike | None = None,
    on_progress: CheckpointProgress | None = None,
    on_warning: Callable[[str], None] | None = None,
    seeds: int = 1,
) -> Report:
    """Probe like :func:`gandoctor.probe` (same arguments) and return the report when the
    gate passes; raise :class:`GeneratorCheckFailed` when it fails."""
    from gandoctor.api import probe

    report = probe(
        checkpoints, data, latent_shape=latent_shape, output_range=output_range,
        load_options=load_options, data_options=data_options, config=config,
        fail_on=fail_on, baseline=baseline, on_progress=on_progress, on_warning=on_warning,
        seeds=seeds,
    )  # fmt: skip
    if report.exit_code:
        raise GeneratorCheckFailed(report)
    return report
