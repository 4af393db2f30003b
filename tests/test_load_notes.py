"""What loading says (issue 23, messages): what gandoctor changed itself (a stripped prefix,
a spectral-normed layer read as its weight, constructor arguments from the checkpoint's
saved hyper_parameters), an import that needs a CUDA build, an adapter's huge error, and a
DCGAN-like stack whose block width cannot be read. The files are saved by the code that
writes them: torch.save of a module's state dict, torch's spectral norms, Lightning."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from gandoctor.cli import app
from gandoctor.config import LoadOptions
from gandoctor.loading import load_generator

runner = CliRunner()


def error_lines(result) -> list[str]:  # type: ignore[no-untyped-def]
    """stderr's lines, exit 2, no traceback; the log of a cut message removed."""
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    if lines and " characters more in " in lines[-1]:
        Path(lines[-1].rsplit(" characters more in ", 1)[1].rstrip(")")).unlink()
    return lines


class Generator(nn.Module):
    """The DCGAN example's stack (``main``), small."""

    def __init__(self, latent: int = 8, width: int = 16, norm: object = None) -> None:
        super().__init__()
        wrap = norm if callable(norm) else (lambda layer: layer)
        self.main = nn.Sequential(
            wrap(nn.ConvTranspose2d(latent, width, 4, 1, 0, bias=False)),
            nn.BatchNorm2d(width),
            nn.ReLU(True),
            wrap(nn.ConvTranspose2d(width, 3, 4, 2, 1, bias=False)),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.main(z)


class Pair(nn.Module):
    """A training module holding G and D, as Lightning modules do."""

    def __init__(self) -> None:
        super().__init__()
        self.generator = Generator()
        self.discriminator = nn.Sequential(nn.Conv2d(3, 4, 4, 2, 1), nn.Flatten())


def test_a_stripped_generator_prefix_is_said(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "pair.pt"
    torch.save(Pair().state_dict(), path)
    loaded = load_generator(path)
    assert loaded.info.stripped_prefix == "generator."
    assert "prefix 'generator.'" in loaded.info.details["notes"][0]
    shown = runner.invoke(app, ["inspect", str(path)])
    assert shown.exit_code == 0 and "note" in shown.stdout and "'generator.'" in shown.stdout
    real = tmp_path / "real.npy"
    np.save(real, np.random.default_rng(0).uniform(-1, 1, (300, 3, 8, 8)).astype("float32"))
    probed = runner.invoke(app, ["probe", str(path), "--data", str(real), "--steps", "3",
                                 "--json", str(tmp_path / "r.json")])  # fmt: skip
    assert f"gandoctor: {path}: read the keys without their prefix 'generator.'" in probed.stderr
    # A prefix the user named is theirs: no note.
    named = load_generator(path, LoadOptions(strip_prefix="generator"))
    assert "notes" not in named.info.details
    # Where the stripped keys then do not fit, the error says they were stripped.
    other = tmp_path / "other.py"
    other.write_text(
        "from torch import nn\n"
        "class Wide(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.main = nn.Sequential(nn.ConvTranspose2d(8, 32, 4))\n"
    )
    lines = error_lines(runner.invoke(app, ["inspect", str(path), "--arch", f"{other}:Wide"]))
    assert len(lines) == 1 and "read without their prefix 'generator.'" in lines[0]


@pytest.mark.parametrize("form", ["spectral_norm", "parametrizations"])
def test_a_spectral_normed_layer_is_read_as_its_weight_and_said(tmp_path: Path, form: str):
    """The attn-gan case: the layers are there as weight_orig/weight_u/weight_v (or the
    parametrization's original/_u/_v), not as weight."""
    norm = (
        nn.utils.spectral_norm
        if form == "spectral_norm"
        else nn.utils.parametrizations.spectral_norm
    )
    torch.manual_seed(0)
    g = Generator(norm=norm)
    with torch.no_grad():
        for _ in range(3):  # power iterations move u and v away from their start
            g.train()(torch.randn(4, 8, 1, 1))
    path = tmp_path / "sagan_like.pth"
    torch.save(g.state_dict(), path)
    assert not any(key.endswith(".weight") for key in g.state_dict() if "main.0" in key)
    loaded = load_generator(path)
    assert loaded.info.architecture == "dcgan"
    (note,) = loaded.info.details["notes"]
    assert "main.0, main.3 in spectral-norm form" in note and "weight_orig / sigma" in note
    z = torch.randn(5, 8, 1, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        assert torch.allclose(loaded.module(z), g.eval()(z), atol=1e-6)


def test_a_spectral_normed_layer_that_does_not_fit_is_named(tmp_path: Path) -> None:
    torch.manual_seed(0)
    path = tmp_path / "g.pth"
    torch.save(Generator(norm=nn.utils.spectral_norm).state_dict(), path)
    other = tmp_path / "plain.py"
    other.write_text(
        "from torch import nn\n"
        "class Narrow(nn.Module):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.main = nn.Sequential(nn.ConvTranspose2d(8, 12, 4, bias=False))\n"
    )
    lines = error_lines(runner.invoke(app, ["inspect", str(path), "--arch", f"{other}:Narrow"]))
    assert len(lines) == 1
    assert (
        "does not fit --arch" in lines[0]
        and "main.0 is in the file in spectral-norm form "
        "(main.0.weight_orig (8, 16, 4, 4), the module's weight is (8, 12, 4, 4))"
        in lines[0]
    )


GENERATOR_FILE = """
from torch import nn
class Generator(nn.Module):
    def __init__(self, latent_dim, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(), nn.Linear(hidden, 12),
                                 nn.Tanh())
    def forward(self, z):
        return self.net(z)
"""


def test_arguments_from_saved_hyper_parameters_are_said(tmp_path: Path) -> None:
    lightning = pytest.importorskip("lightning.pytorch", reason="lightning is not installed")
    module_file = tmp_path / "gen.py"
    module_file.write_text(GENERATOR_FILE)
    namespace: dict[str, object] = {}
    exec(compile(GENERATOR_FILE, str(module_file), "exec"), namespace)  # the user's class

    class GAN(lightning.LightningModule):  # type: ignore[misc, name-defined]
        def __init__(self, latent_dim: int = 6, hidden: int = 10, lr: float = 2e-4) -> None:
            super().__init__()
            self.save_hyperparameters()
            self.generator = namespace["Generator"](latent_dim, hidden)  # type: ignore[operator]
            self.discriminator = nn.Linear(12, 1)

    def save(module: GAN, path: Path) -> None:
        trainer = lightning.Trainer(logger=False, enable_checkpointing=False,
                                    enable_progress_bar=False, accelerator="cpu")  # fmt: skip
        trainer.strategy.connect(module)
        trainer.save_checkpoint(path)

    path = tmp_path / "epoch=0-step=0.ckpt"
    save(GAN(), path)
    arch = f"{module_file}:Generator"
    loaded = load_generator(path, LoadOptions(arch=arch))
    assert loaded.info.arch_kwargs == {"latent_dim": 6, "hidden": 10}
    notes = loaded.info.details["notes"]
    assert any(
        "constructor arguments hidden, latent_dim came from the checkpoint's saved "
        "hyper_parameters (--arch-kwargs overrides them)" in note
        for note in notes
    ), notes
    # A saved value the constructor refuses: the error says where the value came from.
    bad = tmp_path / "bad.ckpt"
    checkpoint = torch.load(path, weights_only=False)
    checkpoint["hyper_parameters"]["hidden"] = -3
    torch.save(checkpoint, bad)
    lines = error_lines(runner.invoke(app, ["inspect", str(bad), "--arch", arch]))
    assert len(lines) == 1 and "came from the checkpoint's saved hyper_parameters" in lines[0]


CUDA_BUILD_ERRORS = {
    "cuda_home": 'raise OSError("CUDA_HOME environment variable is not set. Please set it to '
    'your CUDA install root.")',
    "nvcc": "raise RuntimeError(\"Error building extension 'fused': [1/2] /usr/local/cuda/bin/"
    'nvcc -c fused_bias_act_kernel.cu ... ninja: build stopped: subcommand failed." * 40)',
}


@pytest.mark.parametrize("error", sorted(CUDA_BUILD_ERRORS))
@pytest.mark.parametrize("option", ["--arch", "--adapter"])
def test_an_import_that_builds_cuda_kernels_says_cuda_is_needed(
    tmp_path: Path, error: str, option: str
) -> None:
    """stylegan2-torch compiles its kernels (torch.utils.cpp_extension.load) on import."""
    module_file = tmp_path / "stylegan2_torch_like.py"
    module_file.write_text(f"import torch\n{CUDA_BUILD_ERRORS[error]}\n")
    path = tmp_path / "g.pt"
    torch.save({"w": torch.zeros(1)}, path)
    target = f"{module_file}:Generator" if option == "--arch" else str(module_file)
    lines = error_lines(runner.invoke(app, ["inspect", str(path), option, target]))
    assert len(lines) == 1 and len(lines[0]) < 600
    assert "cannot be imported without CUDA" in lines[0]
    assert "give the checkpoint alone (no --arch, no --adapter)" in lines[0]
    assert "is_available patched" not in lines[0]


def test_an_adapters_huge_error_is_cut_to_a_few_lines(tmp_path: Path) -> None:
    """The BigGAN adapter without its kwargs printed one line of 72,145 characters."""
    adapter = tmp_path / "loud_adapter.py"
    adapter.write_text(
        textwrap.dedent(
            """
            def build(state, **kwargs):
                raise ValueError("config needs " + "x" * 70_000)
            """
        )
    )
    path = tmp_path / "g.pt"
    torch.save({"w": torch.zeros(1)}, path)
    result = runner.invoke(app, ["inspect", str(path), "--adapter", str(adapter)])
    assert result.exit_code == 2 and "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) <= 3 and sum(len(line) for line in lines) < 900
    assert "build failed: ValueError: config needs" in lines[0]
    log = Path(lines[-1].rsplit(" characters more in ", 1)[1].rstrip(")"))
    assert "x" * 70_000 in log.read_text(encoding="utf-8")
    log.unlink()


class Up(nn.Module):
    """A block that nests its convolution (``main.3.conv.weight``): not the example's."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
        self.norm = nn.BatchNorm2d(cout)


def test_a_block_width_that_cannot_be_read_says_where_and_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    main = nn.Sequential(
        nn.ConvTranspose2d(8, 16, 4, 1, 0, bias=False), nn.BatchNorm2d(16), nn.ReLU(),
        Up(16, 8), nn.ReLU(), nn.Dropout(), nn.ReLU(), nn.BatchNorm2d(8), nn.ReLU(),
        nn.ConvTranspose2d(8, 3, 4, 2, 1, bias=False), nn.Tanh(),
    )  # fmt: skip
    holder = nn.Module()
    holder.main = main
    monkeypatch.chdir(tmp_path)
    torch.save(holder.state_dict(), "g.pt")
    lines = error_lines(runner.invoke(app, ["inspect", "g.pt"]))
    assert len(lines) == 1 and len(lines[0]) < 600, lines
    line = lines[0]
    assert (
        "block 1's width is read off main.3.weight (a transposed convolution) or "
        "main.4.weight (a BatchNorm)" in line
    )
    assert line.endswith("found main.3.conv.weight (16, 8, 4, 4) and 5 more")
    assert "characters more" not in line
    advice = "(if it is another architecture, pass --arch FILE.py:Class or --adapter FILE.py)"
    assert advice in line

    # A path as long as a package's weights file in site-packages (omniart-eye-generator's):
    # the message is cut to a readable length, the details go, the advice stays.
    deep = tmp_path / ".venv/lib/python3.11/site-packages/a_package_with_weights" / "g.pt"
    deep.parent.mkdir(parents=True)
    torch.save(holder.state_dict(), deep)
    lines = error_lines(runner.invoke(app, ["inspect", str(deep)]))
    assert len(lines) == 1 and "characters more in" in lines[0] and advice in lines[0]
