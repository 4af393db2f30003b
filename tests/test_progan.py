"""ProGAN as pro-gan-pth (3.4) saves it (issue 23, defects 1 and 8): ``{"generator": {"conf",
"state_dict"}, "shadow_generator": {...}, "discriminator": ..., optimisers}``. With no
option the moving average ``shadow_generator`` is probed and named; its saved ``conf``
gives ``use_eql``; gandoctor's own build reproduces the package's own forward.

The committed files were written by the package's own code (tests/fixtures/progan/
make_progan.py says how). pro-gan-pth cannot be a test dependency: it pins torch==1.10.0
and numpy==1.21.4, which do not install on Python >= 3.10. Where it is importable anyway
(``pip install --no-deps pro-gan-pth``), the last tests write files with its code at its
real widths and compare with its forward there and then.
"""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch

import gandoctor
from gandoctor.config import LoadOptions, ProbeConfig
from gandoctor.errors import CheckpointError
from gandoctor.loading import load_generator

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "progan"
REFERENCE = FIXTURES / "progan.npz"
FILES = {"eql": FIXTURES / "use_eql" / "depth_4_epoch_1.bin",
         "plain": FIXTURES / "no_eql" / "depth_4_epoch_1.bin"}  # fmt: skip


def images(module: torch.nn.Module, z: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return module(torch.from_numpy(z))


def differences(got: torch.Tensor, want: np.ndarray) -> tuple[float, float]:
    """The largest absolute difference, and that relative to the largest value wanted."""
    worst = float((got - torch.from_numpy(want)).abs().max())
    return worst, worst / float(np.abs(want).max())


@pytest.mark.parametrize("tag", ["eql", "plain"])
def test_the_package_s_file_loads_as_its_moving_average_and_reproduces_it(tag: str) -> None:
    reference = np.load(REFERENCE)
    loaded = load_generator(FILES[tag])
    info = loaded.info
    assert (info.architecture, info.arch_source) == ("progan", "recognised")
    assert info.key == "shadow_generator.state_dict"  # the copy probed is the one named
    assert info.arch_kwargs == {"latent_size": 32, "features": [32, 16, 8], "num_channels": 3,
                                "use_eql": tag == "eql"}  # fmt: skip
    assert info.details["conf"] == {"depth": 4, "num_channels": 3, "latent_size": 32,
                                    "use_eql": tag == "eql"}  # fmt: skip
    assert info.latent_shape == (32,) and info.output_shape == (3, 16, 16)
    assert (info.output_range, info.range_source) == ((-1.0, 1.0), "architecture")
    # Full depth, alpha 1, same z: measured 0.0 absolute (the same float32 operations).
    worst, relative = differences(images(loaded.module, reference[f"{tag}/z"]),
                                  reference[f"{tag}/shadow"])  # fmt: skip
    assert relative <= 1e-5, (worst, relative)


@pytest.mark.parametrize("tag", ["eql", "plain"])
def test_key_generator_is_the_raw_generator(tag: str) -> None:
    reference = np.load(REFERENCE)
    raw = load_generator(FILES[tag], LoadOptions(key="generator"))
    assert raw.info.key == "generator.state_dict"
    got = images(raw.module, reference[f"{tag}/z"])
    assert differences(got, reference[f"{tag}/generator"])[1] <= 1e-5
    assert differences(got, reference[f"{tag}/shadow"])[1] > 1e-2  # a different network


def test_use_eql_comes_from_the_saved_conf(tmp_path: Path) -> None:
    """Without its conf the package's default (use_eql=True) is built, which for the
    use_eql=False file gives other images: the conf is what decides. A conf whose depth
    the weights contradict is refused, naming both."""
    stored = torch.load(FILES["plain"], weights_only=True)
    for name in ("generator", "shadow_generator"):
        del stored[name]["conf"]
    torch.save(stored, tmp_path / "no_conf.bin")
    loaded = load_generator(tmp_path / "no_conf.bin")
    assert loaded.info.arch_kwargs["use_eql"] is True
    reference = np.load(REFERENCE)
    got = images(loaded.module, reference["plain/z"])
    assert differences(got, reference["plain/shadow"])[1] > 1e-2

    stored = torch.load(FILES["plain"], weights_only=True)
    stored["shadow_generator"]["conf"]["depth"] = 6
    torch.save(stored, tmp_path / "wrong_conf.bin")
    with pytest.raises(CheckpointError, match="saved conf says depth 6 while its weights "
                                              "hold depth 4"):  # fmt: skip
        load_generator(tmp_path / "wrong_conf.bin")


def test_inspect_names_the_entry_it_used() -> None:
    from typer.testing import CliRunner

    from gandoctor.cli import app

    default = CliRunner().invoke(app, ["inspect", str(FILES["eql"]), "--json", "-"])
    assert default.exit_code == 0, default.output
    facts = json.loads(default.stdout)
    assert facts["key"] == "shadow_generator.state_dict" and facts["architecture"] == "progan"
    named = CliRunner().invoke(app, ["inspect", str(FILES["eql"]), "--key", "generator",
                                     "--json", "-"])  # fmt: skip
    assert json.loads(named.stdout)["key"] == "generator.state_dict"


def test_a_probe_runs_on_it() -> None:
    real = torch.rand(300, 3, 16, 16, generator=torch.Generator().manual_seed(0)) * 2 - 1
    report = gandoctor.probe(FILES["eql"], real, config=ProbeConfig(steps=20, batch_size=16,
                                                                    heldout_min=64))  # fmt: skip
    checkpoint = report.checkpoints[0]
    assert checkpoint.generator["architecture"] == "progan"
    assert checkpoint.generator["key"] == "shadow_generator.state_dict"
    assert checkpoint.outcome.verdict is not None and checkpoint.outcome.summary is not None


BROKEN = '''
import torch
from torch import nn


class Broken(nn.Module):
    """A package's generator whose forward a newer torch broke, as pro-gan-pth's was."""

    def __init__(self):
        super().__init__()
        self.latent_dim = 8
        self.fc = nn.Linear(8, 12)

    def _pad(self, x):
        return torch.nn.ConvTranspose2d._output_padding(self, x, None, 1, 0, 4)

    def forward(self, z):
        self._pad(z)
        return self.fc(z)
'''


def test_a_forward_that_raises_in_its_own_code_is_named_without_a_shape_hint(
    tmp_path: Path,
) -> None:
    (tmp_path / "broken.py").write_text(BROKEN, encoding="utf-8")
    module = types.ModuleType("broken")
    exec(BROKEN, module.__dict__)
    path = tmp_path / "g.pt"
    torch.save(module.Broken().state_dict(), path)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, LoadOptions(arch=f"{tmp_path / 'broken.py'}:Broken"))
    text = str(excinfo.value)
    assert "\n" not in text
    assert "raised in the generator's own code (not gandoctor's), in Broken._pad (" in text
    assert "missing 1 required positional argument: 'num_spatial_dims'" in text
    assert "the same error for latent shapes (8) and (8, 1, 1), so the shape is not" in text
    assert "latent shape is wrong" not in text


