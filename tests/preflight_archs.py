"""Small architectures with one known defect each, for ``gandoctor preflight`` tests. They
are loaded the way a user's are: ``--arch tests/preflight_archs.py:Class``. All make
16x16 grey images from a 16-vector (the sizes of the test digits)."""

from __future__ import annotations

import torch
from torch import nn

LATENT = 16


class SigmoidGenerator(nn.Module):
    """A healthy MLP whose final Sigmoid bounds its outputs to [0, 1]."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, 128), nn.ReLU(), nn.Linear(128, 256),
                                 nn.Sigmoid())  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


class ConstantGenerator(nn.Module):
    """Makes one learned image whatever z is (z only enters multiplied by 0)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(LATENT, 256)
        self.image = nn.Parameter(torch.rand(1, 16, 16) * 2 - 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.image + 0 * self.fc(z).view(-1, 1, 16, 16))


class DeadLayerGenerator(nn.Module):
    """A live path plus a dead branch: ``dead_in``'s output goes through ReLU(-|.|), always 0
    with zero derivative, so neither it nor ``dead_out`` (which sees only zeros and has no
    bias) ever gets a gradient."""

    def __init__(self) -> None:
        super().__init__()
        self.live = nn.Linear(LATENT, 256)
        self.dead_in = nn.Linear(LATENT, 32)
        self.dead_out = nn.Linear(32, 256, bias=False)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        hidden = torch.relu(-self.dead_in(z).abs())
        return torch.tanh(self.live(z) + self.dead_out(hidden)).view(-1, 1, 16, 16)


class BatchNorm1dGenerator(nn.Module):
    """An MLP with BatchNorm1d, as in PyTorch-GAN: fails on a batch of one in train mode."""

    def __init__(self, hidden: int = 128) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(LATENT, hidden), nn.BatchNorm1d(hidden), nn.ReLU(),
            nn.Linear(hidden, 256), nn.Tanh(),
        )  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


class ColourGenerator(nn.Module):
    """A healthy generator of 3-channel 16x16 images (against grey data: a channel mismatch)."""

    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, 3 * 256), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 3, 16, 16)


class SigmoidDiscriminator(nn.Module):
    """A DCGAN-example-style D that ends in a Sigmoid (probabilities, not logits)."""

    def __init__(self, channels: int = 1) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, 16, 4, 2, 1), nn.LeakyReLU(0.2),
            nn.Conv2d(16, 32, 4, 2, 1), nn.BatchNorm2d(32), nn.LeakyReLU(0.2),
            nn.Flatten(), nn.Linear(32 * 4 * 4, 1), nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).view(-1)


class DeepSigmoidGenerator(nn.Module):
    """Ten sigmoid layers under PyTorch's default initialisation: each one passes back at
    most a quarter of the gradient, so the first layers get almost nothing (measured: the
    gradient per weight spans 8.7 decades across layers)."""

    def __init__(self, depth: int = 10, width: int = 128) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        size = LATENT
        for _ in range(depth):
            layers += [nn.Linear(size, width), nn.Sigmoid()]
            size = width
        self.net = nn.Sequential(*layers, nn.Linear(width, 256), nn.Tanh())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


class GatedAttentionGenerator(nn.Module):
    """SAGAN's self-attention behind its gate gamma, initialised to 0 as attn-gan-pytorch
    (CustomLayers.SelfAttention) and the SAGAN paper do: at step 0 the query, key and value
    convolutions get no gradient (the gate multiplies their path by 0), gamma does, and
    after one optimiser step all of them train. Not a dead layer."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Linear(LATENT, 8 * 16 * 16)
        self.query_conv = nn.Conv2d(8, 2, 1)
        self.key_conv = nn.Conv2d(8, 2, 1)
        self.value_conv = nn.Conv2d(8, 8, 1)
        self.gamma = nn.Parameter(torch.zeros(1))
        self.to_image = nn.Conv2d(8, 1, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.stem(z)).view(-1, 8, 16, 16)
        query = self.query_conv(x).flatten(2).transpose(1, 2)
        key = self.key_conv(x).flatten(2)
        attention = torch.softmax(query @ key, dim=-1)
        value = self.value_conv(x).flatten(2)
        attended = (value @ attention.transpose(1, 2)).view_as(x)
        return torch.tanh(self.to_image(self.gamma * attended + x))


class SpectralGatedAttentionGenerator(GatedAttentionGenerator):
    """The same behind torch's own ``spectral_norm``, as SAGAN trains it: every forward leaves
    each wrapped convolution's ``weight`` a computed tensor, which a plain deep copy of the
    module refuses (attn-gan-pytorch's own SpectralNorm does the same)."""

    def __init__(self) -> None:
        super().__init__()
        for name in ("query_conv", "key_conv", "value_conv"):
            setattr(self, name, nn.utils.spectral_norm(getattr(self, name)))
