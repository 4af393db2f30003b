"""The checkpoint's own discriminator beside the probe: found in the checkpoint
(loading.discriminators), measured on the probe's own held-out reals and latents (the same
seeded ``draw``) with the generator frozen as the probe freezes it
(analyses.own_discriminator)."""

from __future__ import annotations

import torch
from torch import nn

from gandoctor.analyses.own_discriminator import measure_own_discriminator
from gandoctor.config import ProbeConfig
from gandoctor.loading.discriminators import find_own_discriminator
from gandoctor.nn.generator import frozen
from gandoctor.nn.latent import LatentSpec
from gandoctor.probing.setup import draw
from gandoctor.results.own_discriminator import OwnDiscriminator


def probe_own_discriminator(
    checkpoint: str, generator: nn.Module, latent: LatentSpec, real: torch.Tensor,
    config: ProbeConfig,
) -> OwnDiscriminator | None:  # fmt: skip
    """The own D's figures, or None where the checkpoint holds no D gandoctor can build."""
    device = torch.device(config.device)
    found = find_own_discriminator(checkpoint, device)
    if found is None:
        return None
    drawn = draw(real, latent, config, device)
    with frozen(generator, config.train_mode) as params:
        return measure_own_discriminator(
            found.module, generator, params, drawn.heldout_real, drawn.heldout_latents,
            drawn.train_real, architecture=found.architecture, source=found.source,
            augment_p=found.augment_p, r1_gamma=found.r1_gamma, seed=config.seed,
        )  # fmt: skip
