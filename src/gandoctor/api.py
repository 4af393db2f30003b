"""The library entry points: checkpoint(s) and real data in, a Report out."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from gandoctor import __version__
from gandoctor.config import DataOptions, LoadOptions, ProbeConfig
from gandoctor.data import RealData, load_real_data
from gandoctor.loading import LoadedGenerator, load_generator
from gandoctor.probe import run_probe
from gandoctor.report import CheckpointReport, Report
from gandoctor.verdict import FailOn, parse_fail_on

PathLike = str | os.PathLike[str]
CheckpointProgress = Callable[[str, int, int], None]
"""Called as ``on_progress(checkpoint, step, total_steps)`` after every D step."""


def probe(
    checkpoints: PathLike | Sequence[PathLike],
    data: PathLike,
    *,
    load_options: LoadOptions | None = None,
    data_options: DataOptions | None = None,
    config: ProbeConfig | None = None,
    fail_on: str | FailOn = "fail",
    on_progress: CheckpointProgress | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> Report:
    """Probe each checkpoint against the real data at ``data`` and return the report.

    Every checkpoint gets the same probe settings and seeds. Real data are read once for
    each distinct output shape and range among the generators.
    """
    paths = [checkpoints] if isinstance(checkpoints, str | os.PathLike) else list(checkpoints)
    load_options = load_options or LoadOptions()
    config = config or ProbeConfig(device=load_options.device)
    data_options = data_options or DataOptions(seed=config.seed)
    gate = parse_fail_on(fail_on) if isinstance(fail_on, str) else fail_on
    generators = [load_generator(p, load_options) for p in paths]  # fail fast on bad input
    cache: dict[tuple[object, ...], RealData] = {}
    reports = []
    for path, loaded in zip(paths, generators, strict=True):
        real = _real_data(data, loaded, data_options, cache, on_warning)
        name = str(path)
        progress = (lambda s, t, n=name: on_progress(n, s, t)) if on_progress else None
        outcome = run_probe(loaded.module, loaded.info.latent_shape, real.samples, config, progress)
        reports.append(CheckpointReport(name, loaded.info.to_dict(), real.describe(), outcome))
    return Report(reports, config, gate, __version__)


def _real_data(
    data: PathLike,
    loaded: LoadedGenerator,
    options: DataOptions,
    cache: dict[tuple[object, ...], RealData],
    on_warning: Callable[[str], None] | None,
) -> RealData:
    key = (loaded.info.output_shape, loaded.info.output_range)
    if key not in cache:
        cache[key] = load_real_data(
            Path(data),
            sample_shape=loaded.info.output_shape,
            value_range=loaded.info.output_range,
            options=options,
            on_warning=on_warning,
        )
    return cache[key]
