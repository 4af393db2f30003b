"""The library entry points: checkpoint(s) and real data in, a Report out."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from gandoctor._version import __version__
from gandoctor.config import DataOptions, LoadOptions, ProbeConfig, RemedyOptions
from gandoctor.data import RealData
from gandoctor.data.labels import conditioned
from gandoctor.data.reader import DataSource, RealDataReader
from gandoctor.errors import ConfigError
from gandoctor.judge.baseline import compare, match
from gandoctor.judge.gate import FailOn, parse_fail_on
from gandoctor.judge.ranking import ranking_config
from gandoctor.loading import LoadedGenerator, load_generator
from gandoctor.loading.generator.guard import guard_forward
from gandoctor.loading.generator.in_memory import (
    check_device,
    load_module,
    module_device,
)
from gandoctor.nn.generator import frozen, mode_matters
from gandoctor.nn.latent import LatentSpec
from gandoctor.nn.metrics import relative_difference
from gandoctor.probing import own_discriminator as own_d
from gandoctor.probing.budget import share_budget
from gandoctor.probing.interrupt import ProbeInterrupted
from gandoctor.probing.loop import run_probe
from gandoctor.remedies.sweep import with_remedies
from gandoctor.report.model import CheckpointReport, Report
from gandoctor.report.ranked import with_ranking
from gandoctor.report.saved import load_baseline
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.results.repeats import Repeats
from gandoctor.runs.attach import with_run_logs
from gandoctor.runs.expand import generator_items, item_names
from gandoctor.runs.selection import SnapshotChoice, missing_data, run_data
from gandoctor.runtime.allocator import release_freed_memory
from gandoctor.runtime.devices import resolve_device
from gandoctor.runtime.precision import resolve_precision
from gandoctor.runtime.threads import choose_threads

PathLike = str | os.PathLike[str]
Generator = PathLike | nn.Module
CheckpointProgress = Callable[[str, int, int], None]  # (checkpoint, step, total) per D step


class ProbeInterruptedWithReport(ProbeInterrupted):
    """Ctrl-C during :func:`probe`: the outcome under way, and the report of every
    checkpoint probed so far (None when none got that far)."""

    def __init__(self, outcome: ProbeOutcome | None, report: Report | None):
        super().__init__(outcome)
        self.report = report


def probe(
    checkpoints: Generator | Sequence[Generator],
    data: DataSource | None = None,
    *,
    val_data: DataSource | None = None,
    latent_shape: Sequence[int] | None = None,
    output_range: tuple[float, float] | None = None,
    load_options: LoadOptions | None = None,
    data_options: DataOptions | None = None,
    config: ProbeConfig | None = None,
    fail_on: str | FailOn = "fail",
    baseline: PathLike | None = None,
    on_progress: CheckpointProgress | None = None,
    on_warning: Callable[[str], None] | None = None,
    remedies: RemedyOptions | None = None,
    seeds: int = 1,
    on_note: Callable[[str], None] | None = None,
    snapshots: SnapshotChoice | None = None,
    rank: bool = False,
) -> Report:
    """Probe each generator against the real data and return the report.
    ``checkpoints``: checkpoint paths (files, folders of checkpoints, quoted globs) and/or
    ``torch.nn.Module`` generators, which are probed where they are and left as they were.
    ``data``: a folder of images (class folders as labels), an NVlabs dataset ``.zip``, a
    rosinality LMDB, a ``.npy``/``.npz`` file, or a tensor/array of real samples shaped like
    the generator's output and already in its value range. Where the data carry labels, a
    conditional generator's fakes get labels at the data's class frequencies.
    ``val_data``: real samples the GAN never trained on (``--val-data``), read like ``data``:
    the checkpoint's own D is asked how it scores them against ``data`` (its r_v).
    ``latent_shape`` and ``output_range`` override what is detected (``--latent-shape``,
    ``--output-range``). ``fail_on`` is the gate (``gandoctor.judge.gate``); ``baseline`` a saved
    JSON report whose regressions also fail it (``gandoctor.judge.baseline``).
    Every generator gets the same probe settings and seeds; ``config.max_seconds`` is one
    budget for the whole call, shared equally among the generators still to probe. Real
    data are read once for each distinct output shape and range among the generators.
    ``remedies``: also run the remedy checks (remedies.sweep) after each probe; each of their
    runs gets the time a probe of that generator would get.
    ``seeds``: probe each generator under seeds ``config.seed`` .. ``config.seed + seeds - 1``
    on the data read once; the verdict and the gate go by the majority
    (``results.repeats``). ``config.max_seconds`` is shared among all of those probes.
    ``on_note`` hears the thread count and each probe's plan with its predicted time, and
    what loading changed itself (a stripped prefix, ...: ``generator.details.notes``).
    A training run's folder (NVlabs, rosinality, Lightning: runs.folders) stands for its
    snapshots in training order, thinned to fit the time or chosen by ``snapshots``
    (runs.selection); ``data`` may then be None where the run's options name a data set
    that exists here. The report's ``runs`` says what was found and chosen. ``rank``:
    probe every generator with one fixed protocol and rank them (judge.ranking).
    """
    if seeds < 1:
        raise ConfigError(f"{{opt:seeds}} must be at least 1, got {seeds}")
    started = time.perf_counter()
    items, runs = generator_items(checkpoints, snapshots, config.max_seconds if config else None)
    data = data if data is not None else run_data(runs)
    if data is None:
        raise ConfigError(missing_data(runs))
    load_options = _with_overrides(load_options or LoadOptions(), latent_shape, output_range)
    load_options = replace(load_options, device=resolve_device(load_options.device))
    config = _probe_config(config, items, load_options)
    config = ranking_config(config) if rank else config
    threads = choose_threads(config.threads, torch.get_num_threads())
    config = replace(config, threads=threads.threads)
    load_note = on_note  # what loading changed, said as it is (loading.generator.notes)
    if on_note is not None:  # the thread count beside each plan, not a line of its own
        plural = "s" if threads.threads > 1 else ""
        tell, count = on_note, f"{threads.threads} thread{plural} ({threads.reason})"
        on_note = lambda message: tell(f"{message}; {count}")  # noqa: E731
    data_options = data_options or DataOptions(seed=config.seed)
    gate = parse_fail_on(fail_on) if isinstance(fail_on, str) else fail_on
    names = item_names(items)
    saved = load_baseline(baseline) if baseline is not None else None
    if saved is not None:
        match(names, saved)  # a baseline that fits no generator fails before the probe
    loads = zip(items, names, strict=True)
    generators = [_load(i, n, load_options, config, load_note) for i, n in loads]
    reader = RealDataReader(data_options, on_warning)
    reports: list[CheckpointReport] = []
    found = [run.to_dict(data) for run in runs]
    try:
        for index, (name, loaded) in enumerate(zip(names, generators, strict=True)):
            shape, value_range = loaded.info.output_shape, loaded.info.output_range
            real = reader.read(data, shape, value_range)
            unseen = reader.read(val_data, shape, value_range) if val_data is not None else None
            # The k-th probe of this generator shares the time left with all probes to come.
            probes_left = (len(names) - index) * seeds
            budget_for = lambda k, n=probes_left: share_budget(config, started, n - k)  # noqa: E731
            budgeted = lambda b=budget_for: b(0)  # noqa: E731
            _probe_one(name, loaded, real, unseen, load_options, budgeted, on_progress, remedies,
                       reports, on_note)  # fmt: skip
            if seeds > 1:
                reports[-1] = _with_repeats(reports[-1], loaded, real, load_options, budget_for,
                                            seeds)  # fmt: skip
            release_freed_memory()  # what the probe freed, back to the system (allocator)
    except KeyboardInterrupt as interrupt:
        # The checkpoints probed so far, the one cut short marked incomplete (probing.interrupt).
        partial = Report(reports, config, gate, __version__, runs=found) if reports else None
        raise ProbeInterruptedWithReport(getattr(interrupt, "outcome", None), partial) from None
    report = Report(reports, config, gate, __version__, runs=found)
    report = with_run_logs(report, runs, on_warning)  # first: the ranking reads their FID
    report = with_ranking(report) if rank else report
    if saved is None:
        return report
    probed = [(c.checkpoint, c.outcome) for c in reports]
    return replace(report, baseline=compare(probed, config, saved))


def _probe_one(
    name: str,
    loaded: LoadedGenerator,
    real: RealData,
    unseen: RealData | None,
    load_options: LoadOptions,
    budgeted: Callable[[], ProbeConfig],
    on_progress: CheckpointProgress | None,
    remedies: RemedyOptions | None,
    reports: list[CheckpointReport],
    on_note: Callable[[str], None] | None = None,
) -> None:
    """Probe one generator (and its remedy checks), adding its report to ``reports`` (on
    Ctrl-C that of the steps that ran). ``budgeted()``: settings with its time share."""
    progress = (lambda s, t: on_progress(name, s, t)) if on_progress else None
    facts = generator_facts(loaded, load_options)
    spec, output_range = latent_spec(loaded, load_options, real), loaded.info.output_range
    try:
        outcome = run_probe(loaded.module, spec, real.samples, budgeted(), progress, output_range,
                            on_note)  # fmt: skip
    except ProbeInterrupted as interrupt:  # Ctrl-C: keep the steps that ran
        if (cut := interrupt.outcome) is not None:
            reports.append(CheckpointReport(name, facts, real.describe(), cut))
        raise
    checks = None
    if remedies is not None:
        outcome, checks = with_remedies(
            loaded.module, spec, real.samples, budgeted(), outcome, remedies, output_range,
            on_progress, name,
        )  # fmt: skip
    own, outcome = own_d.with_own_discriminator(loaded, spec, real.samples, budgeted(), outcome,
                                                load_options, unseen)  # fmt: skip
    reports.append(CheckpointReport(name, facts, real.describe(), outcome, remedies=checks,
                                    own_discriminator=own))  # fmt: skip


def _with_repeats(
    report: CheckpointReport,
    loaded: LoadedGenerator,
    real: RealData,
    load_options: LoadOptions,
    budget_for: Callable[[int], ProbeConfig],
    seeds: int,
) -> CheckpointReport:
    """The report with the probes under the next ``seeds - 1`` seeds added as repeats;
    ``budget_for(k)`` gives the k-th probe's settings with its share of the time left."""
    first = budget_for(0).seed
    outcomes = [report.outcome]
    for k, seed in enumerate(range(first + 1, first + seeds), start=1):
        config = replace(budget_for(k), seed=seed)
        spec, output_range = latent_spec(loaded, load_options, real), loaded.info.output_range
        outcomes.append(run_probe(loaded.module, spec, real.samples, config, None, output_range))
    return replace(report, repeats=Repeats(list(range(first, first + seeds)), outcomes))


