"""dcgan-pytorch (Lornatang's DCGAN-PyTorch, tried at 0.2.0), on files its own code writes.

The package builds its networks by name (``Generator.from_name("g-mnist")``, no download;
``from_pretrained`` fetches the released weights, which ``load_pretrained_weights`` reads
back with ``load_state_dict``): PyTorch's DCGAN example stack under ``main``, 100-d latent,
64 x 64. Its repository's training script saves ``torch.save(netG.state_dict(), ...)``, so
the file is that state dict, and it loads with no option as ``dcgan``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from real_packages import max_relative_difference, trained_like
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.loading import load_generator

dcgan_pytorch = pytest.importorskip(
    "dcgan_pytorch",
    reason="dcgan-pytorch is not installed (pip install --no-deps dcgan-pytorch==0.2.0)",
)


@pytest.mark.parametrize("name", ["g-mnist", "g-cifar"])
def test_its_netg_loads_with_no_option_and_reproduces_it(tmp_path: Path, name: str) -> None:
    torch.manual_seed(0)
    own = trained_like(dcgan_pytorch.Generator.from_name(name))
    path = tmp_path / "netG_epoch_0.pth"
    torch.save(own.state_dict(), path)  # the training script's own call
    loaded = load_generator(path)
    info = loaded.info
    channels = 1 if name == "g-mnist" else 3
    assert (info.architecture, info.arch_source) == ("dcgan", "recognised")
    assert info.latent_shape == (100, 1, 1) and info.output_shape == (channels, 64, 64)
    z = torch.randn(8, 100, 1, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        want, got = own(z), loaded.module.eval()(z)
    # Measured 0.0: the same float32 operations.
    assert max_relative_difference(got, want) <= 1e-5


def test_inspect_and_a_short_probe(tmp_path: Path) -> None:
    path = tmp_path / "netG_epoch_3.pth"
    torch.manual_seed(0)
    torch.save(trained_like(dcgan_pytorch.Generator.from_name("g-mnist")).state_dict(), path)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    facts = json.loads(result.stdout)
    assert facts["architecture"] == "dcgan" and facts["parameters"] == 3_574_656
    real = torch.rand(300, 1, 64, 64, generator=torch.Generator().manual_seed(0)) * 2 - 1
    config = ProbeConfig(steps=10, batch_size=16, heldout_min=64)
    report = gandoctor.probe(path, real, config=config)
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "dcgan"
    assert checkpoint.outcome.summary is not None and checkpoint.outcome.summary.steps_run == 10
