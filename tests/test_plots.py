"""--plot: the paper's three panels as an image file."""

import builtins
from pathlib import Path

import pytest
from conftest import untrained_dcgan, write_pngs
from PIL import Image
from safetensors.torch import save_file
from typer.testing import CliRunner

from gandoctor.cli import app


@pytest.fixture
def inputs(tmp_path: Path, digits) -> tuple[Path, Path]:
    ckpt = tmp_path / "g.safetensors"
    save_file(untrained_dcgan().state_dict(), ckpt)
    write_pngs(tmp_path / "imgs", digits[:300])
    return ckpt, tmp_path / "imgs"


def run(*args) -> object:
    return CliRunner().invoke(app, ["probe", *map(str, args), "--steps", "5", "-q"])


def test_plot_is_written_as_png_and_svg(inputs, tmp_path):
    ckpt, imgs = inputs
    result = run(ckpt, ckpt, "--data", imgs, "--plot", tmp_path / "fig.png")
    assert result.exit_code in (0, 1), result.output
    with Image.open(tmp_path / "fig.png") as image:
        assert image.width > 2 * image.height  # three panels side by side
    assert run(ckpt, "--data", imgs, "--plot", tmp_path / "fig.svg").exit_code in (0, 1)
    assert (tmp_path / "fig.svg").read_text().lstrip().startswith("<?xml")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "fig.png",
        "fig.svg",
        "g.safetensors",
        "imgs",
    ]


def test_bad_plot_path_fails_before_probing(inputs, tmp_path):
    ckpt, imgs = inputs
    result = run(ckpt, "--data", imgs, "--plot", tmp_path / "fig.txt")
    assert result.exit_code == 2 and "--plot writes" in result.stderr
    result = run(ckpt, "--data", imgs, "--plot", tmp_path / "missing" / "fig.png")
    assert result.exit_code == 2 and "folder does not exist" in result.stderr


def test_plot_without_matplotlib_says_how_to_get_it(inputs, tmp_path, monkeypatch):
    ckpt, imgs = inputs
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    result = run(ckpt, "--data", imgs, "--plot", tmp_path / "fig.png")
    assert result.exit_code == 2
    assert "pip install 'gandoctor[plots]'" in result.stderr
    assert not (tmp_path / "fig.png").exists()


def test_the_own_d_is_drawn_beside_the_probe_curves(tmp_path, digits):
    """A checkpoint with its netD: the same plot with --own-d has the own D's stars and
    error bars (more drawn paths in the SVG) than with --no-own-d."""
    import torch
    from test_own_discriminator import _trained_d

    d, g, _ = _trained_d(0.0, steps=5)
    ckpt = tmp_path / "checkpoint.pth"
    torch.save({"netG": g.state_dict(), "netD": d.state_dict()}, ckpt)
    write_pngs(tmp_path / "imgs", digits[:300])
    paths = {}
    for flag in ("--own-d", "--no-own-d"):
        target = tmp_path / f"fig{flag}.svg"
        assert run(ckpt, "--data", tmp_path / "imgs", flag, "--plot", target).exit_code in (0, 1)
        paths[flag] = target.read_text().count("<path")
    assert paths["--own-d"] > paths["--no-own-d"] + 3, paths
