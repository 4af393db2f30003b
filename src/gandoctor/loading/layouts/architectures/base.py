"""What the built-in architectures share: a base class, the recognition error, and helpers
that read sizes out of a state dict.

Recognition works on the key names and tensor shapes alone. Every helper here tolerates a
missing tensor where another one tells the same size, so that a truncated file still gets
recognised and the strict load afterwards names exactly the key it lacks.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, ClassVar

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.messages import format_keys

Recogniser = Callable[[Mapping[str, torch.Tensor]], dict[str, Any] | None]
"""``recognise(tensors)``: constructor kwargs when the keys follow the layout, None when they
do not, :class:`LayoutMismatch` when they clearly do but no module of it can hold them."""

IMAGE_CHANNELS = (3, 1)
"""Channel counts tried when only ``channels * size * size`` is known (MLP generators)."""


class LayoutMismatch(CheckpointError):
    """A file in an architecture's layout that cannot be built as it.

    The message is only the detail (``"does not fit it: missing keys (1): l1.0.weight"``):
    the registry, which knows the path and how to name the layout, completes the sentence.
    """


class BuiltinGenerator(nn.Module):
    """Base of the generators gandoctor builds by name: what each declares about itself."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)
    """The range its final layer guarantees; None when nothing bounds it (then measured)."""

    @property
    def latent_shape(self) -> tuple[int, ...]:
        """One latent vector, without the batch axis."""
        raise NotImplementedError

    def arch_kwargs(self) -> dict[str, Any]:
        """The constructor arguments, JSON-ready (what ``architecture_metadata`` stores)."""
        raise NotImplementedError


class FlatLatentGenerator(BuiltinGenerator):
    """A built-in generator whose z is one vector of ``latent_size`` and which keeps its
    constructor arguments in ``kwargs`` (the StyleGAN-like builds)."""

    latent_size: int
    kwargs: dict[str, Any]

    @property
    def latent_shape(self) -> tuple[int, ...]:
        return (self.latent_size,)

    def arch_kwargs(self) -> dict[str, Any]:
        return dict(self.kwargs)


def missing(*keys: str, why: str = "") -> LayoutMismatch:
    """The error for tensors without which a size cannot be read, worded as the strict load
    words missing keys, so both stages read alike."""
    reason = f" ({why})" if why else ""
    return LayoutMismatch(
        f"does not fit it: missing keys ({len(keys)}): {format_keys(keys)}{reason}"
    )


def sequential_layers(
    tensors: Mapping[str, torch.Tensor], attr: str
) -> dict[int, dict[str, torch.Tensor]]:
    """The tensors of ``{attr}.{index}.{name}`` keys grouped by index: an nn.Sequential's
    parameterised layers as the file holds them. Other keys are ignored here."""
    layers: dict[int, dict[str, torch.Tensor]] = {}
    for key, tensor in tensors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == attr and parts[1].isdigit():
            layers.setdefault(int(parts[1]), {})[parts[2]] = tensor
    return layers


def weight_dims(layers: Mapping[int, Mapping[str, torch.Tensor]]) -> set[int]:
    """The dimensionalities of the ``weight`` tensors: 2 for Linear, 4 for convolutions,
    1 for normalisation layers. They tell apart layouts that share attribute names."""
    return {layer["weight"].dim() for layer in layers.values() if "weight" in layer}


def size_of(tensors: Mapping[str, torch.Tensor], *candidates: tuple[str, int, int]) -> int | None:
    """``shape[axis]`` of the first candidate ``(key, ndim, axis)`` present with ``ndim``
    dimensions. Several candidates read one size from neighbouring layers, so one tensor
    missing (or malformed, which the strict load reports) does not stop the recognition."""
    for key, ndim, axis in candidates:
        tensor = tensors.get(key)
        if tensor is not None and tensor.dim() == ndim:
            return int(tensor.shape[axis])
    return None


def block_sizes(
    tensors: Mapping[str, torch.Tensor],
    blocks: Iterable[int],
    candidates: Callable[[int], tuple[tuple[str, int, int], ...]],
) -> list[int]:
    """:func:`size_of` for each block, ``candidates(block)`` naming its tensors; a block
    with none of them present raises :func:`missing` naming the first."""
    sizes = []
    for block in blocks:
        named = candidates(block)
        size = size_of(tensors, *named)
        if size is None:
            raise missing(named[0][0])
        sizes.append(size)
    return sizes


def square_image(features: int) -> tuple[int, int] | None:
    """``(channels, size)`` with ``channels * size ** 2 == features`` for channels 3 or 1.

    A flat output layer only tells the product. Colour is tried first, but at most one of
    the two can fit: ``3 * s ** 2`` is never a perfect square (that would make the square
    root of 3 rational), so the answer does not depend on the order. Other channel counts
    (2, 4, ...) are not guessed: such files need the image shape in their metadata.
    """
    for channels in IMAGE_CHANNELS:
        side = math.isqrt(features // channels)
        if side > 0 and channels * side * side == features:
            return channels, side
    return None


def flat_latent(z: torch.Tensor) -> torch.Tensor:
    """``(N, nz)`` from ``(N, nz)`` or the DCGAN habit ``(N, nz, 1, 1)``.

    A view with exactly two sizes (as the WGAN code does) rather than a flatten, so that a
    latent of any other shape fails loudly instead of being silently reinterpreted.
    """
    return z.view(z.shape[0], z.shape[1]) if z.dim() != 2 else z
