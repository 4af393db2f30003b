"""gandoctor adapter for lucidrains' lightweight-gan (``pip install lightweight-gan``).

Its checkpoints (``models/default/model_N.pt``) are ``{"GAN": state_dict, "version": ...}``
with the generator ``G``, its moving average ``GE`` and the discriminator ``D`` under one
state dict; gandoctor picks ``GE`` and loads such checkpoints with its own build of the
generator, no adapter needed. This adapter runs the package's own code instead, and shows
how to adapt a package that cannot be imported as it is: the package asserts a CUDA GPU
as it is imported, so this adapter imports it with ``torch.cuda.is_available`` patched,
builds the generator on the CPU, and declares what its constructor does not say::

    gandoctor probe models/default/model_100.pt --data ./imgs \\
        --adapter examples/adapters/lightweight_gan.py \\
        --arch-kwargs '{"image_size": 256, "latent_dim": 256}'

``--arch-kwargs`` are the ``lightweight_gan`` options the model was trained with
(``image_size``, ``latent_dim``, ``fmap_max``, ``transparent``, ``greyscale``,
``attn_res_layers``, ...).
"""

from __future__ import annotations

import importlib
from typing import Any
from unittest import mock

import torch

from gandoctor import GeneratorSpec

PACKAGE = "lightweight_gan.lightweight_gan"


def import_without_gpu(name: str) -> Any:
    """Import a module that asserts ``torch.cuda.is_available()`` at import time. Nothing
    runs on CUDA: the assertion is the only use of the GPU at import."""
    with mock.patch.object(torch.cuda, "is_available", return_value=True):
        return importlib.import_module(name)


def build(state: dict[str, torch.Tensor], latent_dim: int, image_size: int,
          **options: Any) -> GeneratorSpec:  # fmt: skip
    package = import_without_gpu(PACKAGE)
    generator = package.Generator(latent_dim=latent_dim, image_size=image_size, **options)
    generator.load_state_dict(state)
    return GeneratorSpec(
        module=generator,
        latent_shape=(latent_dim,),  # its first layer is a ConvTranspose2d, but z is (N, latent)
        output_range=(0.0, 1.0),  # trained on ToTensor() images; no final activation
    )
