"""The library entry points: checkpoint(s) and real data in, a Report out."""

from __future__ import annotations

import glob
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from gandoctor import __version__
from gandoctor.config import DataOptions, LoadOptions, ProbeConfig
from gandoctor.data import RealData, load_real_data
from gandoctor.errors import CheckpointError
from gandoctor.gate import FailOn, parse_fail_on
from gandoctor.generator import frozen, mode_matters
from gandoctor.latent import LatentSpec
from gandoctor.loading import LoadedGenerator, load_generator
from gandoctor.measurement import run_probe
from gandoctor.metrics import relative_difference
from gandoctor.report import CheckpointReport, Report

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
    given = [checkpoints] if isinstance(checkpoints, str | os.PathLike) else list(checkpoints)
    paths = expand_checkpoints(given)
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
        outcome = run_probe(
            loaded.module,
            latent_spec(loaded, load_options),
            real.samples,
            config,
            progress,
            output_range=loaded.info.output_range,
        )
        facts = generator_facts(loaded, load_options)
        reports.append(CheckpointReport(name, facts, real.describe(), outcome))
    return Report(reports, config, gate, __version__)


CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".tar", ".ckpt", ".pt2", ".ts")
# A folder holding one of these is one Hugging Face style checkpoint, not a list of them.
_SINGLE_CHECKPOINT_FOLDER = ("config.json", "model.safetensors")


def expand_checkpoints(given: Sequence[PathLike]) -> list[str]:
    """Checkpoint paths from what the user named: files as they are; a folder of
    checkpoints as its checkpoint files; a glob pattern (quoted, so the shell left it) as
    its matches. Folders and globs come in natural order (epoch2 before epoch10)."""
    paths: list[str] = []
    for item in given:
        text = os.fspath(item)
        folder = Path(text)
        if folder.is_dir() and not any((folder / n).exists() for n in _SINGLE_CHECKPOINT_FOLDER):
            found = [str(p) for p in folder.iterdir() if p.suffix in CHECKPOINT_SUFFIXES]
            if not found:
                raise CheckpointError(
                    f"{text}: folder holds no checkpoint ({', '.join(CHECKPOINT_SUFFIXES)})"
                )
            paths += sorted(found, key=_natural)
        elif not folder.exists() and glob.has_magic(text):
            matches = glob.glob(text)
            if not matches:
                raise CheckpointError(f"{text}: no checkpoint matches this pattern")
            paths += sorted(matches, key=_natural)
        else:
            paths.append(text)
    return paths


def _natural(text: str) -> list[object]:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def inspect(path: PathLike, load_options: LoadOptions | None = None) -> dict[str, Any]:
    """What gandoctor detects in a checkpoint, without probing: the loader's facts, how z
    is drawn, and for generators with BatchNorm or dropout how far train-mode outputs are
    from eval-mode ones."""
    load_options = load_options or LoadOptions()
    loaded = load_generator(path, load_options)
    facts = generator_facts(loaded, load_options)
    facts["train_eval_difference"] = None
    if mode_matters(loaded.module):
        spec = latent_spec(loaded, load_options)
        inputs = spec.sample(64, torch.Generator().manual_seed(0), load_options.device)
        with frozen(loaded.module, train_mode=False), torch.no_grad():
            eval_out = loaded.module(*inputs)
            loaded.module.train()  # BatchNorm momentum is 0 under frozen(): stats unchanged
            facts["train_eval_difference"] = relative_difference(loaded.module(*inputs), eval_out)
    return facts


def latent_spec(loaded: LoadedGenerator, options: LoadOptions) -> LatentSpec:
    return LatentSpec(loaded.info.latent_shape, options.latent_distribution, options.num_classes)


def generator_facts(loaded: LoadedGenerator, options: LoadOptions) -> dict[str, Any]:
    """The loader's facts plus how the probe feeds the generator."""
    return {
        **loaded.info.to_dict(),
        "latent_distribution": str(options.latent_distribution),
        "num_classes": options.num_classes,
    }


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
