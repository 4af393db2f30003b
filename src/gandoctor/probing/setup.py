"""What every run against the frozen generator shares: the held-out split, the seeded
latent draws and the measurement schedule. One place, so that the probe, the WGAN-GP
critic and preflight see the same data and latents for the same seed."""

from __future__ import annotations

import math

import torch

from gandoctor.config import ProbeConfig
from gandoctor.errors import DataError


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
