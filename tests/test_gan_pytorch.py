"""Lornatang's MLP GAN packages, on files their own code writes: gan-pytorch 0.4.0
(GAN-PyTorch), wgan-pytorch 0.1.2 and wgangp-pytorch 0.1.4 (WassersteinGAN and WGAN-GP
PyTorch), whose generators are the same module.

Each training script (``example/main.py`` in the repositories) saves
``torch.save(generator.state_dict(), f"{outf}/netG_epoch_{epoch}.pth")``, wrapped in
DataParallel on several GPUs (``module.main.*``). The generator is PyTorch-GAN's MLP stack
under ``main``, so it loads with no option as ``pytorch_gan_mlp``; its widths are fixed by the
package, the latent size and image shape read off the weights.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest
import torch
from real_packages import max_relative_difference, trained_like
from torch import nn
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.loading import load_generator

PACKAGES = {"gan_pytorch": "gan-pytorch==0.4.0", "wgan_pytorch": "wgan-pytorch==0.1.2",
            "wgangp_pytorch": "wgangp-pytorch==0.1.4"}  # fmt: skip


def package_generator(name: str, channels: int = 1, image_size: int = 16) -> nn.Module:
    package = pytest.importorskip(
        name, reason=f"{PACKAGES[name]} is not installed (pip install --no-deps {PACKAGES[name]})"
    )
    model = importlib.import_module(f"{name}.utils").model
    torch.manual_seed(0)
    return trained_like(package.Generator(model(channels=channels, image_size=image_size)))


@pytest.mark.parametrize("name", PACKAGES)
@pytest.mark.parametrize("wrapped", [False, True])
def test_its_netg_loads_with_no_option_and_reproduces_it(
    tmp_path: Path, wrapped: bool, name: str
) -> None:
    own = package_generator(name)
    path = tmp_path / "netG_epoch_0.pth"
    saved = nn.DataParallel(own) if wrapped else own
    torch.save(saved.state_dict(), path)  # the script's own call
    loaded = load_generator(path)
    info = loaded.info
    assert (info.architecture, info.arch_source) == ("pytorch_gan_mlp", "recognised")
    assert info.arch_kwargs == {"latent_dim": 100, "channels": 1, "img_size": 16,
                                "widths": [128, 256, 512, 1024], "attr": "main"}  # fmt: skip
    assert info.latent_shape == (100,) and info.output_shape == (1, 16, 16)
    z = torch.randn(8, 100, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = own(z), loaded.module.eval()(z)
    # Measured 0.0: the same float32 operations, BatchNorm1d eps 0.8 included.
    assert max_relative_difference(got, want) <= 1e-5


def test_inspect_and_a_short_probe(tmp_path: Path) -> None:
    path = tmp_path / "netG_epoch_3.pth"
    torch.save(package_generator("gan_pytorch").state_dict(), path)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["architecture"] == "pytorch_gan_mlp"
    real = torch.rand(300, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    config = ProbeConfig(steps=20, batch_size=16, heldout_min=64)
    report = gandoctor.probe(path, real, config=config)
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "pytorch_gan_mlp"
    assert checkpoint.outcome.verdict is not None