# With the package itself, where it is importable.


def output_padding_shim(self: Any, input: Any, output_size: Any, stride: Any, padding: Any,
                        kernel_size: Any, num_spatial_dims: int = 2,
                        dilation: Any = None) -> Any:  # fmt: skip
    """Defect 8: the package's equalised transposed convolution calls torch's
    ``_output_padding`` without the ``num_spatial_dims`` torch >= 2 requires, so its own
    forward cannot run with ``use_eql=True``; for the reference images only, the argument
    (2) is supplied as the package meant it. gandoctor's build needs none of this."""
    return torch.nn.ConvTranspose2d._output_padding(
        self, input, output_size, stride, padding, kernel_size, num_spatial_dims, dilation
    )


def package() -> types.SimpleNamespace:
    """pro_gan_pytorch's networks and its ProGAN, whose module imports torchvision (for a
    PNG grid and an image-folder data set, neither used here): stubbed for the import."""
    pytest.importorskip("pro_gan_pytorch", reason="pro-gan-pth is not installed "
                        "(pip install --no-deps pro-gan-pth: its pins do not install)")  # fmt: skip
    vision = types.ModuleType("torchvision")
    stubs = {"torchvision": vision, **{f"torchvision.{name}": types.ModuleType(name)
                                       for name in ("utils", "transforms")}}  # fmt: skip
    stubs["torchvision.utils"].save_image = None  # type: ignore[attr-defined]
    for name in ("Compose", "RandomHorizontalFlip", "Resize", "ToTensor"):
        setattr(stubs["torchvision.transforms"], name, lambda *args, **kwargs: None)
    real = {name: sys.modules[name] for name in stubs if name in sys.modules}
    with mock.patch.dict(sys.modules, {**stubs, **real}):
        from pro_gan_pytorch import custom_layers, networks
        from pro_gan_pytorch.gan import ProGAN
    return types.SimpleNamespace(networks=networks, ProGAN=ProGAN, layers=custom_layers)


