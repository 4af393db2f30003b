"""The checkpoint's own discriminator beside the probe: found in the checkpoint
(loading.discriminators), measured on the probe's own held-out reals and latents (the same
seeded ``draw``) with the generator frozen as the probe freezes it
(analyses.own_discriminator)."""

from __future__ import annotations

from typing import Any

import torch

from gandoctor.analyses.own_discriminator import measure_own_discriminator
from gandoctor.config import LoadOptions, ProbeConfig
from gandoctor.data.common import RealData
from gandoctor.judge.own_d import with_own_d_findings
from gandoctor.loading.discriminators.checkpoint import OwnD, find_own_discriminator
from gandoctor.loading.formats.source import STYLEGAN_SNAPSHOT
from gandoctor.loading.generator.in_memory import MODULE_FORMAT
from gandoctor.loading.generator.info import LoadedGenerator
from gandoctor.nn.generator import frozen
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing.setup import draw
from gandoctor.results.outcome import ProbeOutcome
from gandoctor.results.own_discriminator import OwnDiscriminator
from gandoctor.runtime.threads import torch_threads

OWN_D_FORMATS = frozenset({"torch", "safetensors", STYLEGAN_SNAPSHOT})
"""Formats whose file can hold the generator's D beside it: state-dict files and snapshots
(a folder, a program or a pickled module is not searched)."""


def _searched(loaded: LoadedGenerator, options: LoadOptions) -> bool:
    given = options.disc_checkpoint is not None or options.disc is not None
    return loaded.info.format != MODULE_FORMAT and (given or loaded.info.format in OWN_D_FORMATS)


def _find(loaded: LoadedGenerator, options: LoadOptions, device: torch.device) -> OwnD | None:
    return find_own_discriminator(loaded.info.checkpoint, device, options.disc_checkpoint,
                                  options.disc, options.disc_kwargs)  # fmt: skip


def probe_own_discriminator(
    loaded: LoadedGenerator, latent: LatentSpec, real: torch.Tensor, config: ProbeConfig,
    outcome: ProbeOutcome, options: LoadOptions | None = None, unseen: RealData | None = None,
) -> OwnDiscriminator | None:  # fmt: skip
    """The own D's figures beside the probe's ``outcome``, with ``unseen`` reals the GAN never
    trained on (``--val-data``) where given; None where it is not asked for
    (``config.own_discriminator``), the generator came as a module (no file beside it), the
    probe found it broken, or the checkpoint holds no D gandoctor can build."""
    options = options or LoadOptions()
    searched = _searched(loaded, options)
    if not (config.own_discriminator and searched and outcome.summary is not None):
        return None
    device = torch.device(config.device)
    generator = loaded.module
    found = _find(loaded, options, device)
    if found is None:
        return None
    drawn = draw(real, latent, config, device)
    with frozen(generator, config.train_mode) as params, torch_threads(config.threads):
        return measure_own_discriminator(
            found.module, generator, params, drawn.heldout_real, drawn.heldout_latents,
            drawn.train_real, unseen_real=_samples(unseen, device), unseen=_origin(unseen),
            architecture=found.architecture, source=found.source,
            loss=found.loss, augment_p=found.augment_p, r1_gamma=found.r1_gamma,
            seed=config.seed, **planned(outcome),
        )  # fmt: skip


def planned(outcome: ProbeOutcome) -> dict[str, int | None]:
    """The gradient batches of the probe's plan, as many samples for the other figures (at
    least OWN_D_PLANNED_SAMPLES), and D's slopes over as many samples as the plan takes G's
    gradients at: under a plan the own D costs about what one of the probe's measurements
    costs. All of them in the full protocol."""
    plan = outcome.plan
    if plan is None or not plan.planned:
        return {"grad_batches": None, "grad_batch_size": None, "samples": None,
                "slope_samples": None}  # fmt: skip
    gradients = plan.grad_batches * plan.grad_batch_size
    samples = max(OWN_D_PLANNED_SAMPLES, gradients)
    return {"grad_batches": plan.grad_batches, "grad_batch_size": plan.grad_batch_size,
            "samples": samples, "slope_samples": gradients}  # fmt: skip


OWN_D_PLANNED_SAMPLES = 64
"""Samples a planned probe's own D is measured on at the least. The held-out and
memorisation figures carry their uncertainty into their findings' margins (judge.own_d):
r_t, a mean of +-1 signs, has a 95 % half-width of at most 1.96 / sqrt(64) = 0.25, an AUC
near 0.5 one of about 0.1 (Hanley-McNeil, 64 against 64). So a planned own D marks more of
its findings borderline rather than changing them. D's slopes (R1, R2, the interpolates'
norm: a backward pass through the own D each, the costly part at large sizes) are means
over the plan's gradient samples (16 at levels 4 and 5), reported as a mean and spread
over ``r1_samples``; the one finding that reads R1 (penalty_ineffective) widens its margin
as 1 / sqrt(r1_samples)."""


def _samples(unseen: RealData | None, device: torch.device) -> torch.Tensor | None:
    return unseen.samples.to(device) if unseen is not None else None


def _origin(unseen: RealData | None) -> str | None:
    return f"{unseen.source} ({unseen.used} samples)" if unseen is not None else None


def with_own_discriminator(
    loaded: LoadedGenerator, latent: LatentSpec, real: torch.Tensor, config: ProbeConfig,
    outcome: ProbeOutcome, options: LoadOptions | None = None, unseen: RealData | None = None,
) -> tuple[OwnDiscriminator | None, ProbeOutcome]:  # fmt: skip
    """The own D's figures, and ``outcome`` with its findings (judge.own_d) added."""
    own = probe_own_discriminator(loaded, latent, real, config, outcome, options, unseen)
    return own, with_own_d_findings(outcome, own, config.thresholds)


def describe_own_discriminator(
    loaded: LoadedGenerator, options: LoadOptions
) -> dict[str, Any] | None:
    """What ``inspect`` shows of the checkpoint's own D: None where it holds none."""
    if not _searched(loaded, options):
        return None
    found = _find(loaded, options, torch.device(options.device))
    if found is None:
        return None
    return {
        "architecture": found.architecture,
        "entry": found.source,
        "loss": found.loss,
        "parameters": sum(p.numel() for p in found.module.parameters()),
        "augment_p": found.augment_p,
        "r1_gamma": found.r1_gamma,
    }
