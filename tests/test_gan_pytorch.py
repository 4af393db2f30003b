"""gan-pytorch (Lornatang's GAN-PyTorch, tried at 0.4.0), on files its own code writes.

Its training script (``example/main.py`` in the repository) saves
``torch.save(generator.state_dict(), f"{outf}/netG_epoch_{epoch}.pth")``, wrapped in
DataParallel on several GPUs (``module.main.*``). The generator is PyTorch-GAN's MLP stack
under ``main``, so it loads with no option as ``pytorch_gan_mlp``; its widths are fixed by the
package, the latent size and image shape read off the weights.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from real_packages import relative_difference, trained_like
from torch import nn
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.loading import load_generator

gan_pytorch = pytest.importorskip(
    "gan_pytorch", reason="gan-pytorch is not installed (pip install --no-deps gan-pytorch==0.4.0)"
)


def package_generator(channels: int = 1, image_size: int = 16) -> nn.Module:
    from gan_pytorch.utils import model

    torch.manual_seed(0)
    return trained_like(gan_pytorch.Generator(model(channels=channels, image_size=image_size)))


@pytest.mark.parametrize("wrapped", [False, True])
def test_its_netg_loads_with_no_option_and_reproduces_it(tmp_path: Path, wrapped: bool) -> None:
    own = package_generator()
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
    assert relative_difference(got, want) <= 1e-5


def test_inspect_and_a_short_probe(tmp_path: Path) -> None:
    path = tmp_path / "netG_epoch_3.pth"
    torch.save(package_generator().state_dict(), path)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["architecture"] == "pytorch_gan_mlp"
    real = torch.rand(300, 1, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    config = ProbeConfig(steps=20, batch_size=16, heldout_min=64)
    report = gandoctor.probe(path, real, config=config)
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "pytorch_gan_mlp"
    assert checkpoint.outcome.verdict is not None
