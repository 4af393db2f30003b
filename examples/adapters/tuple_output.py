"""gandoctor adapter for a generator whose call is not ``G(z) -> images``: here one that
takes a list of style codes and returns ``(images, latents)``, as StyleGAN-like code does
(rosinality's ``g_ema([z])``). For a forward that only returns a tuple,
``--output-index 0`` is enough; a list input needs this file::

    gandoctor probe g.pt --data ./imgs --adapter examples/adapters/tuple_output.py \\
        --arch-kwargs '{"latent": 64}'

``ListStyleGenerator`` stands in for the repository's own class: replace its import with
the real one.
"""

from __future__ import annotations

import torch
from torch import nn

from gandoctor import GeneratorSpec


class ListStyleGenerator(nn.Module):
    """The repository's generator: ``G([z]) -> (images, latents)``."""

    def __init__(self, latent: int = 64, size: int = 16) -> None:
        super().__init__()
        self.size = size
        self.mapping = nn.Sequential(nn.Linear(latent, latent), nn.LeakyReLU(0.2))
        self.synthesis = nn.Sequential(nn.Linear(latent, size * size), nn.Tanh())

    def forward(self, styles: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        w = self.mapping(styles[0])
        return self.synthesis(w).view(-1, 1, self.size, self.size), w


class ZToImage(nn.Module):
    """``G(z)`` -> ``generator([z])[0]``: the probe's call, the repository's convention."""

    def __init__(self, generator: nn.Module) -> None:
        super().__init__()
        self.generator = generator

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        images, _ = self.generator([z])
        return images


def build(state: dict[str, torch.Tensor], latent: int = 64, size: int = 16) -> GeneratorSpec:
    generator = ListStyleGenerator(latent, size)
    generator.load_state_dict(state)
    return GeneratorSpec(module=ZToImage(generator), latent_shape=(latent,))
