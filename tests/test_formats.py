"""Tests of the checkpoint formats: every way a generator can arrive on disk loads the same.

Each round trip saves a small DCGAN (16x16, one channel) and checks that the loaded module
gives the same images for the same latents. Everything runs on CPU in ``tmp_path``.
"""

from __future__ import annotations

import json
import sys
import textwrap
import uuid
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError, GanDoctorError
from gandoctor.loading import DCGANGenerator, LoadedGenerator, load_generator
from gandoctor.loading.selection.entries import select

LATENT = (16, 1, 1)
DCGAN_ARCH = f"{DCGANGenerator.__module__}:DCGANGenerator"
DCGAN_CLASS = f"{DCGANGenerator.__module__}.DCGANGenerator"
"""How pickled modules and torch.export programs name the class: its module, then its name."""


def generator(seed: int = 0) -> DCGANGenerator:
    """A 16x16 DCGAN with non-trivial BatchNorm statistics, in eval mode."""
    torch.manual_seed(seed)
    g = DCGANGenerator(16, [32, 16], 1)
    for module in g.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return g.eval()


def discriminator_state() -> dict[str, torch.Tensor]:
    torch.manual_seed(9)
    return nn.Sequential(nn.Conv2d(1, 8, 4, 2, 1), nn.Conv2d(8, 1, 8)).state_dict()


def optimizer_state(module: nn.Module) -> dict[str, Any]:
    """What training scripts save beside the weights: Adam's state after one step."""
    optimizer = torch.optim.Adam(module.parameters(), lr=2e-4, betas=(0.5, 0.999))
    module(torch.randn(2, *LATENT)).mean().backward()
    optimizer.step()
    return optimizer.state_dict()


def same_output(saved: nn.Module, loaded: LoadedGenerator, batch: int = 5) -> bool:
    z = torch.randn(batch, *LATENT, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return torch.allclose(saved.eval()(z), loaded.module(z), atol=1e-6)


def message(excinfo: pytest.ExceptionInfo[Any]) -> str:
    """The error text, checked to be one line as the CLI prints it."""
    text = str(excinfo.value)
    assert isinstance(excinfo.value, GanDoctorError)
    assert "\n" not in text and text.strip() == text and text
    return text


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}{key}": value for key, value in state.items()}


# --- safetensors and checkpoint folders ----------------------------------------------------


def test_safetensors_round_trip_reports_no_key(tmp_path: Path) -> None:
    saved = generator()
    path = tmp_path / "g.safetensors"
    save_file(saved.state_dict(), path)
    loaded = load_generator(path)
    info = loaded.info
    assert info.format == "safetensors" and info.key is None and info.stripped_prefix is None
    assert same_output(saved, loaded)
    data = info.to_dict()
    assert data["key"] is None and json.loads(json.dumps(data)) == data


def save_folder(folder: Path, saved: nn.Module, config: dict[str, Any] | None) -> Path:
    """What ``PyTorchModelHubMixin.save_pretrained`` writes: weights and constructor args."""
    folder.mkdir()
    save_file(saved.state_dict(), folder / "model.safetensors")
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


def test_hf_folder_round_trip(tmp_path: Path) -> None:
    saved = generator()
    folder = save_folder(tmp_path / "ckpt", saved, saved.arch_kwargs())
    loaded = load_generator(folder)
    info = loaded.info
    assert info.format == "hf-folder" and info.checkpoint == str(folder)
    # config.json names no architecture: the state dict's layout is recognised as usual.
    assert info.architecture == "dcgan" and info.arch_source == "recognised"
    assert same_output(saved, loaded)


def test_hf_folder_config_gives_arch_kwargs_under_arch_kwargs(tmp_path: Path) -> None:
    saved = generator()
    config = {**saved.arch_kwargs(), "out_channels": 7}
    folder = save_folder(tmp_path / "ckpt", saved, config)
    options = LoadOptions(arch=DCGAN_ARCH, arch_kwargs={"out_channels": 1})
    loaded = load_generator(folder, options)
    assert loaded.info.arch_source == "--arch"
    assert loaded.info.arch_kwargs == saved.arch_kwargs()  # --arch-kwargs won over the config
    assert same_output(saved, loaded)