def _probe_config(
    config: ProbeConfig | None, items: list[str | nn.Module], load_options: LoadOptions
) -> ProbeConfig:
    """The probe's settings with device and precision resolved; without settings, the
    defaults on the device of the first module given (else the loading device)."""
    modules = [item for item in items if isinstance(item, nn.Module)]
    device = str(module_device(modules[0])) if modules else load_options.device
    config = config or ProbeConfig(device=device)
    config = replace(config, device=resolve_device(config.device))
    return replace(config, precision=resolve_precision(config.precision, config.device))


def _with_overrides(
    options: LoadOptions,
    latent_shape: Sequence[int] | None,
    output_range: tuple[float, float] | None,
) -> LoadOptions:
    if latent_shape is not None:
        options = replace(options, latent_shape=tuple(latent_shape))
    if output_range is not None:
        options = replace(options, output_range=output_range)
    return options


def _load(
    item: str | nn.Module, name: str, options: LoadOptions, config: ProbeConfig,
    tell: Callable[[str], None] | None = None,
) -> LoadedGenerator:  # fmt: skip
    if isinstance(item, nn.Module):
        check_device(name, item, config)
        return load_module(item, name, options)
    loaded = load_generator(item, options)
    guard_forward(loaded.module, name)  # the file's code failing later: one line (guard.py)
    for note in loaded.info.details.get("notes", []) if tell else []:  # loading's own changes
        tell(f"{name}: {note}")  # type: ignore[misc]  # tell is set where notes are read
    return loaded


