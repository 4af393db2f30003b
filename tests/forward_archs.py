"""Generators as other repositories write them, loaded the way a user's are (``--arch
tests/forward_archs.py:NAME``): normalised weights, factories, constructors that take
modules or configs, forwards that need more than z or return more than an image. All make
16x16 grey images from a 16-vector."""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils import parametrizations, spectral_norm, weight_norm

LATENT = 16


def _mlp(first: nn.Module) -> nn.Sequential:
    return nn.Sequential(first, nn.ReLU(), nn.Linear(64, 256), nn.Tanh())


class SpectralNormGenerator(nn.Module):
    """The old hook API, as SAGAN-style repositories use it: ``weight_orig``, ``weight_u``
    and ``weight_v`` in the state dict, ``weight`` recomputed before every forward."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp(spectral_norm(nn.Linear(LATENT, 64)))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


class ParametrizedSpectralNormGenerator(SpectralNormGenerator):
    """The parametrization API: ``parametrizations.weight.original``."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp(parametrizations.spectral_norm(nn.Linear(LATENT, 64)))


class WeightNormGenerator(SpectralNormGenerator):
    """Weight normalisation: ``weight_g`` and ``weight_v``."""

    def __init__(self) -> None:
        super().__init__()
        with warnings.catch_warnings():  # the old API, deprecated but in use
            warnings.simplefilter("ignore", FutureWarning)
            self.net = _mlp(weight_norm(nn.Linear(LATENT, 64)))


class DepthAlphaGenerator(nn.Module):
    """A progressive-growing forward, ``G(z, depth, alpha)``: needs --forward-kwargs."""

    def __init__(self) -> None:
        super().__init__()
        self.net = _mlp(nn.Linear(LATENT, 64))

    def forward(self, z: torch.Tensor, depth: int, alpha: float) -> torch.Tensor:
        assert depth == 3 and alpha == 1.0, "called without the forward kwargs"
        return self.net(z).view(-1, 1, 16, 16)


class TupleGenerator(DepthAlphaGenerator):
    """Returns ``(image, w)``, as StyleGAN-like code does: needs --output-index 0."""

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:  # type: ignore[override]
        return self.net(z).view(-1, 1, 16, 16), z


@dataclass(frozen=True)
class GeneratorConfig:
    """A config object some constructors take instead of plain arguments."""

    hidden: int = 64


class ConfiguredGenerator(nn.Module):
    """Built from a config object and an activation module, through a classmethod."""

    def __init__(self, config: GeneratorConfig, activation: nn.Module) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(LATENT, config.hidden), activation,
                                 nn.Linear(config.hidden, 256), nn.Tanh())  # fmt: skip

    @classmethod
    def from_config(cls, hidden: int = 64) -> ConfiguredGenerator:
        return cls(GeneratorConfig(hidden), nn.ReLU())

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


def make_generator(hidden: int = 64) -> nn.Module:
    """A factory function rather than a class."""
    return ConfiguredGenerator(GeneratorConfig(hidden), nn.ReLU())


class MLPDiscriminator(nn.Module):
    """A D gandoctor does not recognise, ending in a Sigmoid as many repositories write it
    (``--disc tests/forward_archs.py:MLPDiscriminator``)."""

    def __init__(self, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Flatten(), nn.Linear(256, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, 1),
            nn.Sigmoid(),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class ConfigOnlyGenerator(nn.Module):
    """``Generator(config)`` with an annotated config class (gan-pytorch's ``global_params``):
    built from the ``config.json`` beside the weights."""

    def __init__(self, config: GeneratorConfig) -> None:
        super().__init__()
        self.net = _mlp(nn.Linear(LATENT, config.hidden)) if config.hidden == 64 else (
            nn.Sequential(nn.Linear(LATENT, config.hidden), nn.ReLU(),
                          nn.Linear(config.hidden, 256), nn.Tanh()))  # fmt: skip

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z).view(-1, 1, 16, 16)


class DictConfigGenerator(ConfigOnlyGenerator):
    """Has ``from_config(config: dict)``, as config-mixin libraries write it, and a
    constructor that needs more than the config."""

    def __init__(self, config: GeneratorConfig, scale: float) -> None:
        super().__init__(config)
        self.scale = scale

    @classmethod
    def from_config(cls, config: dict) -> DictConfigGenerator:
        return cls(GeneratorConfig(**config), 1.0)


class NamedGenerator(ConfigOnlyGenerator):
    """Built only from a model name (``Generator.from_name("g-mnist")``)."""

    def __init__(self, config: GeneratorConfig, extra: int) -> None:
        super().__init__(config)

    @classmethod
    def from_name(cls, name: str) -> NamedGenerator:
        return cls(GeneratorConfig(32 if name == "small" else 64), 0)


class HubGenerator(NamedGenerator):
    """Also has a ``from_pretrained`` that would fetch weights (as Lornatang's packages)."""

    @classmethod
    def from_pretrained(cls, name: str) -> NamedGenerator:
        raise AssertionError("never called by gandoctor: it would download weights")
