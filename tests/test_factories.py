"""--arch classes built from a saved config (issue 15, part 5): a constructor that takes one
config object, a ``from_config`` factory, settings saved in the checkpoint (ProGAN's
``conf``), and an error that names the factories a class has."""

from __future__ import annotations

import json
from pathlib import Path

import forward_archs
import pytest
import torch
from safetensors.torch import save_file

from gandoctor.config import LoadOptions
from gandoctor.errors import ConfigError
from gandoctor.loading import load_generator
from gandoctor.loading.layouts.factories import build_arch_module

ARCHS = Path(forward_archs.__file__)


def _folder(tmp_path: Path, module: torch.nn.Module, config: dict) -> Path:
    folder = tmp_path / "model"
    folder.mkdir()
    state = {k: v.contiguous() for k, v in module.state_dict().items()}
    save_file(state, str(folder / "model.safetensors"))
    (folder / "config.json").write_text(json.dumps(config))
    return folder


def _same(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        return torch.equal(a.eval()(z), b.eval()(z))


def test_a_constructor_that_takes_a_config_object_is_built_from_config_json(tmp_path: Path):
    """``ConfigOnlyGenerator(config: GeneratorConfig)``: the annotation names the config
    class, built from the folder's config.json; the report says how."""
    torch.manual_seed(0)
    g = forward_archs.ConfigOnlyGenerator(forward_archs.GeneratorConfig(hidden=32))
    folder = _folder(tmp_path, g, {"hidden": 32})
    loaded = load_generator(str(folder), LoadOptions(arch=f"{ARCHS}:ConfigOnlyGenerator"))
    assert _same(loaded.module, g)
    assert "ConfigOnlyGenerator(GeneratorConfig) with" in loaded.info.arch_source
    assert loaded.info.arch_source.endswith("config.json")


def test_a_from_config_factory_takes_the_config_as_one_dict(tmp_path: Path):
    torch.manual_seed(1)
    g = forward_archs.DictConfigGenerator.from_config({"hidden": 32})
    weights = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(weights))
    (tmp_path / "config.json").write_text('{"hidden": 32}')  # a sidecar beside a file
    loaded = load_generator(str(weights), LoadOptions(arch=f"{ARCHS}:DictConfigGenerator"))
    assert _same(loaded.module, g) and "DictConfigGenerator.from_config" in loaded.info.arch_source


def test_biggan_is_built_with_its_own_config_class_from_config_json(tmp_path: Path):
    """The real package: ``BigGAN(config)`` has no annotation; ``BigGANConfig`` beside it
    and its ``from_dict`` build the config from the folder's config.json."""
    biggan = pytest.importorskip("pytorch_pretrained_biggan")
    config = {"num_classes": 10, "channel_width": 4, "z_dim": 128}
    torch.manual_seed(0)
    model = biggan.BigGAN(biggan.BigGANConfig(**config))
    path = tmp_path / "pytorch_model.bin"
    torch.save(model.state_dict(), path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    module, how = build_arch_module("pytorch_pretrained_biggan:BigGAN", {}, str(path), {})
    assert isinstance(module, biggan.BigGAN) and how.startswith("BigGAN(BigGANConfig) with")
    assert module.config.num_classes == 10 and module.config.channel_width == 4
    assert sum(p.numel() for p in module.parameters()) == sum(p.numel() for p in model.parameters())


def test_biggan_s_latent_size_is_its_config_s_z_dim():
    """Not the class embedding's input (num_classes), which is BigGAN's first layer."""
    biggan = pytest.importorskip("pytorch_pretrained_biggan")
    from gandoctor.loading.generator.inspection import latent_from_attributes

    model = biggan.BigGAN(biggan.BigGANConfig(num_classes=10, channel_width=4, z_dim=32))
    assert latent_from_attributes(model) == (32,)


def test_a_class_built_only_by_name_gets_an_error_naming_its_factory(tmp_path: Path):
    torch.manual_seed(0)
    g = forward_archs.NamedGenerator.from_name("small")
    weights = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(weights))
    with pytest.raises(ConfigError, match=r"NamedGenerator has from_name: name one as `arch`"):
        load_generator(str(weights), LoadOptions(arch=f"{ARCHS}:NamedGenerator"))
    named = LoadOptions(arch=f"{ARCHS}:NamedGenerator.from_name", arch_kwargs={"name": "small"})
    assert _same(load_generator(str(weights), named).module, g)


def test_factories_that_build_from_arguments_are_named_before_those_that_download(
    tmp_path: Path,
):
    torch.manual_seed(0)
    g = forward_archs.HubGenerator.from_name("small")
    weights = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(weights))
    with pytest.raises(ConfigError) as caught:
        load_generator(str(weights), LoadOptions(arch=f"{ARCHS}:HubGenerator"))
    assert "has from_name, from_pretrained (downloads weights): name one as `arch` " in str(
        caught.value
    )
    assert (
        str(caught.value)
        .split("name one as `arch` ")[1]
        .startswith(f"{ARCHS}:HubGenerator.from_name,")
    )


