"""What a generator is fed: latent vectors of a shape and distribution, and class labels
for conditional generators."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from gandoctor.enums import LatentDistribution

GeneratorInputs = tuple[torch.Tensor, ...]
"""Positional arguments of one generator call: ``(z,)`` or ``(z, labels)``."""


@dataclass(frozen=True)
class LatentSpec:
    shape: tuple[int, ...]
    """One latent vector without the batch axis, e.g. (100, 1, 1)."""
    distribution: LatentDistribution = LatentDistribution.NORMAL
    num_classes: int | None = None
    """Conditional generators: labels uniform over this many classes go in as ``G(z, y)``
    (the calling convention torch-fidelity uses)."""
    label_weights: tuple[float, ...] | None = None
    """Where set, one weight per class (the real data's class frequencies, data.labels):
    labels are drawn with these weights instead of uniformly, so that the fakes hold the
    classes as often as the real samples D compares them with."""

    @classmethod
    def of(cls, latent: LatentSpec | Sequence[int]) -> LatentSpec:
        return latent if isinstance(latent, LatentSpec) else cls(tuple(int(s) for s in latent))

    def sample(
        self, n: int, rng: torch.Generator, device: torch.device | str = "cpu"
    ) -> GeneratorInputs:
        """``n`` inputs drawn on the CPU generator ``rng``, then moved to ``device``, so the
        same seed gives the same numbers on any device."""
        if self.distribution == LatentDistribution.UNIFORM:
            z = torch.rand((n, *self.shape), generator=rng) * 2 - 1
        else:
            z = torch.randn((n, *self.shape), generator=rng)
        if self.num_classes is None:
            return (z.to(device),)
        if self.label_weights is None:
            labels = torch.randint(self.num_classes, (n,), generator=rng)
        else:
            weights = torch.tensor(self.label_weights, dtype=torch.float64)
            labels = torch.multinomial(weights, n, replacement=True, generator=rng)
        return z.to(device), labels.to(device)

    def describe(self) -> str:
        text = f"{self.distribution} {self.shape}"
        if self.num_classes is None:
            return text
        drawn = " at the data's class frequencies" if self.label_weights is not None else ""
        return f"{text} with {self.num_classes} classes{drawn}"


def first(inputs: GeneratorInputs, n: int) -> GeneratorInputs:
    """The first ``n`` samples of a batch of generator inputs."""
    return tuple(t[:n] for t in inputs)
