"""What every run against the frozen generator shares: the held-out split, the seeded
latent draws and the measurement schedule. One place, so that the probe, the WGAN-GP
critic and preflight see the same data and latents for the same seed."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from gandoctor.config import ProbeConfig
from gandoctor.errors import DataError
from gandoctor.nn.latent import GeneratorInputs, LatentSpec

ProgressCallback = Callable[[int, int], None]
"""Called as ``on_progress(step, total_steps)`` after every discriminator step."""


@dataclass(frozen=True)
class ProbeDraws:
    """The seeded draws of one run against the frozen generator, in the order every run
    makes them: the held-out split, then the K fixed batches of held-out latents."""

    train_real: torch.Tensor
    """The real samples D trains on, on the run's device."""
    heldout_real: torch.Tensor
    """The held-out real samples every figure of D's quality is measured on."""
    heldout_latents: list[GeneratorInputs]
    """K fixed latent batches (``grad_batches`` of ``batch_size``) for the gradient norms
    and the held-out fakes."""
    rng: torch.Generator
    """The same generator, after those draws: it goes on to draw D's training batches."""


def draw(
    real: torch.Tensor, latent: LatentSpec, config: ProbeConfig, device: torch.device
) -> ProbeDraws:
    """The split and the held-out latents for ``config.seed``: the probe, the WGAN-GP
    critic and preflight all call this, so they see the same data and latents."""
    rng = torch.Generator().manual_seed(config.seed)  # CPU generator: same draws on any device
    train_idx, heldout_idx = split_heldout(len(real), config, rng)
    train_real, heldout_real = real[train_idx].to(device), real[heldout_idx].to(device)
    return ProbeDraws(train_real, heldout_real, heldout_latents(latent, config, rng, device), rng)


def heldout_latents(
    latent: LatentSpec, config: ProbeConfig, rng: torch.Generator, device: torch.device
) -> list[GeneratorInputs]:
    """K fixed batches of latents drawn from ``rng``."""
    return [latent.sample(config.batch_size, rng, device) for _ in range(config.grad_batches)]


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Torch's global random state set to ``seed`` inside the block and restored after it:
    a module built inside gets initial weights that depend on the seed only."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def measurement_steps(total: int, growth: float, max_interval: int) -> list[int]:
    """Steps at which to measure: 0, then geometric spacing up to ``max_interval`` apart,
    then evenly spaced; always ends at ``total``."""
    steps, step = [0], 1
    while step < total:
        steps.append(step)
        step += min(max(1, math.ceil(step * (growth - 1))), max_interval)
    steps.append(total)
    return steps


def split_heldout(
    n: int, config: ProbeConfig, rng: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices of D's training samples and of the held-out samples.

    Held out: at least ``heldout_min`` samples or ``heldout_fraction`` of them, but never
    more than half, so D keeps data to train on.
    """
    held = min(max(config.heldout_min, math.ceil(config.heldout_fraction * n)), n // 2)
    if held < 1:
        raise DataError(f"need at least 2 real samples to hold some out, got {n}")
    order = torch.randperm(n, generator=rng)
    return order[held:], order[:held]
