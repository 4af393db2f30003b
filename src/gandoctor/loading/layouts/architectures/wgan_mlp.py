"""The MLP generator of the WGAN authors' code (``MLP_G``), and recognition of its checkpoints.

``main`` is Linear(nz, ngf), ReLU, Linear(ngf, ngf), ReLU, Linear(ngf, ngf), ReLU,
Linear(ngf, nc * isize * isize): keys ``main.0``, ``main.2``, ``main.4``, ``main.6``, each a
2-D weight and a bias. The PyTorch DCGAN example uses the same attribute and indices, but its
weights are 4-D transposed convolutions and it has BatchNorm buffers, so the two never meet.
There is no output activation: the range is whatever training made of it, and is measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    flat_latent,
    missing,
    sequential_layers,
    size_of,
    square_image,
    weight_dims,
)

LAYOUT = "the WGAN authors' MLP_G generator (main.0/2/4/6 Linear keys)"

_LINEAR = (0, 2, 4, 6)
_LINEAR_PARAMS = frozenset({"weight", "bias"})


class WGANMLPGenerator(BuiltinGenerator):
    """``z (N, nz) or (N, nz, 1, 1) -> image (N, nc, isize, isize)``, unbounded, as ``MLP_G``."""

    output_range: ClassVar[tuple[float, float] | None] = None

    def __init__(self, isize: int, nz: int, nc: int, ngf: int) -> None:
        super().__init__()
        if min(isize, nz, nc, ngf) < 1:
            raise ValueError(
                "WGANMLPGenerator needs positive sizes, "
                f"got isize={isize}, nz={nz}, nc={nc}, ngf={ngf}"
            )
        self.isize, self.nz, self.nc, self.ngf = int(isize), int(nz), int(nc), int(ngf)
        self.main = nn.Sequential(
            nn.Linear(nz, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, nc * isize * isize),
        )

    @property
    def latent_shape(self) -> tuple[int]:
        return (self.nz,)

    def arch_kwargs(self) -> dict[str, Any]:
        return {"isize": self.isize, "nz": self.nz, "nc": self.nc, "ngf": self.ngf}

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.main(flat_latent(z))
        return output.view(output.shape[0], self.nc, self.isize, self.isize)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``WGANMLPGenerator`` kwargs from a file whose ``main`` holds only Linear layers at
    indices 0, 2, 4 and 6.

    The output layer gives ``nc * isize * isize`` only; the image is taken to be square with
    3 or 1 channels (:func:`square_image`). Other shapes need the kwargs in the metadata.
    """
    layers = sequential_layers(tensors, "main")
    if not layers or weight_dims(layers) != {2}:
        return None
    if any(index not in _LINEAR or set(layer) - _LINEAR_PARAMS for index, layer in layers.items()):
        return None
    first = tensors.get("main.0.weight")
    if first is None or first.dim() != 2:
        raise missing("main.0.weight", why="it tells the latent size")
    features = size_of(tensors, ("main.6.weight", 2, 0), ("main.6.bias", 1, 0))
    if features is None:
        raise missing("main.6.bias", "main.6.weight", why="the output layer tells the image size")
    image = square_image(features)
    if image is None:
        raise LayoutMismatch(
            f"its {features} outputs are not nc x isize x isize for nc 3 or 1; name the "
            "architecture and its kwargs in the file's metadata (gandoctor.arch, "
            "gandoctor.arch_kwargs)"
        )
    nc, isize = image
    return {"isize": isize, "nz": int(first.shape[1]), "nc": nc, "ngf": int(first.shape[0])}
