"""pytorch-gan-zoo's fully connected generator with a skip connection (``fc-skip``).

vmirly's Lightning GAN zoo (tried at 0.0.6), ``FCSkipConnect_Generator``: three Linear
layers ``l1`` (z -> h), ``l2`` (h -> h) and ``l3`` (h -> C * R * R)::

    h1 = relu(l1(z));  h2 = relu(l2(h1));  image = tanh(l3(dropout(h2) + h1))

reshaped to (C, R, R). The skip connection (h1 added before ``l3``) is in no weight: three
Linear layers named ``l1``, ``l2``, ``l3`` are built as this layout only where the
checkpoint's saved settings say ``network_type: fc-skip``, as the ``hyper_parameters`` of
the zoo's Lightning checkpoints do. Anywhere else the message says what is missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    flat_latent,
    square_image,
)
from gandoctor.loading.layouts.architectures.pytorch_gan_mlp import ZOO_DROPOUT, saved_p_drop

LAYOUT = "pytorch-gan-zoo's fc-skip generator (keys l1, l2, l3)"

NETWORK_TYPE = "fc-skip"
"""The zoo's name for the network, in its Lightning module's ``hyper_parameters``."""

_KEYS = frozenset(f"l{layer}.{name}" for layer in (1, 2, 3) for name in ("weight", "bias"))


class ZooFCSkipGenerator(BuiltinGenerator):
    """``z (N, latent_dim) or (N, latent_dim, 1, 1) -> image (N, channels, R, R)`` in (-1, 1),
    module names as the zoo's, so its state dicts load unchanged."""

    output_range: ClassVar[tuple[float, float] | None] = (-1.0, 1.0)  # a final tanh

    def __init__(
        self,
        latent_dim: int,
        hidden: int,
        channels: int,
        img_size: int,
        p_drop: float = ZOO_DROPOUT,
    ) -> None:
        super().__init__()
        if min(latent_dim, hidden, channels, img_size) < 1 or not 0 <= p_drop < 1:
            raise ValueError(
                "ZooFCSkipGenerator needs positive sizes and 0 <= p_drop < 1, got "
                f"latent_dim={latent_dim}, hidden={hidden}, channels={channels}, "
                f"img_size={img_size}, p_drop={p_drop}"
            )
        self.latent_dim, self.hidden = int(latent_dim), int(hidden)
        self.channels, self.img_size, self.p_drop = int(channels), int(img_size), float(p_drop)
        self.l1 = nn.Linear(self.latent_dim, self.hidden)
        self.l2 = nn.Linear(self.hidden, self.hidden)
        self.l3 = nn.Linear(self.hidden, self.channels * self.img_size**2)
        self.drop = nn.Dropout(self.p_drop)

    @property
    def latent_shape(self) -> tuple[int]:
        return (self.latent_dim,)

    def arch_kwargs(self) -> dict[str, Any]:
        return {
            "latent_dim": self.latent_dim,
            "hidden": self.hidden,
            "channels": self.channels,
            "img_size": self.img_size,
            "p_drop": self.p_drop,
        }

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h1 = F.relu(self.l1(flat_latent(z)))
        h2 = F.relu(self.l2(h1))
        image = torch.tanh(self.l3(self.drop(h2) + h1))
        return image.view(image.shape[0], self.channels, self.img_size, self.img_size)


def recognise(tensors: Mapping[str, torch.Tensor]) -> dict[str, Any] | None:
    """Kwargs from a file whose keys are exactly ``l1``, ``l2``, ``l3`` weights and biases,
    the weights 2-D and chained (z -> h -> h -> C R R); None for any other file. The image's
    shape is read from the output width (:func:`square_image`), where it tells one, until
    the saved settings (:func:`settings_saved`) give it."""
    if set(tensors) != _KEYS or any(tensors[f"l{i}.weight"].dim() != 2 for i in (1, 2, 3)):
        return None
    first, middle, last = (tensors[f"l{i}.weight"] for i in (1, 2, 3))
    hidden = int(first.shape[0])
    if tuple(middle.shape) != (hidden, hidden) or int(last.shape[1]) != hidden:
        return None
    kwargs: dict[str, Any] = {"latent_dim": int(first.shape[1]), "hidden": hidden}
    if (image := square_image(int(last.shape[0]))) is not None:
        kwargs["channels"], kwargs["img_size"] = image
    return {**kwargs, "p_drop": ZOO_DROPOUT}


def settings_saved(kwargs: dict[str, Any], saved: Mapping[str, Any]) -> dict[str, Any]:
    """The zoo's saved ``network_type`` (required: the skip connection is in no weight),
    ``p_drop`` and image shape (``image_channels``, ``image_dim``)."""
    if saved.get("network_type") != NETWORK_TYPE:
        raise LayoutMismatch(
            "no weight holds its skip connection, and no saved hyper_parameters say "
            f"network_type: {NETWORK_TYPE}"
        )
    out = dict(kwargs)
    if (p_drop := saved_p_drop(saved)) is not None:
        out["p_drop"] = p_drop
    channels, size = saved.get("image_channels"), saved.get("image_dim")
    if isinstance(channels, int) and isinstance(size, int) and channels > 0 and size > 0:
        out["channels"], out["img_size"] = channels, size  # l3's shape is checked on loading
    elif "channels" not in kwargs:
        raise LayoutMismatch(
            "its output width is not channels x image_dim x image_dim for 3 or 1 channels, "
            "and the saved settings name no image_channels and image_dim"
        )
    return out
