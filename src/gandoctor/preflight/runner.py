"""``run_preflight``: build or load the generator, read the data, run every check."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gandoctor._version import __version__
from gandoctor.config import DataOptions, LoadOptions, PreflightConfig
from gandoctor.data import load_real_data
from gandoctor.enums import FindingCode, Severity
from gandoctor.loading import LoadedGenerator, load_generator
from gandoctor.nn.generator import check_health, frozen
from gandoctor.nn.latent import LatentSpec
from gandoctor.preflight.build import build_discriminator, build_untrained
from gandoctor.preflight.checks import (
    batch_of_one_check,
    finite_check,
    mode_check,
    range_check,
    shape_check,
    uses_z_check,
)
from gandoctor.preflight.gradflow import gradient_flow
from gandoctor.preflight.rawdata import RawData, read_raw
from gandoctor.preflight.result import Check, PreflightReport, Status
from gandoctor.probing.loop import run_probe
from gandoctor.probing.setup import draw, heldout_latents
from gandoctor.results.outcome import ProbeOutcome

PathLike = str | os.PathLike[str]

# Findings with a row of their own among the static checks.
_COVERED = {FindingCode.MODE_MISMATCH, FindingCode.RANGE_MISMATCH}


def run_preflight(
    checkpoint: PathLike | None,
    data: PathLike,
    *,
    load_options: LoadOptions,
    config: PreflightConfig | None = None,
    disc: str | None = None,
    disc_kwargs: Mapping[str, Any] | None = None,
    data_options: DataOptions | None = None,
    on_warning: Callable[[str], None] | None = None,
) -> PreflightReport:
    """Check a generator (``checkpoint``, or an untrained ``load_options.arch``) and the real
    data for what commonly wastes a training run. Bad input raises a GanDoctorError."""
    start = time.perf_counter()
    config = config or PreflightConfig()
    probe = config.probe
    untrained = checkpoint is None
    loaded: LoadedGenerator = (
        build_untrained(load_options, probe.seed)
        if checkpoint is None
        else load_generator(checkpoint, load_options)
    )
    info, generator = loaded.info, loaded.module
    user_d = (
        None
        if disc is None
        else build_discriminator(disc, disc_kwargs or {}, probe.seed, load_options.device)
    )
    spec = LatentSpec(
        info.latent_shape,
        info.distribution(load_options.latent_distribution),
        info.classes(load_options.num_classes),
    )
    raw = read_raw(os.fspath(data), config.raw_files)
    shape = shape_check(raw, info.output_shape)
    checks = [shape]
    facts: dict[str, Any] = {"stored": raw.to_dict()}
    if shape.evidence.get("compatible") is False:
        why = "the data do not fit the generator"
        checks += [Check(name, Status.SKIP, why) for name in _DATA_CHECKS]
        checks += _model_checks(
            generator, spec, None, None, info.output_shape, untrained, config, user_d
        )
    else:
        real = load_real_data(
            Path(data),
            sample_shape=info.output_shape,
            value_range=info.output_range,
            options=data_options or DataOptions(seed=probe.seed),
            on_warning=on_warning,
        )
        facts.update(real.describe())
        device = torch.device(load_options.device)
        checks += _checks_with_data(loaded, spec, raw, real.samples, device, untrained, config,
                                    user_d)  # fmt: skip
    generator_facts = {
        **info.to_dict(),
        "latent_distribution": str(spec.distribution),
        "num_classes": spec.num_classes,
        "discriminator": disc or "probe",
    }
    return PreflightReport(
        generator=generator_facts,
        data=facts,
        checks=checks,
        settings={**asdict(config), "disc_kwargs": dict(disc_kwargs or {})},
        version=__version__,
        seconds=time.perf_counter() - start,
    )


_DATA_CHECKS = ("value range", "NaN/Inf", "uses z", "short probe")


def _checks_with_data(
    loaded: LoadedGenerator,
    spec: LatentSpec,
    raw: RawData,
    real: torch.Tensor,
    device: torch.device,
    untrained: bool,
    config: PreflightConfig,
    user_d: nn.Module | None,
) -> list[Check]:
    """The checks of a generator against real data that fit it: value range, NaN/Inf, use
    of z, the model checks, and a short probe unless the generator is broken."""
    info, generator, probe = loaded.info, loaded.module, config.probe
    # The probe's own split and held-out latents: a random subset of the real data (files
    # come in folder order, and one class alone varies less).
    drawn = draw(real, spec, probe, device)
    z_batches, heldout = drawn.heldout_latents, drawn.heldout_real
    with frozen(generator, probe.train_mode):
        health = check_health(generator, z_batches, heldout, probe.train_mode, info.output_range)
    health_rows = [finite_check(health), uses_z_check(health, probe.thresholds)]
    checks = [range_check(raw, info, generator, health, probe.thresholds), *health_rows]
    checks += _model_checks(
        generator, spec, z_batches, heldout, info.output_shape, untrained, config, user_d
    )
    if not all(c.status == Status.PASS for c in health_rows):  # a broken G: nothing to probe
        return [*checks, Check("short probe", Status.SKIP, "the generator is broken")]
    outcome = run_probe(generator, spec, real, probe, output_range=info.output_range)
    return checks + probe_rows(outcome, untrained)


def _model_checks(
    generator: nn.Module,
    spec: LatentSpec,
    z_batches: list[tuple[torch.Tensor, ...]] | None,
    real: torch.Tensor | None,
    output_shape: tuple[int, ...],
    untrained: bool,
    config: PreflightConfig,
    user_d: nn.Module | None,
) -> list[Check]:
    """Checks that need the models only (the data only for D's batch of one)."""
    probe = config.probe
    if z_batches is None:
        rng = torch.Generator().manual_seed(probe.seed)  # no data: no split to draw first
        device = next(iter(generator.parameters()), torch.empty(0)).device
        z_batches = heldout_latents(spec, probe, rng, device)
    rows = gradient_flow(
        generator, z_batches, output_shape, user_d, probe.seed, probe.train_mode, probe.thresholds
    )
    rows.append(
        mode_check(
            generator,
            spec,
            probe.batch_size,
            config.calibration_batches,
            untrained,
            probe.thresholds,
        )
    )
    rows.append(batch_of_one_check(generator, spec, user_d, real))
    return rows


def probe_rows(outcome: ProbeOutcome, untrained: bool) -> list[Check]:
    """The short probe as rows: its headline figures, then one row per finding. For an
    untrained generator saturation, vanishing and the like are expected (a fresh D separates
    it within tens of steps), so they warn rather than fail; a broken generator fails."""
    s = outcome.summary
    rows: list[Check] = []
    findings = [f for f in outcome.findings if f.code not in _COVERED]
    for f in findings:
        if f.code == FindingCode.BROKEN or (f.severity == Severity.FAIL and not untrained):
            status = Status.FAIL
        elif f.severity == Severity.INFO:
            status = Status.PASS
        else:
            status = Status.WARN
        expected = " (expected at initialisation)" if untrained and status == Status.WARN else ""
        rows.append(
            Check(
                f"probe: {f.code}",
                status,
                f"{f.message}{expected}",
                {"severity": str(f.severity), **f.evidence},
            )
        )
    if s is None:
        head = Check("short probe", Status.FAIL, outcome.stop_reason)
        return [head, *rows]
    saturated = (
        f"saturated at step {s.steps_to_saturation}"
        if s.steps_to_saturation is not None
        else f"not saturated (held-out accuracy {s.final_accuracy:.2f})"
    )
    reason = (
        f"{s.steps_run} D steps: {saturated}; minimax gradient lost "
        f"{s.minimax_decades_lost:.2f} decades from its peak, -log D gradient grew "
        f"{s.nonsat_decades_gained:.2f}"
    )
    worst = max(
        (r.status for r in rows),
        key=[Status.PASS, Status.WARN, Status.FAIL].index,
        default=Status.PASS,
    )
    evidence = {"stop_reason": outcome.stop_reason, "seconds": outcome.seconds, **s.to_dict()}
    return [Check("short probe", worst, reason, evidence), *rows]