def test_hf_folder_config_naming_an_architecture(tmp_path: Path) -> None:
    saved = generator()
    folder = save_folder(tmp_path / "ckpt", saved, {"architecture": "dcgan", **saved.arch_kwargs()})
    info = load_generator(folder).info
    assert info.arch_source == f"folder config: {folder / 'config.json'}"
    assert info.arch_kwargs == saved.arch_kwargs()


@pytest.mark.parametrize("weights", ["generator.safetensors", "pytorch_model.bin"])
def test_hf_folder_with_other_weights_file(tmp_path: Path, weights: str) -> None:
    saved = generator()
    folder = tmp_path / "ckpt"
    folder.mkdir()
    if weights.endswith(".bin"):  # what save_pretrained wrote before safetensors
        torch.save(saved.state_dict(), folder / weights)
    else:
        save_file(saved.state_dict(), folder / weights)
    loaded = load_generator(folder)
    assert loaded.info.format == "hf-folder" and same_output(saved, loaded)


def test_folder_without_weights(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(tmp_path)
    text = message(excinfo)
    assert text.startswith(f"{tmp_path}: is a directory without model.safetensors")
    assert "save_pretrained" in text


# --- torch.save files ----------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".pt", ".pth", ".tar", ".ckpt"])
def test_torch_save_flat_state_dict(tmp_path: Path, suffix: str) -> None:
    saved = generator()
    path = tmp_path / f"g{suffix}"
    torch.save(saved.state_dict(), path)
    loaded = load_generator(path)
    assert loaded.info.format == "torch" and loaded.info.architecture == "dcgan"
    assert loaded.info.key is None and loaded.info.stripped_prefix is None
    assert same_output(saved, loaded)


def test_content_decides_not_the_suffix(tmp_path: Path) -> None:
    saved = generator()
    torch.save(saved.state_dict(), tmp_path / "torch.safetensors")
    save_file(saved.state_dict(), tmp_path / "st.pt")
    assert load_generator(tmp_path / "torch.safetensors").info.format == "torch"
    assert load_generator(tmp_path / "st.pt").info.format == "safetensors"


NESTED: list[tuple[Callable[[nn.Module], Any], str]] = [
    (
        lambda g: {
            "netG_state_dict": g.state_dict(),
            "netD_state_dict": discriminator_state(),
            "optimizerG_state_dict": optimizer_state(generator(5)),
            "epoch": 24,
        },
        "netG_state_dict",
    ),
    (
        lambda g: {
            "net_G": g.state_dict(),
            "net_D": discriminator_state(),
            "optim_G": optimizer_state(generator(5)),
        },
        "net_G",
    ),
    (lambda g: {"generator": g.state_dict(), "discriminator": discriminator_state()}, "generator"),
    (lambda g: {"state_dict": g.state_dict(), "epoch": 3}, "state_dict"),
    (lambda g: {"G_ema": g.state_dict(), "D": discriminator_state()}, "G_ema"),
    (
        lambda g: {
            "g_ema": g.state_dict(),
            "d": discriminator_state(),
            "g_optim": optimizer_state(generator(5)),
            "d_optim": {},
        },
        "g_ema",
    ),
    (
        lambda g: {"models": {"netG": g.state_dict(), "netD": discriminator_state()}, "lr": 1e-4},
        "models.netG",
    ),
    (lambda g: [g.state_dict()], "0"),
]


@pytest.mark.parametrize(("build", "key"), NESTED, ids=[key for _, key in NESTED])
def test_nested_checkpoint_picks_the_generator(
    tmp_path: Path, build: Callable[[nn.Module], Any], key: str
) -> None:
    saved = generator()
    path = tmp_path / "ckpt.pth"
    torch.save(build(saved), path)
    loaded = load_generator(path)
    assert loaded.info.key == key and loaded.info.stripped_prefix is None
    assert same_output(saved, loaded)


def lightning_checkpoint(saved: nn.Module) -> dict[str, Any]:
    return {
        "epoch": 3,
        "global_step": 120,
        "pytorch-lightning_version": "2.4.0",
        "state_dict": {
            **prefixed("generator.", saved.state_dict()),
            **prefixed("discriminator.", discriminator_state()),
        },
        "optimizer_states": [optimizer_state(generator(5))],
        "lr_schedulers": [],
        "hyper_parameters": {"lr": 2e-4, "latent_dim": 16},
    }


@pytest.mark.parametrize("key", [None, "generator", "state_dict", "state_dict.generator"])
def test_lightning_checkpoint_is_split_by_prefix(tmp_path: Path, key: str | None) -> None:
    saved = generator()
    path = tmp_path / "epoch=3.ckpt"
    torch.save(lightning_checkpoint(saved), path)
    loaded = load_generator(path, LoadOptions(key=key))
    assert loaded.info.key == "state_dict" and loaded.info.stripped_prefix == "generator."
    assert same_output(saved, loaded)


@pytest.mark.parametrize("prefix", ["module.", "module.module.", "_orig_mod.", "netG."])
def test_wrapper_and_lone_generator_prefixes_are_stripped(tmp_path: Path, prefix: str) -> None:
    saved = generator()
    path = tmp_path / "g.pt"
    torch.save({"netG": prefixed(prefix, saved.state_dict())}, path)
    loaded = load_generator(path)
    assert loaded.info.key == "netG" and loaded.info.stripped_prefix == prefix
    assert same_output(saved, loaded)


def test_strip_prefix_option(tmp_path: Path) -> None:
    saved = generator()
    path = tmp_path / "g.pt"
    torch.save(prefixed("backbone.", saved.state_dict()), path)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)  # not a known prefix: nothing is stripped on its own
    assert "backbone.main.0.weight" in message(excinfo)

    for option in ("backbone.", "backbone"):
        loaded = load_generator(path, LoadOptions(strip_prefix=option))
        assert loaded.info.stripped_prefix == "backbone."
        assert same_output(saved, loaded)

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, LoadOptions(strip_prefix="trunk."))
    text = message(excinfo)
    assert "no key starts with 'trunk.' (`strip_prefix` trunk.)" in text
    assert "the keys start with backbone." in text