def inspect(path: PathLike, load_options: LoadOptions | None = None) -> dict[str, Any]:
    """What gandoctor sees in a checkpoint, unprobed: the loader's facts, how z is drawn."""
    load_options = load_options or LoadOptions()
    loaded = load_generator(path, load_options)
    guard_forward(loaded.module, os.fspath(path))
    facts = generator_facts(loaded, load_options)
    facts["own_discriminator"] = own_d.describe_own_discriminator(loaded, load_options)
    facts["train_eval_difference"] = None
    if mode_matters(loaded.module):
        spec = latent_spec(loaded, load_options)
        inputs = spec.sample(64, torch.Generator().manual_seed(0), load_options.device)
        with frozen(loaded.module, train_mode=False), torch.no_grad():
            eval_out = loaded.module(*inputs)
            loaded.module.train()  # BatchNorm momentum is 0 under frozen(): stats unchanged
            facts["train_eval_difference"] = relative_difference(loaded.module(*inputs), eval_out)
    return facts


def latent_spec(
    loaded: LoadedGenerator, options: LoadOptions, real: RealData | None = None
) -> LatentSpec:
    """How G is fed; a conditional G's labels at the class frequencies of ``real`` where
    the data carry labels (data.labels), uniform otherwise."""
    spec = LatentSpec(
        loaded.info.latent_shape,
        loaded.info.distribution(options.latent_distribution),
        loaded.info.classes(options.num_classes),
    )
    return spec if real is None else conditioned(spec, real)


def generator_facts(loaded: LoadedGenerator, options: LoadOptions) -> dict[str, Any]:
    """The loader's facts plus how the probe feeds the generator."""
    return {
        **loaded.info.to_dict(),
        "latent_distribution": str(loaded.info.distribution(options.latent_distribution)),
        "num_classes": loaded.info.classes(options.num_classes),
    }
