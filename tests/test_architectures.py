"""Tests of the architectures recognised from a state dict alone.

Each reference generator below is written the way its original repository writes it, not
with gandoctor's classes: the test is that a file saved from the original loads, is
recognised as exactly one architecture, and computes exactly what the original computes.
Everything runs on CPU with small sizes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading import REGISTRY, architecture_metadata, load_generator
from gandoctor.loading.layouts.architectures.base import LayoutMismatch, square_image
from gandoctor.loading.layouts.architectures.lightweight_gan import LightweightGANGenerator
from gandoctor.loading.layouts.architectures.lucidrains import LucidrainsStyleGAN2
from gandoctor.loading.layouts.architectures.stylegan2.rosinality import RosinalityGenerator
from gandoctor.loading.layouts.architectures.wgan_dcgan import WGANDCGANGenerator

# --- the original generators, as their repositories write them -----------------------------


class ExampleDCGAN(nn.Module):
    """pytorch/examples dcgan ``Generator`` (64x64); ``attr="model"`` as Hugging Face saves it."""

    def __init__(self, nz: int, ngf: int, nc: int, attr: str = "main") -> None:
        super().__init__()
        stack = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 8),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )
        self.attr = attr
        self.add_module(attr, stack)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.get_submodule(self.attr)(z)


class WganDCGANG(nn.Module):
    """The WGAN authors' ``DCGAN_G`` (``batchnorm=False``: ``DCGAN_G_nobn``)."""

    def __init__(
        self, isize: int, nz: int, nc: int, ngf: int, n_extra_layers: int = 0, bn: bool = True
    ) -> None:
        super().__init__()
        cngf, tisize = ngf // 2, 4
        while tisize != isize:
            cngf = cngf * 2
            tisize = tisize * 2
        main = nn.Sequential()
        main.add_module(
            f"initial:{nz}-{cngf}:convt", nn.ConvTranspose2d(nz, cngf, 4, 1, 0, bias=False)
        )
        if bn:
            main.add_module(f"initial:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
        main.add_module(f"initial:{cngf}:relu", nn.ReLU(True))
        csize = 4
        while csize < isize // 2:
            main.add_module(
                f"pyramid:{cngf}-{cngf // 2}:convt",
                nn.ConvTranspose2d(cngf, cngf // 2, 4, 2, 1, bias=False),
            )
            if bn:
                main.add_module(f"pyramid:{cngf // 2}:batchnorm", nn.BatchNorm2d(cngf // 2))
            main.add_module(f"pyramid:{cngf // 2}:relu", nn.ReLU(True))
            cngf = cngf // 2
            csize = csize * 2
        for t in range(n_extra_layers):
            main.add_module(
                f"extra-layers-{t}:{cngf}:conv", nn.Conv2d(cngf, cngf, 3, 1, 1, bias=False)
            )
            if bn:
                main.add_module(f"extra-layers-{t}:{cngf}:batchnorm", nn.BatchNorm2d(cngf))
            main.add_module(f"extra-layers-{t}:{cngf}:relu", nn.ReLU(True))
        main.add_module(
            f"final:{cngf}-{nc}:convt", nn.ConvTranspose2d(cngf, nc, 4, 2, 1, bias=False)
        )
        main.add_module(f"final:{nc}:tanh", nn.Tanh())
        self.main = main

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class WganMLPG(nn.Module):
    """The WGAN authors' ``MLP_G``."""

    def __init__(self, isize: int, nz: int, nc: int, ngf: int) -> None:
        super().__init__()
        self.main = nn.Sequential(
            nn.Linear(nz, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, ngf),
            nn.ReLU(True),
            nn.Linear(ngf, nc * isize * isize),
        )
        self.nc, self.isize = nc, isize

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        z = z.view(z.size(0), z.size(1))
        out = self.main(z)
        return out.view(out.size(0), self.nc, self.isize, self.isize)


class PyTorchGANMLP(nn.Module):
    """PyTorch-GAN ``implementations/gan/gan.py`` ``Generator`` (``eps`` only to test it)."""

    def __init__(
        self,
        latent_dim: int,
        img_shape: tuple[int, int, int],
        widths: tuple[int, int, int, int] = (128, 256, 512, 1024),
        eps: float = 0.8,
    ) -> None:
        super().__init__()
        self.img_shape = img_shape

        def block(in_feat: int, out_feat: int, normalize: bool = True) -> list[nn.Module]:
            layers: list[nn.Module] = [nn.Linear(in_feat, out_feat)]
            if normalize:
                layers.append(nn.BatchNorm1d(out_feat, eps))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        a, b, c, d = widths
        self.model = nn.Sequential(
            *block(latent_dim, a, normalize=False),
            *block(a, b),
            *block(b, c),
            *block(c, d),
            nn.Linear(d, int(np.prod(img_shape))),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        img = self.model(z)
        return img.view(img.size(0), *self.img_shape)


class PyTorchGANDCGAN(nn.Module):
    """PyTorch-GAN ``implementations/dcgan/dcgan.py`` ``Generator`` (``eps`` only to test it)."""

    def __init__(self, latent_dim: int, img_size: int, channels: int, eps: float = 0.8) -> None:
        super().__init__()
        self.init_size = img_size // 4
        self.l1 = nn.Sequential(nn.Linear(latent_dim, 128 * self.init_size**2))
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(128),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 128, 3, stride=1, padding=1),
            nn.BatchNorm2d(128, eps),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(128, 64, 3, stride=1, padding=1),
            nn.BatchNorm2d(64, eps),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(64, channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        out = self.l1(z)
        out = out.view(out.shape[0], 128, self.init_size, self.init_size)
        return self.conv_blocks(out)


# --- the cases -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    id: str
    architecture: str
    reference: Callable[[], nn.Module]
    kwargs: dict[str, Any]
    latent_shape: tuple[int, ...]
    output_shape: tuple[int, int, int]
    bounded: bool = True
    """Ends in tanh, so the range is declared (-1, 1); otherwise it is observed."""


def wgan_dcgan_kwargs(
    isize: int, nz: int, nc: int, ngf: int, extra: int, bn: bool
) -> dict[str, Any]:
    return {
        "isize": isize,
        "nz": nz,
        "nc": nc,
        "ngf": ngf,
        "n_extra_layers": extra,
        "batchnorm": bn,
    }


CASES = [
    Case(
        # gandoctor's own build (tests/test_lucidrains.py checks it against the package).
        "lucidrains-stylegan2-16",
        "lucidrains_stylegan2",
        lambda: LucidrainsStyleGAN2(latent_dim=12, style_depth=2, filters=[16, 16, 8, 4]),
        {"latent_dim": 12, "style_depth": 2, "filters": [16, 16, 8, 4], "channels": 3},
        (12,),
        (3, 16, 16),
    ),
    Case(
        # gandoctor's own build (tests/test_lightweight_gan.py checks it against the package).
        "lightweight-gan-32",
        "lightweight_gan",
        lambda: LightweightGANGenerator(
            latent_dim=8, features=[8, 4, 4], channels=1, attention=[None, 256, None]
        ),
        {
            "latent_dim": 8,
            "features": [8, 4, 4],
            "channels": 1,
            "sle": [None, None, None],
            "attention": [None, 256, None],
        },
        (8,),
        (1, 32, 32),
    ),
    Case(
        # gandoctor's own build (tests/test_rosinality.py checks it against rosinality's
        # code); here: recognised from its keys, claimed by no other layout.
        "rosinality-stylegan2-16",
        "rosinality_stylegan2",
        lambda: RosinalityGenerator(style_dim=16, n_mlp=2, channels=[8, 8, 4]),
        {"style_dim": 16, "n_mlp": 2, "channels": [8, 8, 4], "img_channels": 3},
        (16,),
        (3, 16, 16),
    ),
    Case(
        "dcgan-main-64",
        "dcgan",
        lambda: ExampleDCGAN(nz=20, ngf=4, nc=3),
        {"latent_dim": 20, "widths": [32, 16, 8, 4], "out_channels": 3},
        (20, 1, 1),
        (3, 64, 64),
    ),
    Case(
        "dcgan-model-64",
        "dcgan",
        lambda: ExampleDCGAN(nz=100, ngf=8, nc=1, attr="model"),
        {"latent_dim": 100, "widths": [64, 32, 16, 8], "out_channels": 1, "attr": "model"},
        (100, 1, 1),
        (1, 64, 64),
    ),
    *(
        Case(
            f"wgan-dcgan-{isize}-extra{extra}-{'bn' if bn else 'nobn'}",
            "wgan_dcgan",
            lambda isize=isize, nz=nz, nc=nc, extra=extra, bn=bn: WganDCGANG(  # type: ignore[misc]
                isize, nz, nc, 8, extra, bn
            ),
            wgan_dcgan_kwargs(isize, nz, nc, 8, extra, bn),
            (nz, 1, 1),
            (nc, isize, isize),
        )
        for isize, nz, nc, extra, bn in [
            (32, 16, 3, 0, True),
            (64, 100, 1, 1, True),
            (32, 12, 1, 1, False),
            (64, 10, 3, 0, False),
        ]
    ),
    Case(
        "wgan-mlp-nc3",
        "wgan_mlp",
        lambda: WganMLPG(isize=32, nz=16, nc=3, ngf=24),
        {"isize": 32, "nz": 16, "nc": 3, "ngf": 24},
        (16,),
        (3, 32, 32),
        bounded=False,
    ),
    Case(
        "wgan-mlp-nc1",
        "wgan_mlp",
        lambda: WganMLPG(isize=28, nz=100, nc=1, ngf=64),
        {"isize": 28, "nz": 100, "nc": 1, "ngf": 64},
        (100,),
        (1, 28, 28),
        bounded=False,
    ),
    Case(
        "pytorch-gan-mlp-small",
        "pytorch_gan_mlp",
        lambda: PyTorchGANMLP(latent_dim=12, img_shape=(3, 16, 16), widths=(16, 32, 24, 40)),
        {"latent_dim": 12, "channels": 3, "img_size": 16, "widths": [16, 32, 24, 40]},
        (12,),
        (3, 16, 16),
    ),
    Case(
        "pytorch-gan-mlp-mnist",
        "pytorch_gan_mlp",
        lambda: PyTorchGANMLP(latent_dim=100, img_shape=(1, 28, 28)),
        {"latent_dim": 100, "channels": 1, "img_size": 28, "widths": [128, 256, 512, 1024]},
        (100,),
        (1, 28, 28),
    ),
    Case(
        "pytorch-gan-dcgan-32",
        "pytorch_gan_dcgan",
        lambda: PyTorchGANDCGAN(latent_dim=100, img_size=32, channels=3),
        {"latent_dim": 100, "img_size": 32, "channels": 3},
        (100,),
        (3, 32, 32),
    ),
    Case(
        "pytorch-gan-dcgan-28",
        "pytorch_gan_dcgan",
        lambda: PyTorchGANDCGAN(latent_dim=8, img_size=28, channels=1),
        {"latent_dim": 8, "img_size": 28, "channels": 1},
        (8,),
        (1, 28, 28),
    ),
]
SMALL = [case for case in CASES if case.id in {
    "dcgan-main-64", "wgan-dcgan-32-extra0-bn", "wgan-dcgan-32-extra1-nobn", "wgan-mlp-nc3",
    "pytorch-gan-mlp-small", "pytorch-gan-dcgan-28",
}]  # fmt: skip
"""One small case per layout (both WGAN DCGAN variants), for the key-by-key tests."""


def reference(case: Case, seed: int = 0) -> nn.Module:
    """The case's original generator with random weights and norm statistics, in eval mode:
    non-trivial running statistics make eval mode, and the norms' eps, matter."""
    torch.manual_seed(seed)
    module = case.reference()
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
                assert layer.running_mean is not None and layer.running_var is not None
                layer.running_mean.normal_(0, 0.2)
                layer.running_var.uniform_(0.3, 1.5)
                layer.weight.normal_(1, 0.2)
                layer.bias.normal_(0, 0.2)
    return module.eval()


def save(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> Path:
    save_file({key: value.contiguous() for key, value in tensors.items()}, path, metadata)
    return path


def outputs(module: nn.Module, latent_shape: tuple[int, ...]) -> torch.Tensor:
    z = torch.randn(3, *latent_shape, generator=torch.Generator().manual_seed(7))
    with torch.no_grad():
        return module.eval()(z)


def claimants(tensors: dict[str, torch.Tensor]) -> list[str]:
    """The registered architectures whose recogniser claims ``tensors`` (kwargs or mismatch)."""
    names = []
    for spec in REGISTRY.values():
        try:
            claimed = spec.recognise(tensors) is not None
        except LayoutMismatch:
            claimed = True
        if claimed:
            names.append(spec.name)
    return names


# --- tests ---------------------------------------------------------------------------------


def test_registry_names() -> None:
    assert list(REGISTRY) == [
        "dcgan",
        "wgan_dcgan",
        "wgan_mlp",
        "pytorch_gan_mlp",
        "pytorch_gan_dcgan",
        "ganzoo_fc_skip",
        "lucidrains_stylegan2",
        "lightweight_gan",
        "progan",
        "fasgan",
        "rosinality_stylegan2",
    ]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_recognised_and_identical(tmp_path: Path, case: Case) -> None:
    saved = reference(case)
    path = save(tmp_path / "g.safetensors", saved.state_dict())

    loaded = load_generator(path)

    info = loaded.info
    assert (info.architecture, info.arch_source) == (case.architecture, "recognised")
    assert info.arch_kwargs == case.kwargs
    assert info.latent_shape == case.latent_shape and info.latent_source == "architecture"
    assert info.output_shape == case.output_shape
    if case.bounded:
        declared = REGISTRY[case.architecture].output_range  # [-1, 1]; lucidrains [0, 1]
        assert info.output_range == declared and info.range_source == "architecture"
    else:
        assert info.range_source == "observed"
    assert info.parameters == sum(p.numel() for p in saved.parameters())
    assert torch.equal(outputs(saved, case.latent_shape), outputs(loaded.module, case.latent_shape))
    assert loaded.module.arch_kwargs() == case.kwargs  # type: ignore[operator]


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_each_layout_is_claimed_by_exactly_one_architecture(case: Case) -> None:
    state = reference(case).state_dict()
    assert claimants(state) == [case.architecture]
    for key in state:  # and so is every file with one tensor missing
        assert claimants({k: v for k, v in state.items() if k != key}) == [case.architecture], key


@pytest.mark.parametrize("case", SMALL, ids=lambda case: case.id)
def test_a_missing_tensor_is_named(tmp_path: Path, case: Case) -> None:
    state = reference(case).state_dict()
    nz, nc = case.latent_shape[0], case.output_shape[0]
    for key in state:
        if key.endswith("num_batches_tracked"):
            continue  # tolerated: many exports drop it
        path = save(tmp_path / "g.safetensors", {k: v for k, v in state.items() if k != key})
        if key.startswith("main.extra-layers-") and not case.kwargs["batchnorm"]:
            # Without batch norm an extra layer is one tensor; without it the file is a
            # complete DCGAN_G_nobn with one extra layer fewer, and loads as that.
            extras = load_generator(path).info.arch_kwargs["n_extra_layers"]
            assert extras == case.kwargs["n_extra_layers"] - 1
            continue
        with pytest.raises(CheckpointError) as excinfo:
            load_generator(path)
        text = str(excinfo.value)
        assert "\n" not in text and text.startswith(f"{path}: the checkpoint looks like ")
        # DCGAN_G's nz and nc live only in the name of the tensor that is gone.
        names = {key, key.replace(f":{nz}-", ":<nz>-"), key.replace(f"-{nc}:", "-<nc>:")}
        assert any(f"): missing keys (1): {name}" in text for name in names), text
        assert "unexpected" not in text and "`arch`" in text


@pytest.mark.parametrize("architecture", ["pytorch_gan_mlp", "pytorch_gan_dcgan"])
def test_batchnorm_eps_is_the_scripts(tmp_path: Path, architecture: str) -> None:
    """eps 0.8 is in no tensor; a loader that built the norms with the default would differ."""
    case = next(case for case in CASES if case.architecture == architecture)
    saved = reference(case)
    loaded = load_generator(save(tmp_path / "g.safetensors", saved.state_dict())).module
    plain = reference(case)
    for layer in plain.modules():
        if isinstance(layer, nn.BatchNorm1d | nn.BatchNorm2d):
            layer.eps = 1e-5
    assert torch.equal(outputs(loaded, case.latent_shape), outputs(saved, case.latent_shape))
    assert not torch.allclose(outputs(loaded, case.latent_shape), outputs(plain, case.latent_shape))


def test_wgan_dcgan_names_follow_the_original() -> None:
    """The brief's worked example: isize 64, ngf 64, nz 100 gives 512 down to 64 channels."""
    names = [name for name, _ in WGANDCGANGenerator(isize=64, nz=100, nc=3, ngf=64).named_modules()]
    assert names[1:] == [
        "main",
        "main.initial:100-512:convt",
        "main.initial:512:batchnorm",
        "main.initial:512:relu",
        "main.pyramid:512-256:convt",
        "main.pyramid:256:batchnorm",
        "main.pyramid:256:relu",
        "main.pyramid:256-128:convt",
        "main.pyramid:128:batchnorm",
        "main.pyramid:128:relu",
        "main.pyramid:128-64:convt",
        "main.pyramid:64:batchnorm",
        "main.pyramid:64:relu",
        "main.final:64-3:convt",
        "main.final:3:tanh",
    ]


@pytest.mark.parametrize(
    ("features", "expected"),
    [(3072, (3, 32)), (784, (1, 28)), (4096, (1, 64)), (12288, (3, 64)), (2048, None), (0, None)],
)
def test_square_image(features: int, expected: tuple[int, int] | None) -> None:
    assert square_image(features) == expected


def test_unguessable_mlp_image_shape_asks_for_metadata(tmp_path: Path) -> None:
    saved = WganMLPG(isize=8, nz=4, nc=2, ngf=6).eval()  # 2 x 8 x 8 = 128: neither 3 s^2 nor s^2
    path = save(tmp_path / "g.safetensors", saved.state_dict())
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = str(excinfo.value)
    assert "MLP_G" in text and "128 outputs" in text and "gandoctor.arch_kwargs" in text

    kwargs = {"isize": 8, "nz": 4, "nc": 2, "ngf": 6}
    path = save(
        tmp_path / "m.safetensors", saved.state_dict(), architecture_metadata("wgan_mlp", kwargs)
    )
    loaded = load_generator(path)
    assert loaded.info.arch_source == "metadata" and loaded.info.output_shape == (2, 8, 8)
    assert torch.equal(outputs(saved, (4,)), outputs(loaded.module, (4,)))


def test_mlp_generators_accept_dcgan_style_latents(tmp_path: Path) -> None:
    case = next(case for case in CASES if case.architecture == "pytorch_gan_mlp")
    saved = reference(case)
    module = load_generator(save(tmp_path / "g.safetensors", saved.state_dict())).module
    z = torch.randn(2, 12)
    with torch.no_grad():
        assert torch.equal(module(z[:, :, None, None]), saved(z))
        with pytest.raises(RuntimeError):
            module(torch.randn(2, 6, 2))


def test_old_import_path_still_works() -> None:
    from gandoctor.loading import DCGANGenerator
    from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator as Moved
    from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator as Old

    assert DCGANGenerator is Moved is Old