def test_empty_strip_prefix_strips_nothing(tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save(prefixed("module.", generator().state_dict()), path)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, LoadOptions(strip_prefix=""))
    assert "keys match no known layout; keys: module.main.0.weight" in message(excinfo)


def test_the_moving_average_of_a_training_run_is_preferred(tmp_path: Path) -> None:
    """G and G_ema with the same keys: the EMA copy, the one a repository's own samplers use;
    ``--key G`` still chooses the other."""
    plain, ema = generator(0), generator(1)
    path = tmp_path / "ckpt.pt"
    torch.save({"G": plain.state_dict(), "G_ema": ema.state_dict(), "D": {}}, path)
    assert load_generator(path).info.key == "G_ema"
    assert same_output(plain, load_generator(path, LoadOptions(key="G")))


def test_several_generators_need_key(tmp_path: Path) -> None:
    plain, ema = generator(0), generator(1)
    path = tmp_path / "ckpt.pt"
    torch.save({"generator": plain.state_dict(), "gen": ema.state_dict(), "D": {}}, path)

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    n = len(plain.state_dict())
    assert f"several generator state dicts: generator ({n} tensors), gen ({n} tensors)" in text
    assert text.endswith("pass `key` generator or `key` gen")

    loaded = load_generator(path, LoadOptions(key="gen"))
    assert loaded.info.key == "gen" and same_output(ema, loaded)


def test_the_moving_average_prefix_is_preferred(tmp_path: Path) -> None:
    """One state dict with G., G_ema. and D. prefixes (lucidrains' GAN.G / GAN.GE alike):
    G_ema, with the prefix stated; ``--key G`` takes the other."""
    plain, ema = generator(0), generator(1)
    state = {
        **prefixed("G.", plain.state_dict()),
        **prefixed("G_ema.", ema.state_dict()),
        **prefixed("D.", discriminator_state()),
    }
    path = tmp_path / "g.safetensors"
    save_file(state, path)
    loaded = load_generator(path)
    assert loaded.info.stripped_prefix == "G_ema." and same_output(ema, loaded)
    assert same_output(plain, load_generator(path, LoadOptions(key="G")))


