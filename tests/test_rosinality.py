"""rosinality/stylegan2-pytorch checkpoints: the dict its train.py saves, with the training
arguments as an argparse.Namespace, loaded without --trust-pickle as its g_ema."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading import load_generator
from gandoctor.loading.layouts.architectures.stylegan2.rosinality import RosinalityGenerator

runner = CliRunner()
Z = torch.randn(5, 16, generator=torch.Generator().manual_seed(2))


def small(seed: int) -> RosinalityGenerator:
    """16x16, every weight and noise buffer random (mapping weights stored / 0.01)."""
    torch.manual_seed(seed)
    g = RosinalityGenerator(style_dim=16, n_mlp=2, channels=[8, 8, 4])
    with torch.no_grad():
        for name, tensor in g.state_dict().items():
            if not name.endswith("kernel"):
                scale = 100.0 if name.startswith("style.") and name.endswith("weight") else 1.0
                tensor.copy_(torch.randn_like(tensor) * scale)
    return g.eval()


def train_py_checkpoint(path: Path, g: RosinalityGenerator, g_ema: RosinalityGenerator,
                        **args: object) -> Path:  # fmt: skip
    """What rosinality's train.py saves every 10k iterations."""
    namespace = argparse.Namespace(size=16, latent=16, n_mlp=2, channel_multiplier=1, r1=10.0,
                                   augment=True, **args)  # fmt: skip
    d = {"convs.0.0.weight": torch.randn(4, 3, 1, 1), "final_linear.1.bias": torch.zeros(1)}
    torch.save({"g": g.state_dict(), "d": d, "g_ema": g_ema.state_dict(),
                "g_optim": {"state": {}, "param_groups": []}, "d_optim": {"state": {}},
                "args": namespace, "ada_aug_p": 0.35}, path)  # fmt: skip
    return path


def outputs(module: torch.nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return module.eval()(Z)


def test_a_train_py_checkpoint_loads_its_g_ema(tmp_path: Path) -> None:
    g, g_ema = small(0), small(1)
    loaded = load_generator(train_py_checkpoint(tmp_path / "000100.pt", g, g_ema))
    info = loaded.info
    assert (info.architecture, info.key, info.latent_shape) == ("rosinality_stylegan2", "g_ema",
                                                                (16,))  # fmt: skip
    assert info.output_range == (-1.0, 1.0) and info.output_shape == (3, 16, 16)
    assert info.details["args"]["r1"] == 10.0 and info.details["augment_p"] == 0.35
    assert torch.equal(outputs(loaded.module), outputs(g_ema))
    other = load_generator(tmp_path / "000100.pt", LoadOptions(key="g"))
    assert torch.equal(outputs(other.module), outputs(g))


def test_saved_arguments_must_be_plain_values(tmp_path: Path) -> None:
    path = train_py_checkpoint(tmp_path / "x.pt", small(0), small(0), mask=torch.ones(2))
    with pytest.raises(CheckpointError, match="mask = a Tensor, not a plain value"):
        load_generator(path)


def test_truncation_pulls_towards_the_mean_w() -> None:
    g = small(0)
    g.set_truncation(0.0)
    out = outputs(g)
    assert torch.allclose(out, out[:1].expand_as(out), atol=1e-5)


def test_truncation_of_another_generator_is_a_clear_error(tmp_path: Path) -> None:
    from conftest import untrained_dcgan
    from safetensors.torch import save_file

    path = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in untrained_dcgan().state_dict().items()}, str(path))
    with pytest.raises(ConfigError, match="applies to StyleGAN generators"):
        load_generator(path, LoadOptions(truncation=0.7))
    result = runner.invoke(app, ["inspect", str(path), "--truncation", "0.7"])
    assert result.exit_code == 2 and "--truncation applies to StyleGAN" in result.stderr


def test_the_moving_average_is_chosen_only_among_siblings(tmp_path: Path) -> None:
    """G and G_ema of one run share their keys: G_ema is taken. Two different networks
    that happen to be named so are not: the user chooses."""
    g, g_ema = small(0), small(1)
    both = tmp_path / "both.pt"
    torch.save({"G": g.state_dict(), "G_ema": g_ema.state_dict()}, both)
    assert load_generator(both).info.key == "G_ema"
    other = RosinalityGenerator(style_dim=16, n_mlp=3, channels=[8, 8, 4])
    mixed = tmp_path / "mixed.pt"
    torch.save({"G": g.state_dict(), "G_ema": other.state_dict()}, mixed)
    with pytest.raises(CheckpointError, match="several generator state dicts"):
        load_generator(mixed)


SHARED = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "stylegan"


@pytest.mark.skipif(not SHARED.is_dir(), reason=f"needs the reference checkpoints in {SHARED}"
                    " (CI has them)")  # fmt: skip
def test_rosinality_s_own_checkpoint_reproduces_its_outputs() -> None:
    """g_ema([z], randomize_noise=False)[0], computed by rosinality's model.py on CPU."""
    loaded = load_generator(SHARED / "rosinality_000100.pt")
    expected = np.load(SHARED / "rosinality_000100.expected.npz")
    want = torch.from_numpy(expected["g_ema"])
    with torch.no_grad():
        got = loaded.module(torch.from_numpy(expected["z"]))
    assert float((got - want).abs().max()) <= 1e-4 * float(want.abs().max())
    assert loaded.info.key == "g_ema" and loaded.info.details["augment_p"] == pytest.approx(0.12)
    assert loaded.info.details["args"]["size"] == 32
