"""gandoctor adapter for pytorch-pretrained-biggan (``pip install pytorch-pretrained-biggan``).

BigGAN's forward is ``G(z, class_vector, truncation)``: a one-hot class vector and a
truncation value beside z, and its constructor takes a ``BigGANConfig`` object. Neither is
something the probe's ``G(z, labels)`` call can say, so this file does::

    gandoctor probe biggan.pt --data ./imgs --adapter examples/adapters/biggan.py \\
        --arch-kwargs '{"num_classes": 10, "channel_width": 64, "truncation": 1.0}'

``biggan.pt`` is a ``torch.save(model.state_dict())`` of the BigGAN; ``--arch-kwargs`` are
the BigGANConfig fields it was built with, and the truncation to sample at.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor import GeneratorSpec


class ClassConditionalBigGAN(nn.Module):
    """``G(z, labels)`` -> BigGAN(z, one_hot(labels), truncation)."""

    def __init__(self, biggan: nn.Module, num_classes: int, truncation: float) -> None:
        super().__init__()
        self.biggan, self.num_classes, self.truncation = biggan, num_classes, truncation

    def forward(self, z: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        classes = F.one_hot(labels.long(), self.num_classes).to(z.dtype)
        return self.biggan(z, classes, self.truncation)


def build(state: dict[str, torch.Tensor], truncation: float = 1.0, **config: Any) -> GeneratorSpec:
    from pytorch_pretrained_biggan import BigGAN, BigGANConfig

    biggan = BigGAN(BigGANConfig(**config))
    biggan.load_state_dict(state)
    num_classes = biggan.config.num_classes
    return GeneratorSpec(
        module=ClassConditionalBigGAN(biggan, num_classes, truncation),
        latent_shape=(biggan.config.z_dim,),
        output_range=(-1.0, 1.0),  # a final tanh
        num_classes=num_classes,
    )
