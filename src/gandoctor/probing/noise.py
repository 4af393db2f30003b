"""Instance noise (Arjovsky & Bottou 2017, sec. 3): Gaussian noise on both of D's inputs.

Adding independent N(0, sigma^2) noise to real and generated samples spreads both
distributions over the whole space, so their noised versions overlap and the JS divergence
between them is no longer stuck at log 2: the optimal D's loss then gives back
2 log 2 - 2 JS(P_r+eps, P_g+eps), and the minimax gradient stops vanishing.

The noise has its own random streams, derived from the probe's seed, so that a noised probe
sees the same real batches, latents and D initialisation as the plain one, and a probe
without noise draws nothing extra.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import torch

from gandoctor.config import ProbeConfig

Noiser = Callable[[torch.Tensor], torch.Tensor]

_TRAIN_STREAM, _HELDOUT_STREAM = "train", "heldout"


def _stream_seed(seed: int, stream: str) -> int:
    # A hash, not seed + offset: neighbouring probe seeds must not share noise streams.
    digest = hashlib.blake2b(f"gandoctor.instance-noise:{seed}:{stream}".encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "little") >> 1  # torch seeds are < 2**63


class InstanceNoise:
    """The noise of one probe: sigma in the generator's output units."""

    def __init__(self, sigma: float, seed: int) -> None:
        self.sigma = sigma
        self._heldout_seed = _stream_seed(seed, _HELDOUT_STREAM)
        self._train_rng = torch.Generator().manual_seed(_stream_seed(seed, _TRAIN_STREAM))

    @classmethod
    def of(cls, config: ProbeConfig) -> InstanceNoise | None:
        """The probe's noise, or None without instance noise (then nothing is drawn)."""
        return cls(config.instance_noise, config.seed) if config.instance_noise > 0 else None

    def on_training_batch(self, batch: torch.Tensor) -> torch.Tensor:
        """A training batch with fresh noise: a new draw every D step."""
        return self._add(batch, self._train_rng)

    def heldout(self) -> Noiser:
        """Adds held-out noise to the held-out batches passed in order. Every call starts the
        same stream again, so every measurement sees the same noise on the same held-out
        samples (like the fixed latents): the series changes only because D does."""
        rng = torch.Generator().manual_seed(self._heldout_seed)
        return lambda batch: self._add(batch, rng)

    def _add(self, batch: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
        # Drawn on the CPU generator, then moved: the same numbers on any device. An
        # addition, so gradients flow through to G(z) unchanged.
        noise = torch.randn(batch.shape, generator=rng, dtype=batch.dtype)
        return batch + self.sigma * noise.to(batch.device)


def no_noise(batch: torch.Tensor) -> torch.Tensor:
    return batch
