"""FasGAN (the ``fasgan`` package, tried at 0.1.0), on the state dict a user saves.

The package ships no training or saving code (its README: ``netG = Generator()``), so the
file is ``torch.save(netG.state_dict(), ...)`` as in the PyTorch DCGAN example, also wrapped
in DataParallel (``module.*``). gandoctor builds the generator itself (``fasgan``), its
widths read off ``conv0``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from real_packages import max_relative_difference
from torch import nn
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.errors import CheckpointError
from gandoctor.loading import load_generator

fasgan = pytest.importorskip(
    "fasgan", reason="fasgan is not installed (pip install --no-deps fasgan==0.1.0)"
)


def package_generator(latent_dim: int = 8, image_dim: int = 2, channels: int = 3) -> nn.Module:
    """The package's Generator, its BatchNorm statistics those of its own activations, as
    training leaves them. Untrained statistics (mean 0, variance 1) shrink the activations
    at every layer in eval mode, to an image of zeros that tells nothing."""
    torch.manual_seed(0)
    module = fasgan.Generator(latent_dim=latent_dim, image_dim=image_dim, num_channels=channels)
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for _ in range(30):
            module.train()(torch.randn(16, latent_dim, 1, 1, generator=generator))
    return module.eval()


@pytest.mark.parametrize(("wrapped", "channels"), [(False, 3), (True, 1)])
def test_its_state_dict_loads_with_no_option_and_reproduces_it(
    tmp_path: Path, wrapped: bool, channels: int
) -> None:
    own = package_generator(channels=channels)
    path = tmp_path / "netG.pth"
    torch.save((nn.DataParallel(own) if wrapped else own).state_dict(), path)
    loaded = load_generator(path)
    info = loaded.info
    assert (info.architecture, info.arch_source) == ("fasgan", "recognised")
    assert info.arch_kwargs == {"latent_dim": 8, "image_dim": 2, "num_channels": channels}
    assert info.latent_shape == (8, 1, 1) and info.output_shape == (channels, 64, 64)
    z = torch.randn(4, 8, 1, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = own(z), loaded.module.eval()(z)
    assert float(want.abs().max()) > 0.05  # an image, not the zeros of untrained statistics
    # Measured 0.0: the same float32 operations.
    assert max_relative_difference(got, want) <= 1e-5


def test_a_missing_layer_is_named(tmp_path: Path) -> None:
    state = package_generator().state_dict()
    del state["block2.0.layer1.0.weight"]
    torch.save(state, tmp_path / "cut.pth")
    with pytest.raises(CheckpointError, match=r"FasGAN.*block2\.0\.layer1\.0\.weight"):
        load_generator(tmp_path / "cut.pth")


def test_inspect_and_a_short_probe(tmp_path: Path) -> None:
    path = tmp_path / "netG_epoch_1.pth"
    torch.save(package_generator().state_dict(), path)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["architecture"] == "fasgan"
    real = torch.rand(200, 3, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    report = gandoctor.probe(path, real, config=ProbeConfig(steps=20, batch_size=16,
                                                            heldout_min=64))  # fmt: skip
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "fasgan"
    assert checkpoint.outcome.verdict is not None
