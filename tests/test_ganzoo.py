"""pytorch-gan-zoo (vmirly's Lightning GAN zoo, tried at 0.0.6), on checkpoints Lightning
writes for its own modules.

Its training scripts (``run/basic_gan/train_*.py``) fit ``LitDCGAN`` or ``LitBasicGANFC``
with ``pl.Trainer``, whose checkpoints hold ``state_dict`` (``generator.net.*`` beside
``discriminator.net.*``) and the ``hyper_parameters`` its modules save. Its modules use
Lightning 1's ``training_step(..., optimizer_idx)``, which Lightning 2 refuses to fit, so the
checkpoint is written by the call the checkpoint callback makes (``trainer.save_checkpoint``)
on a trainer the module is connected to.

The modules import torchvision (image grids, data sets; neither reached here) and
``pytorch_lightning``: torchvision is stubbed for the import, and ``pytorch_lightning`` is
``lightning.pytorch`` where only ``lightning`` is installed.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import torch
from real_packages import max_relative_difference, trained_like
from typer.testing import CliRunner

import gandoctor
from gandoctor.cli import app
from gandoctor.config import ProbeConfig
from gandoctor.loading import load_generator

pytest.importorskip(
    "ganzoo", reason="pytorch-gan-zoo is not installed (pip install --no-deps pytorch-gan-zoo)"
)
lightning = pytest.importorskip("lightning.pytorch", reason="lightning is not installed")


def zoo() -> types.SimpleNamespace:
    stubs: dict[str, types.ModuleType] = {}
    try:
        import torchvision  # noqa: F401
    except ImportError:
        vision = types.ModuleType("torchvision")
        for name in ("utils", "transforms", "datasets"):
            stubs[f"torchvision.{name}"] = types.ModuleType(name)
            setattr(vision, name, stubs[f"torchvision.{name}"])
        stubs["torchvision.transforms.functional"] = types.ModuleType("functional")
        stubs["torchvision.transforms"].functional = stubs["torchvision.transforms.functional"]
        stubs["torchvision"] = vision
    try:
        import pytorch_lightning  # noqa: F401
    except ImportError:
        stubs["pytorch_lightning"] = lightning
    with mock.patch.dict(sys.modules, stubs):
        from ganzoo.lit_modules import basic_fc_gan, dcgan
    return types.SimpleNamespace(dcgan=dcgan, fc=basic_fc_gan)


def save_with_lightning(module: Any, path: Path) -> None:
    trainer = lightning.Trainer(logger=False, enable_checkpointing=False,
                                enable_progress_bar=False, accelerator="cpu")  # fmt: skip
    trainer.strategy.connect(module)
    trainer.save_checkpoint(path)


def make(kind: str) -> Any:
    package = zoo()
    torch.manual_seed(0)
    if kind == "dcgan":
        return package.dcgan.LitDCGAN(
            num_z_units=8, z_distribution="uniform", num_conv_filters=4, image_dim=32,
            image_channels=3, lr=2e-4, beta1=0.5, beta2=0.999, loss_type="vanilla",
        )  # fmt: skip
    return package.fc.LitBasicGANFC(
        num_z_units=8, z_distribution="normal", num_hidden_units=16, image_dim=16,
        image_channels=1, p_drop=0.3, lr=1e-3, beta1=0.5, beta2=0.9, network_type=kind,
        loss_type="vanilla",
    )  # fmt: skip


CASES = {
    "dcgan": ("dcgan", {"latent_dim": 8, "widths": [16, 8, 4], "out_channels": 3,
                        "attr": "net"}, (8, 1, 1), (3, 32, 32), "uniform"),
    "fc-large": ("pytorch_gan_mlp", {"latent_dim": 8, "channels": 1, "img_size": 16,
                                     "widths": [16, 32, 64, 128], "attr": "net"},
                 (8,), (1, 16, 16), "normal"),
    "fc-small": ("pytorch_gan_mlp", {"latent_dim": 8, "channels": 1, "img_size": 16,
                                     "widths": [16, 16], "attr": "net", "norms": False,
                                     "p_drop": 0.3}, (8,), (1, 16, 16), "normal"),
    "fc-skip": ("ganzoo_fc_skip", {"latent_dim": 8, "hidden": 16, "channels": 1,
                                   "img_size": 16, "p_drop": 0.3}, (8,), (1, 16, 16), "normal"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(CASES))
def test_its_lightning_checkpoint_loads_with_no_option_and_reproduces_it(
    tmp_path: Path, kind: str
) -> None:
    module = make(kind)
    trained_like(module.generator)
    path = tmp_path / "epoch=0-step=0.ckpt"
    save_with_lightning(module, path)
    loaded = load_generator(path)
    info = loaded.info
    architecture, kwargs, latent, output, distribution = CASES[kind]
    assert (info.architecture, info.arch_source) == (architecture, "recognised")
    assert info.arch_kwargs == kwargs and info.stripped_prefix == "generator."
    assert info.latent_shape == latent and info.output_shape == output
    assert info.latent_distribution == distribution  # from the saved hyper_parameters
    z = module.z_sampler(8)  # the package's own draw: (8, 8, 1, 1) for the DCGAN
    with torch.no_grad():
        want, got = module.eval()(z), loaded.module.eval()(z)
    # Measured 0.0: the same float32 operations.
    assert max_relative_difference(got, want) <= 1e-5


def test_inspect_and_a_short_probe(tmp_path: Path) -> None:
    module = make("dcgan")
    trained_like(module.generator)
    path = tmp_path / "last.ckpt"
    save_with_lightning(module, path)
    result = CliRunner().invoke(app, ["inspect", str(path), "--json", "-"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["architecture"] == "dcgan"
    real = torch.rand(300, 3, 32, 32, generator=torch.Generator().manual_seed(0)) * 2 - 1
    report = gandoctor.probe(path, real, config=ProbeConfig(steps=20, batch_size=16,
                                                            heldout_min=64))  # fmt: skip
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "dcgan"
    assert checkpoint.outcome.verdict is not None


def test_fc_skip_without_its_saved_settings_says_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The skip connection is in no weight: the generator's state dict alone, as
    ``torch.save(module.generator.state_dict())`` writes it, is not taken for fc-skip."""
    module = make("fc-skip")
    monkeypatch.chdir(tmp_path)
    path = Path("generator.pt")
    torch.save(module.generator.state_dict(), path)
    result = CliRunner().invoke(app, ["inspect", str(path)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    line = result.stderr.strip()
    assert "\n" not in line and "characters more" not in line
    assert "looks like pytorch-gan-zoo's fc-skip generator" in line
    assert "network_type: fc-skip" in line and "--arch FILE.py:Class" in line