def test_several_generator_prefixes_need_key(tmp_path: Path) -> None:
    ema = generator(1)
    state = {
        **prefixed("generator.", generator(0).state_dict()),
        **prefixed("gen.", ema.state_dict()),
        **prefixed("D.", discriminator_state()),
    }
    path = tmp_path / "g.safetensors"
    save_file(state, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert "under the key prefixes gen., generator.; pass `key` gen or `key` generator" in (
        message(excinfo)
    )
    loaded = load_generator(path, LoadOptions(key="gen"))
    assert loaded.info.stripped_prefix == "gen." and same_output(ema, loaded)


@pytest.mark.parametrize(
    ("stored", "key", "expected"),
    [
        ({"epoch": 3, "args": {"lr": 0.1}}, None, "no state dict (a dict of parameter names"),
        ({"netD": {"w": torch.zeros(1)}}, None, "discriminator's or an optimizer's: netD (1"),
        ({"a": {"w": torch.zeros(1)}, "b": {"w": torch.zeros(1)}}, None, "`key` a or `key` b"),
        ({"netG": {"w": torch.zeros(1)}, "n": 3}, "n", "`key` n: entry n is an int, not a"),
        ({"netG": {"w": torch.zeros(1)}}, "netG.v", "no key in entry netG starts with 'v.'"),
        (
            {"netG": {"w": torch.zeros(1)}, "x": {}},
            "gen",
            "`key` gen: no entry 'gen', nor a key prefix in entry netG; entries: netG, x",
        ),
        (
            {"G": {"w": torch.ones(1)}, "G_ema": {"w": torch.ones(1)}},
            "gen",
            "'gen', nor a key prefix in entry G_ema; entries: G, G_ema",
        ),
        ({"state_dict": {"g.w": torch.zeros(1)}}, "state_dict.f", "no key in entry state_dict"),
        (torch.zeros(3), None, "which is a tensor of shape (3,)"),
    ],
)
def test_selection_errors(stored: object, key: str | None, expected: str) -> None:
    with pytest.raises(CheckpointError) as excinfo:
        select("ckpt.pt", stored, key, None)
    text = message(excinfo)
    assert text.startswith("ckpt.pt: ") and expected in text


# --- pickled modules -----------------------------------------------------------------------

MARKER_SOURCE = textwrap.dedent(
    """
    from pathlib import Path

    from torch import nn


    def rebuild(marker):
        Path(marker).write_text("code from the checkpoint ran")
        return nn.Identity()


    class Booby(nn.Module):
        '''Unpickling it runs rebuild(), as any pickled object may run code.'''

        def __init__(self, marker):
            super().__init__()
            self.marker = marker

        def __reduce__(self):
            return rebuild, (self.marker,)
    """
)


def test_pickled_module_is_refused_without_trust(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = f"gd_booby_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text(MARKER_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(name)
    marker = tmp_path / "marker.txt"
    path = tmp_path / "whole.pt"
    torch.save(module.Booby(str(marker)), path)
    try:
        with pytest.raises(CheckpointError) as excinfo:
            load_generator(path)
        text = message(excinfo)
        assert f"(it needs {name}.rebuild)" in text and "would run code from the file" in text
        assert "`trust_pickle`" in text and "safetensors" in text
        assert not marker.exists()

        with pytest.raises(CheckpointError):  # rebuild() gave nn.Identity: no latent shape
            load_generator(path, LoadOptions(trust_pickle=True))
        assert marker.exists()  # trusted, the file's code did run
    finally:
        sys.modules.pop(name, None)


def test_pickled_module_loads_with_trust(tmp_path: Path) -> None:
    saved = generator()
    path = tmp_path / "netG.pth"
    torch.save(saved, path)
    loaded = load_generator(path, LoadOptions(trust_pickle=True))
    info = loaded.info
    assert info.format == "pickled-module" and info.arch_source == "pickled module"
    assert info.architecture == DCGAN_CLASS
    assert info.latent_shape == LATENT and info.latent_source == "attribute"
    assert same_output(saved, loaded)


def test_pickled_dict_of_modules_with_trust(tmp_path: Path) -> None:
    saved = generator()
    path = tmp_path / "models.pth"
    torch.save({"netG": nn.DataParallel(saved), "netD": nn.Conv2d(1, 1, 3), "epoch": 2}, path)
    loaded = load_generator(path, LoadOptions(trust_pickle=True))
    assert loaded.info.key == "netG" and loaded.info.format == "pickled-module"
    assert same_output(saved, loaded)


# --- programs: TorchScript and torch.export ------------------------------------------------


class ScriptableGenerator(nn.Module):
    """A generator torch.jit.script compiles, with its latent size as an attribute."""

    def __init__(self) -> None:
        super().__init__()
        self.nz = 16
        self.main = nn.Sequential(
            nn.ConvTranspose2d(16, 8, 4, 1, 0, bias=False),
            nn.BatchNorm2d(8),
            nn.ReLU(),
            nn.ConvTranspose2d(8, 1, 4, 4, 0),
            nn.Tanh(),
        )

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        output: torch.Tensor = self.main(z)
        return output


def check_program(saved: nn.Module, loaded: LoadedGenerator) -> None:
    """Same outputs at several batch sizes, both modes work, gradients reach the weights."""
    assert loaded.info.arch_source == "file" and loaded.info.latent_shape == LATENT
    assert loaded.info.output_shape == (1, 16, 16)  # every generator here makes 16x16 images
    assert loaded.info.parameters == sum(p.numel() for p in saved.parameters())
    for batch in (1, 4, 64):
        assert same_output(saved, loaded, batch)
    module = loaded.module
    module.train()
    module.eval()
    parameters = list(module.parameters())
    for parameter in parameters:
        parameter.requires_grad_(True)
    module(torch.randn(3, *LATENT)).square().mean().backward()
    assert all(p.grad is not None for p in parameters)


TRUSTED = LoadOptions(trust_pickle=True)
"""Programs are read with pickle inside, so they load only with --trust-pickle."""


def save_traced(path: Path, saved: nn.Module) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch deprecates TorchScript
        torch.jit.trace(saved, torch.randn(2, *LATENT)).save(str(path))
    return path


def save_exported(path: Path, saved: nn.Module, dynamic: bool) -> Path:
    shapes = ({0: torch.export.Dim("batch")},) if dynamic else None
    torch.export.save(
        torch.export.export(saved, (torch.randn(4, *LATENT),), dynamic_shapes=shapes), path
    )
    return path


def test_torchscript_trace(tmp_path: Path) -> None:
    saved = generator()
    loaded = load_generator(save_traced(tmp_path / "g.pt", saved), TRUSTED)
    assert loaded.info.format == "torchscript" and loaded.info.architecture == "DCGANGenerator"
    check_program(saved, loaded)


def test_torchscript_script(tmp_path: Path) -> None:
    torch.manual_seed(0)
    saved = ScriptableGenerator().eval()
    path = tmp_path / "g.ts"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(saved).save(str(path))
    loaded = load_generator(path, TRUSTED)
    assert loaded.info.architecture == "ScriptableGenerator"
    check_program(saved, loaded)


def test_torch_export_with_dynamic_batch(tmp_path: Path) -> None:
    saved = generator()
    loaded = load_generator(save_exported(tmp_path / "g.pt2", saved, dynamic=True), TRUSTED)
    assert loaded.info.format == "torch.export" and loaded.info.latent_source == "architecture"
    assert loaded.info.architecture == DCGAN_CLASS
    check_program(saved, loaded)


def test_torch_export_with_fixed_batch_is_refused(tmp_path: Path) -> None:
    path = save_exported(tmp_path / "g.pt2", generator(), dynamic=False)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, TRUSTED)
    text = message(excinfo)
    assert "exported with a fixed batch size of 4 (input z has shape (4, 16, 1, 1))" in text
    assert "dynamic_shapes" in text


def test_programs_need_trust_and_no_arch(tmp_path: Path) -> None:
    traced = save_traced(tmp_path / "g.pt", generator())
    exported = save_exported(tmp_path / "g.pt2", generator(), dynamic=True)
    for path, what in ((traced, "TorchScript archive"), (exported, "torch.export program")):
        with pytest.raises(CheckpointError) as excinfo:
            load_generator(path)
        text = message(excinfo)
        assert text.startswith(f"{path}: is a {what}; loading one can run code from the file")
        assert "`trust_pickle`" in text
    with pytest.raises(ConfigError) as config_error:
        load_generator(traced, LoadOptions(arch=DCGAN_ARCH, trust_pickle=True))
    assert "carries its own architecture (DCGANGenerator); leave `arch` out" in message(
        config_error
    )


# --- sidecar configs -----------------------------------------------------------------------


def test_sidecar_with_dcgan_example_settings(tmp_path: Path) -> None:
    saved = generator()
    path = tmp_path / "netG_epoch_24.pth"
    torch.save(saved.state_dict(), path)
    sidecar = tmp_path / "generator_config.json"
    sidecar.write_text(json.dumps({"nz": 16, "ngf": 16, "nc": 1, "imageSize": 16, "lr": 2e-4}))
    loaded = load_generator(path)
    info = loaded.info
    assert info.architecture == "dcgan" and info.arch_source == f"sidecar config: {sidecar}"
    assert info.arch_kwargs == {"latent_dim": 16, "widths": [32, 16], "out_channels": 1}
    assert same_output(saved, loaded)


def test_sidecar_named_after_the_checkpoint_comes_first_and_must_fit(tmp_path: Path) -> None:
    path = tmp_path / "netG.pth"
    torch.save(generator().state_dict(), path)
    (tmp_path / "config.json").write_text(json.dumps({"nz": 16, "ngf": 16, "nc": 1}))
    own = tmp_path / "netG.json"
    own.write_text(json.dumps({"nz": 16, "ngf": 8, "nc": 1, "image_size": 16}))
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    assert f"does not fit architecture dcgan (from the sidecar config: {own})" in text
    assert "shape mismatch for 'main.0.weight'" in text


def test_config_naming_no_architecture_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save(generator().state_dict(), path)
    (tmp_path / "config.json").write_text(json.dumps({"dataset": "mnist", "batch_size": 64}))
    assert load_generator(path).info.arch_source == "recognised"


def test_broken_sidecar_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save(generator().state_dict(), path)
    (tmp_path / "generator_config.json").write_text("{nz: 100")
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert message(excinfo).startswith(f"{tmp_path / 'generator_config.json'}: not valid JSON")


def test_config_with_gandoctor_keys(tmp_path: Path) -> None:
    saved = generator()
    config = {
        "gandoctor.arch": "dcgan",
        "gandoctor.arch_kwargs": saved.arch_kwargs(),
        "gandoctor.output_range": [0, 1],
    }
    folder = save_folder(tmp_path / "ckpt", saved, config)
    info = load_generator(folder).info
    assert info.arch_source == f"folder config: {folder / 'config.json'}"
    assert info.output_range == (0.0, 1.0) and info.range_source == "architecture"


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"gandoctor.arch": "stylegan9"}, "the config names unknown architecture 'stylegan9'"),
        ({"gandoctor.arch": "pkg.mod:Gen"}, "pass `arch` pkg.mod:Gen to use it"),
        ({"architecture": "dcgan", "bogus": 1}, "do not fit architecture dcgan"),
        ({"nz": 16, "ngf": 16, "imageSize": 48}, "image_size must be 8, 16, 32, 64"),
        ({"nz": 16, "ngf": "16"}, "DCGAN settings must be integers"),
    ],
)
def test_bad_sidecar_names_the_sidecar(
    tmp_path: Path, config: dict[str, Any], expected: str
) -> None:
    path = tmp_path / "g.pt"
    torch.save(generator().state_dict(), path)
    sidecar = tmp_path / "generator_config.json"
    sidecar.write_text(json.dumps(config))
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    assert text.startswith(f"{sidecar}: ") and expected in text


