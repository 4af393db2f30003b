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

Two packages on PyPI save the same stack under other names, and load with no option too:

- gan-pytorch (Lornatang, tried at 0.4.0) calls the Sequential ``main``, with the same
  widths and the same ``BatchNorm1d(width, 0.8)`` (its ``batch_norm_momentum`` is passed as
  the positional ``eps``);
- pytorch-gan-zoo (vmirly's Lightning GAN zoo, tried at 0.0.6) calls it ``net``. Its
  ``fc-large`` generator is this stack with ``BatchNorm1d(width, momentum=0.1)``, so the
  default eps 1e-5; its ``fc-small`` one is Linear, LeakyReLU(0.01), Linear, LeakyReLU(0.01),
  Dropout, Linear, Tanh: no norms, the dropout where the norm would sit (``net.4``), so the
  Linear layers keep the indices 0, 2, 5. A file cannot tell the slope or the eps, so the
  attribute name, which only the zoo spells ``net``, decides them.
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

LAYOUT = (
    "the PyTorch-GAN collection's MLP generator (model.N.*, main.N.* or net.N.* Linear and "
    "BatchNorm1d keys)"
)

WIDTHS = (128, 256, 512, 1024)
"""The script's hidden widths."""

BATCHNORM_EPS = 0.8
"""What ``nn.BatchNorm1d(out_feat, 0.8)`` in the script sets."""

ATTRS = ("model", "main", "net")
"""PyTorch-GAN's ``model``, gan-pytorch's ``main``, pytorch-gan-zoo's ``net``."""

ZOO_ATTR = "net"
ZOO_EPS = 1e-5
"""``nn.BatchNorm1d(width, momentum=0.1)`` in the zoo's ``fc-large``: PyTorch's default eps."""

ZOO_SMALL_SLOPE = 0.01
"""``nn.LeakyReLU(inplace=True)`` in the zoo's ``fc-small``: PyTorch's default slope."""

ZOO_DROPOUT = 0.5
"""The zoo's default ``p_drop`` (``DROPOUT_PROBA``); its Lightning module saves the one used."""

_NORM_PARAMS = ("weight", "bias", "running_mean", "running_var")


class PyTorchGANMLPGenerator(BuiltinGenerator):
    """``z (N, latent_dim) -> image (N, channels, img_size, img_size)`` in (-1, 1)."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)

    def __init__(
        self,
        latent_dim: int,
        channels: int,
        img_size: int,
        widths: Sequence[int] = WIDTHS,
        attr: str = "model",
        norms: bool = True,
        p_drop: float = ZOO_DROPOUT,
    ) -> None:
        super().__init__()
        widths = [int(width) for width in widths]
        if min(latent_dim, channels, img_size) < 1 or not widths or min(widths) < 1:
            raise ValueError(
                "PyTorchGANMLPGenerator needs positive sizes and at least one width, got "
                f"latent_dim={latent_dim}, channels={channels}, img_size={img_size}, "
                f"widths={widths}"
            )
        if attr not in ATTRS:
            raise ValueError(f"attr must be one of {', '.join(ATTRS)}, got {attr!r}")
        if not norms and attr != ZOO_ATTR:
            raise ValueError(f"only the zoo's layout (attr {ZOO_ATTR!r}) comes without norms")
        self.latent_dim, self.channels = int(latent_dim), int(channels)
        self.img_size, self.widths = int(img_size), widths
        self.attr, self.norms, self.p_drop = attr, bool(norms), float(p_drop)
        eps = ZOO_EPS if attr == ZOO_ATTR else BATCHNORM_EPS
        slope = 0.2 if norms else ZOO_SMALL_SLOPE

        layers: list[nn.Module] = [nn.Linear(latent_dim, widths[0]), nn.LeakyReLU(slope, True)]
        for in_width, out_width in pairwise(widths):
            layers.append(nn.Linear(in_width, out_width))
            if norms:
                layers += [nn.BatchNorm1d(out_width, eps), nn.LeakyReLU(slope, True)]
            else:  # the zoo's fc-small: a dropout after the activation, where a norm would be
                layers += [nn.LeakyReLU(slope, True), nn.Dropout(self.p_drop)]
        layers += [nn.Linear(widths[-1], channels * img_size * img_size), nn.Tanh()]
        self.add_module(attr, nn.Sequential(*layers))

    @property
    def latent_shape(self) -> tuple[int]:
        return (self.latent_dim,)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "latent_dim": self.latent_dim,
            "channels": self.channels,
            "img_size": self.img_size,
            "widths": list(self.widths),
            # The defaults stay implicit, so that older reports and metadata read alike.
            **({"attr": self.attr} if self.attr != "model" else {}),
            **({"norms": False, "p_drop": self.p_drop} if not self.norms else {}),
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        image: torch.Tensor = self.get_submodule(self.attr)(flat_latent(z))
        return image.view(image.shape[0], self.channels, self.img_size, self.img_size)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """``PyTorchGANMLPGenerator`` kwargs from a ``model.N.*`` (``main.N.*``, ``net.N.*``)
    file of Linear layers at 0 and 3 j + 2 and 1-D norms at 3 j + 3 (the activations at
    3 j + 1 have no parameters).

    Hugging Face DCGANs also use ``model.N``, but with 4-D weights and norms at 3 j + 1; the
    PyTorch DCGAN example's ``main.N`` has 4-D weights, the WGAN MLP's ``main.N`` no norms
    (Linears at 0, 2, 4, 6). A file without any norm is taken only under the zoo's ``net``,
    the one such layout here.
    """
    for attr in ATTRS:
        kwargs = _recognise(tensors, attr)
        if kwargs is not None:
            return kwargs
    return None


def _recognise(tensors: Mapping[str, torch.Tensor], attr: str) -> dict[str, Any] | None:
    layers = sequential_layers(tensors, attr)
    weights = {index: layer["weight"].dim() for index, layer in layers.items() if "weight" in layer}
    if 2 not in weights.values() or any(index % 3 == 1 for index in layers):
        return None
    if any(dim != (2 if _linear(index) else 1) for index, dim in weights.items()):
        return None
    norms = any(not _linear(index) for index in layers)
    if not norms and attr != ZOO_ATTR:
        return None
    last = max(layers)
    final = last if last % 3 == 2 else last + 2  # a norm last: the output Linear is missing
    # Linear j (j = 0 .. count - 1) makes hidden width j; the output Linear comes after.
    starts = [0, *range(2, final, 3)]
    widths = [
        _width(tensors, attr, start, end)
        for start, end in zip(starts, [*starts[1:], final], strict=True)
    ]
    latent_dim = size_of(tensors, (f"{attr}.0.weight", 2, 1))
    if latent_dim is None:
        raise missing(f"{attr}.0.weight", why="it tells the latent size")
    features = size_of(tensors, (f"{attr}.{final}.weight", 2, 0), (f"{attr}.{final}.bias", 1, 0))
    if features is None:
        raise missing(f"{attr}.{final}.bias", f"{attr}.{final}.weight", why="the output layer")
    image = square_image(features)
    if image is None:
        raise LayoutMismatch(
            f"its {features} outputs are not channels x img_size x img_size for 3 or 1 "
            "channels; name the architecture and its kwargs in the file's metadata "
            "(gandoctor.arch, gandoctor.arch_kwargs)"
        )
    channels, img_size = image
    kwargs: dict[str, Any] = {
        "latent_dim": latent_dim,
        "channels": channels,
        "img_size": img_size,
        "widths": widths,
    }
    if attr != "model":
        kwargs["attr"] = attr
    if not norms:
        kwargs["norms"] = False
    return kwargs


def dropout_saved(kwargs: dict[str, Any], saved: Mapping[str, Any]) -> dict[str, Any]:
    """The zoo's ``p_drop`` from the ``hyper_parameters`` its Lightning module saves: no
    weight records it, and it acts only in train mode."""
    p_drop = saved_p_drop(saved)
    if kwargs.get("norms") is False and p_drop is not None:
        return {**kwargs, "p_drop": p_drop}
    return kwargs


def saved_p_drop(saved: Mapping[str, Any]) -> float | None:
    """The ``p_drop`` a zoo module's ``hyper_parameters`` hold, where it is a probability."""
    p_drop = saved.get("p_drop")
    return float(p_drop) if isinstance(p_drop, int | float) and 0 <= p_drop < 1 else None


def _linear(index: int) -> bool:
    return index == 0 or index % 3 == 2


def _width(tensors: Mapping[str, torch.Tensor], attr: str, start: int, following: int) -> int:
    """The output width of the Linear at ``start``, from it, its norm or the next Linear."""
    candidates = [(f"{attr}.{start}.weight", 2, 0), (f"{attr}.{start}.bias", 1, 0)]
    if start > 0:
        candidates += [(f"{attr}.{start + 1}.{name}", 1, 0) for name in _NORM_PARAMS]
    width = size_of(tensors, *candidates, (f"{attr}.{following}.weight", 2, 1))
    if width is None:
        raise missing(f"{attr}.{start}.weight", why="no tensor tells the width of this layer")
    return width
