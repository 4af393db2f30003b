"""Probe discriminators: freshly initialised, sized to the generator's output."""

from __future__ import annotations

import torch
from torch import nn

from gandoctor.errors import ConfigError

# Half the width of the PyTorch DCGAN example's discriminator (ndf=64): strong enough to
# saturate against an untrained generator within tens of steps, cheap enough for a CPU.
DEFAULT_CONV_WIDTH = 32
MAX_CONV_WIDTH = 256
DEFAULT_MLP_WIDTH = 256


class ConvProbe(nn.Module):
    """DCGAN-style discriminator: 4x4 stride-2 convolutions with LeakyReLU(0.2) down to a
    4x4 map (or smaller), then a linear read-out to one logit.

    No BatchNorm, unlike the DCGAN discriminator: batch statistics make D(x) depend on the
    batch x is evaluated in, and the probe evaluates held-out real and fake samples in
    separate batches. Its held-out accuracy must describe D, not the batch composition.
    """

    def __init__(self, channels: int, height: int, width: int, base_width: int) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        in_ch, out_ch, h, w = channels, base_width, height, width
        while min(h, w) > 4:
            layers += [nn.Conv2d(in_ch, out_ch, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
            in_ch, h, w = out_ch, h // 2, w // 2
            out_ch = min(out_ch * 2, MAX_CONV_WIDTH)
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(in_ch * h * w, 1)
        _dcgan_init(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x).flatten(1)).squeeze(1)


class MLPProbe(nn.Module):
    """Discriminator for vector-valued generators: two hidden layers with LeakyReLU(0.2)."""

    def __init__(self, features: int, hidden: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(features, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, hidden),
            nn.LeakyReLU(0.2),
            nn.Linear(hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).squeeze(1)


def _dcgan_init(module: nn.Module) -> None:
    # DCGAN's initialisation, N(0, 0.02): the probe should start where the paper's D did.
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.Linear):
            nn.init.normal_(m.weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def build_probe_discriminator(sample_shape: tuple[int, ...], width: int | None = None) -> nn.Module:
    """A fresh probe D for samples of ``sample_shape`` (no batch axis); it returns logits."""
    if width is not None and width < 1:
        raise ConfigError(f"discriminator width must be at least 1, got {width}")
    if len(sample_shape) == 3:
        channels, height, w = sample_shape
        return ConvProbe(channels, height, w, width or DEFAULT_CONV_WIDTH)
    if len(sample_shape) == 1:
        return MLPProbe(sample_shape[0], width or DEFAULT_MLP_WIDTH)
    raise ConfigError(
        f"no probe discriminator for samples of shape {tuple(sample_shape)}: "
        "expected (channels, height, width) images or (features,) vectors"
    )