# --- devices and unreadable files ----------------------------------------------------------


def test_torch_load_is_called_safely_with_the_device(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "g.pt"
    torch.save(generator().state_dict(), path)
    calls: list[dict[str, Any]] = []
    real_load = torch.load

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    load_generator(path, LoadOptions(device="cpu"))
    assert calls == [{"map_location": torch.device("cpu"), "weights_only": True}]


def test_checkpoint_saved_on_a_gpu_loads_on_cpu(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # torch.save records each storage's device through location_tag: pretend it was CUDA.
    saved = generator()
    path = tmp_path / "g.pt"
    with monkeypatch.context() as patch:
        patch.setattr(torch.serialization, "location_tag", lambda storage: "cuda:0")
        torch.save({"netG": saved.state_dict()}, path)
    assert "cuda" in path.read_bytes().decode("latin-1")
    loaded = load_generator(path, LoadOptions(device="cpu"))
    assert same_output(saved, loaded)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_unusable_device_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save(generator().state_dict(), path)
    with pytest.raises(ConfigError) as excinfo:
        load_generator(path, LoadOptions(device="cuda"))
    assert message(excinfo).startswith("device 'cuda': no CUDA GPU is usable here")


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "the file is empty"),
        (b"hello, not a checkpoint", "not a checkpoint gandoctor can read"),
        (b"PK\x03\x04 a damaged zip", "cannot read the torch.save file"),
    ],
)
def test_unreadable_torch_files(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "g.pt"
    path.write_bytes(content)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    assert text.startswith(f"{path}: ") and expected in text