def test_settings_saved_in_the_checkpoint_fill_the_constructor(tmp_path: Path):
    """ProGAN saves ``conf`` with its generator's constructor arguments beside
    ``generator`` and ``shadow_generator`` (the moving average, preferred); the user's
    --arch-kwargs win over the saved ones."""
    torch.manual_seed(0)
    g = forward_archs.make_generator(hidden=32)
    ema = forward_archs.make_generator(hidden=32)
    path = tmp_path / "progan.pth"
    torch.save({"generator": g.state_dict(), "shadow_generator": ema.state_dict(),
                "conf": {"hidden": 32, "depth": 4}}, path)  # fmt: skip
    loaded = load_generator(str(path), LoadOptions(arch=f"{ARCHS}:make_generator"))
    assert _same(loaded.module, ema) and loaded.info.key == "shadow_generator"
    assert loaded.info.details["conf"] == {"hidden": 32, "depth": 4}
    with pytest.raises(Exception, match="does not fit"):
        load_generator(str(path), LoadOptions(arch=f"{ARCHS}:make_generator",
                                              arch_kwargs={"hidden": 64}))  # fmt: skip


def test_a_user_file_runs_once_however_often_the_loader_asks(tmp_path: Path):
    """--arch FILE.py:NAME is imported for the saved settings, the factory check and the
    build: its code runs once, and again only after the file changes."""
    counter = tmp_path / "runs.txt"
    source = tmp_path / "gen.py"
    source.write_text(
        "import torch\n"
        f"open({str(counter)!r}, 'a').write('x')\n"
        "def make(hidden: int = 8):\n"
        "    return torch.nn.Sequential(torch.nn.Linear(16, 256), torch.nn.Tanh(),\n"
        "                               torch.nn.Unflatten(1, (1, 16, 16)))\n"
    )
    g = torch.nn.Sequential(torch.nn.Linear(16, 256), torch.nn.Tanh(),
                            torch.nn.Unflatten(1, (1, 16, 16)))  # fmt: skip
    weights = tmp_path / "g.safetensors"
    save_file({k: v.contiguous() for k, v in g.state_dict().items()}, str(weights))
    (tmp_path / "config.json").write_text('{"hidden": 8}')
    options = LoadOptions(arch=f"{source}:make")
    load_generator(str(weights), options)
    load_generator(str(weights), options)
    assert counter.read_text() == "x"
    source.write_text(source.read_text() + "\n# changed\n")
    load_generator(str(weights), options)
    assert counter.read_text() == "xx"


def _fitted_biggan(biggan, config: dict) -> torch.nn.Module:
    """The package's BigGAN with random weights, its spectral norms' power iterations run
    by the package's own train-mode passes (an untrained one's random u, v blow its eval
    output up to NaN in the package itself)."""
    torch.manual_seed(0)
    model = biggan.BigGAN(biggan.BigGANConfig(**config))
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.05)
        model.train()
        for _ in range(30):
            labels = torch.nn.functional.one_hot(torch.randint(10, (8,)), 10).float()
            model(torch.randn(8, config["z_dim"]), labels, 0.4)
    return model.eval()


def test_biggan_needs_only_options_one_hot_labels_and_truncation(tmp_path: Path):
    """``--num-classes 10 --label-format onehot --forward-kwargs '{"truncation": 0.4}'``: the
    probe's class indices go in as BigGAN's one-hot class_label; no adapter file."""
    biggan = pytest.importorskip("pytorch_pretrained_biggan")
    config = {"num_classes": 10, "channel_width": 4, "z_dim": 32}
    model = _fitted_biggan(biggan, config)
    path = tmp_path / "pytorch_model.bin"
    torch.save(model.state_dict(), path)
    (tmp_path / "config.json").write_text(json.dumps(config))
    options = LoadOptions(arch="pytorch_pretrained_biggan:BigGAN", num_classes=10,
                          label_format="onehot", forward_kwargs={"truncation": 0.4})  # fmt: skip
    loaded = load_generator(str(path), options)
    assert loaded.info.latent_shape == (32,)  # its config's z_dim, through the adapter
    z, labels = torch.randn(4, 32), torch.tensor([0, 3, 7, 9])
    with torch.no_grad():
        ours = loaded.module(z, labels)
        theirs = model(z, torch.nn.functional.one_hot(labels, 10).float(), 0.4)
    assert torch.isfinite(theirs).all() and torch.equal(ours, theirs)
    with pytest.raises(ConfigError, match=r"onehot needs .num_classes"):
        LoadOptions(label_format="onehot")
    with pytest.raises(ConfigError, match="one of index, onehot"):
        LoadOptions(num_classes=10, label_format="vector")
