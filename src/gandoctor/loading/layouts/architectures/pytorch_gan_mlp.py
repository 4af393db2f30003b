"""The MLP generator of the PyTorch-GAN collection (``implementations/gan/gan.py``), and
recognition of its checkpoints.

``model`` is ``block(latent_dim, 128, normalize=False)``, ``block(128, 256)``,
``block(256, 512)``, ``block(512, 1024)``, ``Linear(1024, prod(img_shape))``, ``Tanh``, where
a block is Linear, BatchNorm1d (when normalising), LeakyReLU(0.2). So the Linear layers sit at
``model.0``, ``model.2``, ``model.5``, ``model.8``, ``model.11`` and the norms at
``model.3``, ``model.6``, ``model.9``. The widths are read from the shapes, so narrower or
deeper copies of the script load too.

The norms are ``BatchNorm1d(width, 0.8)``: the second positional argument is ``eps``, not
``momentum``. It is not in the state dict, yet it changes every output, so it is kept.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
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
)

LAYOUT = "the PyTorch-GAN collection's MLP generator (model.N.* Linear and BatchNorm1d keys)"

WIDTHS = (128, 256, 512, 1024)
"""The script's hidden widths."""

BATCHNORM_EPS = 0.8
"""What ``nn.BatchNorm1d(out_feat, 0.8)`` in the script sets."""

_ATTR = "model"
_NORM_PARAMS = ("weight", "bias", "running_mean", "running_var")


class PyTorchGANMLPGenerator(BuiltinGenerator):
    """``z (N, latent_dim) -> image (N, channels, img_size, img_size)`` in (-1, 1)."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(
        self, latent_dim: int, channels: int, img_size: int, widths: Sequence[int] = WIDTHS
    ) -> None:
        super().__init__()
        widths = [int(width) for width in widths]
        if min(latent_dim, channels, img_size) < 1 or not widths or min(widths) < 1:
            raise ValueError(
                "PyTorchGANMLPGenerator needs positive sizes and at least one width, got "
                f"latent_dim={latent_dim}, channels={channels}, img_size={img_size}, "
                f"widths={widths}"
            )
        self.latent_dim, self.channels = int(latent_dim), int(channels)
        self.img_size, self.widths = int(img_size), widths
        layers: list[nn.Module] = [nn.Linear(latent_dim, widths[0]), nn.LeakyReLU(0.2, True)]
        for in_width, out_width in pairwise(widths):
            layers += [
                nn.Linear(in_width, out_width),
                nn.BatchNorm1d(out_width, BATCHNORM_EPS),
                nn.LeakyReLU(0.2, True),
            ]
        layers += [nn.Linear(widths[-1], channels * img_size * img_size), nn.Tanh()]
        self.model = nn.Sequential(*layers)

    @property
    def latent_shape(self) -> tuple[int]:
        return (self.latent_dim,)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "latent_dim": self.latent_dim,
            "channels": self.channels,
            "img_size": self.img_size,
            "widths": list(self.widths),
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        image: torch.Tensor = self.model(flat_latent(z))
        return image.view(image.shape[0], self.channels, self.img_size, self.img_size)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``PyTorchGANMLPGenerator`` kwargs from a ``model.N.*`` file of Linear layers at 0 and
    3 j + 2 and 1-D norms at 3 j + 3 (the activations at 3 j + 1 have no parameters).

    Hugging Face DCGANs also use ``model.N``, but with 4-D weights and norms at 3 j + 1.
    """
    layers = sequential_layers(tensors, _ATTR)
    weights = {index: layer["weight"].dim() for index, layer in layers.items() if "weight" in layer}
    if 2 not in weights.values() or any(index % 3 == 1 for index in layers):
        return None
    if any(dim != (2 if _linear(index) else 1) for index, dim in weights.items()):
        return None
    last = max(layers)
    final = last if last % 3 == 2 else last + 2  # a norm last: the output Linear is missing
    # Linear j (j = 0 .. count - 1) makes hidden width j; the output Linear comes after.
    starts = [0, *range(2, final, 3)]
    widths = [
        _width(tensors, start, end) for start, end in zip(starts, [*starts[1:], final], strict=True)
    ]
    latent_dim = size_of(tensors, ("model.0.weight", 2, 1))
    if latent_dim is None:
        raise missing("model.0.weight", why="it tells the latent size")
    features = size_of(tensors, (f"model.{final}.weight", 2, 0), (f"model.{final}.bias", 1, 0))
    if features is None:
        raise missing(f"model.{final}.bias", f"model.{final}.weight", why="the output layer")
    image = square_image(features)
    if image is None:
        raise LayoutMismatch(
            f"its {features} outputs are not channels x img_size x img_size for 3 or 1 "
            "channels; name the architecture and its kwargs in the file's metadata "
            "(gandoctor.arch, gandoctor.arch_kwargs)"
        )
    channels, img_size = image
    return {"latent_dim": latent_dim, "channels": channels, "img_size": img_size, "widths": widths}


def _linear(index: int) -> bool:
    return index == 0 or index % 3 == 2


def _width(tensors: Mapping[str, torch.Tensor], start: int, following: int) -> int:
    """The output width of the Linear at ``start``, from it, its norm or the next Linear."""
    candidates = [(f"model.{start}.weight", 2, 0), (f"model.{start}.bias", 1, 0)]
    if start > 0:
        candidates += [(f"model.{start + 1}.{name}", 1, 0) for name in _NORM_PARAMS]
    width = size_of(tensors, *candidates, (f"model.{following}.weight", 2, 1))
    if width is None:
        raise missing(f"model.{start}.weight", why="no tensor tells the width of this layer")
    return width