def save_with_the_package(pg: types.SimpleNamespace, path: Path, use_eql: bool) -> Any:
    """A depth-3 ProGAN at the package's own widths (512), saved by the call ProGAN.train
    makes; the raw generator then moved off its moving average, as training does."""
    torch.manual_seed(0)
    gen = pg.networks.Generator(depth=3, latent_size=32, use_eql=use_eql)
    dis = pg.networks.Discriminator(depth=3, latent_size=32, use_eql=use_eql)
    progan = pg.ProGAN(gen, dis)
    with torch.no_grad():
        for parameter in progan.gen.parameters():
            parameter.add_(torch.randn_like(parameter) * 0.1)
    optimisers = [torch.optim.Adam(net.parameters(), betas=(0.0, 0.99))
                  for net in (progan.gen, progan.dis)]  # fmt: skip
    torch.save(progan.get_save_info(*optimisers), path)
    return progan


@pytest.mark.parametrize("use_eql", [True, False])
def test_the_package_s_forward_is_reproduced_at_its_own_widths(
    tmp_path: Path, use_eql: bool
) -> None:
    pg = package()
    path = tmp_path / "depth_3_epoch_1.bin"
    progan = save_with_the_package(pg, path, use_eql)
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(1))
    shim = mock.patch.object(pg.layers.EqualizedConvTranspose2d, "_output_padding",
                             output_padding_shim)  # fmt: skip
    with shim, torch.no_grad():
        want = {"shadow": progan.gen_shadow.eval()(z, 3, 1.0).numpy(),
                "generator": progan.gen.eval()(z, 3, 1.0).numpy()}  # fmt: skip
    for key, label in ((None, "shadow"), ("generator", "generator")):
        loaded = load_generator(path, LoadOptions(key=key))
        assert loaded.info.arch_kwargs == {"latent_size": 32, "features": [512, 512],
                                           "num_channels": 3, "use_eql": use_eql}  # fmt: skip
        # Measured: 0.0 absolute for both copies, use_eql either way.
        worst, relative = differences(images(loaded.module, z.numpy()), want[label])
        assert relative <= 1e-5, (label, worst, relative)


def test_the_package_s_own_forward_by_arch(tmp_path: Path) -> None:
    """``--arch pro_gan_pytorch.networks:Generator``: its constructor gets the saved conf
    (depth 3, not its default 10); with use_eql=False it runs, and with use_eql=True (the
    package's default) its own forward raises on torch >= 2, which the message says."""
    pg = package()
    options = LoadOptions(arch="pro_gan_pytorch.networks:Generator")
    plain = tmp_path / "plain" / "depth_3_epoch_1.bin"
    plain.parent.mkdir()
    progan = save_with_the_package(pg, plain, use_eql=False)
    loaded = load_generator(plain, options)
    assert loaded.info.arch_kwargs["depth"] == 3
    assert loaded.info.key == "shadow_generator.state_dict"
    z = torch.randn(4, 32, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.equal(loaded.module(z), progan.gen_shadow.eval()(z, 3, 1.0))
    eql = tmp_path / "eql.bin"
    save_with_the_package(pg, eql, use_eql=True)
    for latent in (None, (32,)):
        with pytest.raises(CheckpointError) as excinfo:
            load_generator(eql, LoadOptions(arch=options.arch, latent_shape=latent))
        text = str(excinfo.value)
        assert (
            "raised in the generator's own code (not gandoctor's), in "
            "EqualizedConvTranspose2d.forward (pro_gan_pytorch.custom_layers, line" in text
        )
        assert "latent shape is wrong" not in text
