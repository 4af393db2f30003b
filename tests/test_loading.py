"""Tests of gandoctor.loading: checkpoints on disk in, generator module and facts out.

Everything runs on CPU with tiny generators written into ``tmp_path``.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import torch
from safetensors.torch import save_file, save_model
from torch import nn

from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError, GanDoctorError
from gandoctor.loading import (
    DCGANGenerator,
    GeneratorInfo,
    architecture_metadata,
    load_generator,
    sample_latents,
)
from gandoctor.loading.generator.inspection import range_from_values

# Generators that are not DCGAN-shaped, imported through --arch as user code would be.
CUSTOM_SOURCE = textwrap.dedent(
    '''
    import torch
    from torch import nn


    class MLPGenerator(nn.Module):
        """z (N, nz) -> (N, out) in (0, 1)."""

        def __init__(self, nz: int = 16, hidden: int = 32, out: int = 12) -> None:
            super().__init__()
            self.fc1 = nn.Linear(nz, hidden)
            self.fc2 = nn.Linear(hidden, out)

        def forward(self, z):
            return torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))


    class PlainGenerator(MLPGenerator):
        """No squashing at the end: its range can only be observed."""

        def forward(self, z):
            return self.fc2(torch.relu(self.fc1(z)))


    class RaisingGenerator(MLPGenerator):
        def forward(self, z):
            raise RuntimeError("boom in forward")


    class TupleGenerator(MLPGenerator):
        def forward(self, z):
            return super().forward(z), z


    class ConvGenerator(nn.Module):
        """Declares its latent size as an attribute; starts with a transposed conv."""

        def __init__(self, z_dim: int = 8) -> None:
            super().__init__()
            self.z_dim = z_dim
            self.up = nn.ConvTranspose2d(z_dim, 3, 4, 1, 0)

        def forward(self, z):
            return self.up(z)


    class Picky(nn.Module):
        def __init__(self, size: int = 4) -> None:
            super().__init__()
            if size > 100:
                raise ValueError("size too large")
            self.fc = nn.Linear(size, size)


    class TiedGenerator(nn.Module):
        """Two layers sharing one weight; safetensors' save_model stores it once."""

        def __init__(self, nz: int = 4) -> None:
            super().__init__()
            self.encode = nn.Linear(nz, nz, bias=False)
            self.decode = nn.Linear(nz, nz, bias=False)
            self.decode.weight = self.encode.weight

        def forward(self, z):
            return torch.tanh(self.decode(self.encode(z)))


    class SequenceGenerator(MLPGenerator):
        """Returns (N, 3, 4): neither vectors nor images."""

        def forward(self, z):
            return super().forward(z).view(-1, 3, 4)


    NOT_A_CLASS = 3
    '''
)


def save(
    path: Path, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None
) -> Path:
    """Write a safetensors file (contiguous copies, as save_file requires)."""
    save_file({key: value.contiguous() for key, value in tensors.items()}, path, metadata)
    return path


def message(excinfo: pytest.ExceptionInfo[GanDoctorError]) -> str:
    """The error text, checked to be one line as the CLI prints it."""
    text = str(excinfo.value)
    assert "\n" not in text and text.strip() == text and text
    return text


def dcgan(ngf: int = 8, image_size: int = 32, nz: int = 100, seed: int = 0) -> DCGANGenerator:
    """A DCGAN with non-trivial BatchNorm statistics, so eval mode matters in comparisons."""
    torch.manual_seed(seed)
    generator = DCGANGenerator.standard(nz=nz, ngf=ngf, nc=3, image_size=image_size)
    for module in generator.modules():
        if isinstance(module, nn.BatchNorm2d):
            assert module.running_mean is not None and module.running_var is not None
            module.running_mean.normal_(0, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return generator.eval()


def same_output(a: nn.Module, b: nn.Module, latent_shape: tuple[int, ...]) -> bool:
    z = torch.randn(5, *latent_shape, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        return torch.allclose(a.eval()(z), b.eval()(z), atol=1e-6)


@pytest.fixture
def ckpt_custom(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[str, Path, ModuleType]]:
    """CUSTOM_SOURCE as an importable module: (module name, file path, imported module)."""
    name = f"gd_custom_{uuid.uuid4().hex[:8]}"
    file = tmp_path / f"{name}.py"
    file.write_text(CUSTOM_SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module(name)
    yield name, file, module
    sys.modules.pop(name, None)


# --- recognised DCGAN layout ---------------------------------------------------------------


@pytest.mark.parametrize("ngf", [8, 16])
@pytest.mark.parametrize("image_size", [32, 64])
def test_dcgan_round_trip(tmp_path: Path, ngf: int, image_size: int) -> None:
    saved = dcgan(ngf=ngf, image_size=image_size)
    path = save(tmp_path / "g.safetensors", saved.state_dict())

    loaded = load_generator(path)

    info = loaded.info
    blocks = 3 if image_size == 32 else 4
    assert info.architecture == "dcgan" and info.arch_source == "recognised"
    assert info.arch_kwargs == {
        "latent_dim": 100,
        "widths": [ngf * 2 ** (blocks - 1 - i) for i in range(blocks)],
        "out_channels": 3,
    }
    assert info.latent_shape == (100, 1, 1) and info.latent_source == "architecture"
    assert info.output_shape == (3, image_size, image_size)
    assert info.output_range == (-1.0, 1.0) and info.range_source == "architecture"
    assert info.parameters == sum(p.numel() for p in saved.parameters())
    assert info.format == "safetensors" and info.checkpoint == str(path)
    assert same_output(saved, loaded.module, (100, 1, 1))


def test_standard_widths_follow_the_pytorch_example() -> None:
    assert DCGANGenerator.standard(ngf=64, image_size=64).widths == [512, 256, 128, 64]
    assert DCGANGenerator.standard(ngf=64, image_size=32).widths == [256, 128, 64]
    keys = set(DCGANGenerator.standard().state_dict())
    assert {"main.0.weight", "main.1.num_batches_tracked", "main.12.weight"} <= keys
    with pytest.raises(ValueError, match="image_size"):
        DCGANGenerator.standard(image_size=48)


def test_loaded_module_is_float32_eval_with_grads_and_file_untouched(tmp_path: Path) -> None:
    path = save(tmp_path / "g.safetensors", dcgan().state_dict())
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    module = load_generator(path, LoadOptions(device="cpu")).module

    assert not module.training
    assert all(p.dtype == torch.float32 and p.requires_grad for p in module.parameters())
    assert all(p.device.type == "cpu" for p in module.parameters())
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_missing_num_batches_tracked_is_tolerated(tmp_path: Path) -> None:
    state = {k: v for k, v in dcgan().state_dict().items() if "num_batches" not in k}
    loaded = load_generator(save(tmp_path / "g.safetensors", state))
    assert loaded.info.output_shape == (3, 32, 32)


def test_missing_and_unexpected_keys_are_listed(tmp_path: Path) -> None:
    state = dcgan().state_dict()
    del state["main.4.running_var"]
    state["extra.weight"] = torch.zeros(2)
    path = save(tmp_path / "g.safetensors", state)

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)

    text = message(excinfo)
    assert str(path) in text and "DCGAN" in text
    assert "missing keys (1): main.4.running_var" in text
    assert "unexpected keys (1): extra.weight" in text
    assert "`arch`" in text


def test_long_key_lists_are_truncated(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    name, _, _ = ckpt_custom
    path = save(tmp_path / "g.safetensors", dcgan().state_dict())

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, LoadOptions(arch=f"{name}:MLPGenerator"))

    text = message(excinfo)
    assert "missing keys (4): fc1.bias, fc1.weight, fc2.bias, fc2.weight" in text
    total = len(dcgan().state_dict())
    assert f"unexpected keys ({total}): main.0.weight, " in text
    assert f"and {total - 10} more" in text


def test_shape_mismatch_names_key_and_both_shapes(tmp_path: Path) -> None:
    state = dcgan().state_dict()
    state["main.3.weight"] = torch.zeros(32, 16, 3, 3)
    path = save(tmp_path / "g.safetensors", state)

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)

    text = message(excinfo)
    assert "'main.3.weight'" in text
    assert "(32, 16, 3, 3)" in text and "(32, 16, 4, 4)" in text


def test_single_transposed_conv_is_not_a_dcgan(tmp_path: Path) -> None:
    path = save(tmp_path / "g.safetensors", {"main.0.weight": torch.zeros(10, 3, 4, 4)})
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert "needs two or more" in message(excinfo)


def test_unknown_layout_says_so_and_suggests_arch(tmp_path: Path) -> None:
    path = save(
        tmp_path / "g.safetensors", {"net.weight": torch.zeros(3), "net.bias": torch.zeros(3)}
    )
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    assert "cannot tell the generator's architecture" in text
    assert "`arch` module:Class `arch_kwargs`" in text
    assert "net.bias, net.weight" in text


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64])
def test_reduced_and_double_precision_tensors_load_as_float32(
    tmp_path: Path, dtype: torch.dtype
) -> None:
    saved = dcgan()
    state = {k: v.to(dtype) if v.is_floating_point() else v for k, v in saved.state_dict().items()}
    loaded = load_generator(save(tmp_path / "g.safetensors", state))

    assert all(p.dtype == torch.float32 for p in loaded.module.parameters())
    reference = dcgan()
    reference.load_state_dict(
        {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    )
    assert same_output(reference, loaded.module, (100, 1, 1))


def test_integer_tensor_in_a_parameter_is_refused(tmp_path: Path) -> None:
    state = dcgan().state_dict()
    state["main.0.weight"] = state["main.0.weight"].to(torch.int8)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(save(tmp_path / "g.safetensors", state))
    assert "'main.0.weight' has dtype torch.int8" in message(excinfo)


def test_nan_weights_load_without_error(tmp_path: Path) -> None:
    state = dcgan().state_dict()
    state["main.0.weight"] = torch.full_like(state["main.0.weight"], float("nan"))
    loaded = load_generator(save(tmp_path / "g.safetensors", state))
    assert loaded.info.output_range == (-1.0, 1.0)
    assert torch.isnan(next(loaded.module.parameters())).all()


# --- metadata ------------------------------------------------------------------------------


def test_metadata_names_a_registered_architecture(tmp_path: Path) -> None:
    kwargs: dict[str, Any] = {"latent_dim": 10, "widths": [24, 12], "out_channels": 1}
    saved = DCGANGenerator(**kwargs).eval()
    metadata = architecture_metadata("dcgan", kwargs, latent_shape=[10], output_range=(0, 1))
    path = save(tmp_path / "g.safetensors", saved.state_dict(), metadata)

    info = load_generator(path).info

    assert info.arch_source == "metadata" and info.architecture == "dcgan"
    assert info.arch_kwargs == kwargs
    assert info.latent_shape == (10,) and info.latent_source == "architecture"
    assert info.output_shape == (1, 16, 16)
    assert info.output_range == (0.0, 1.0) and info.range_source == "architecture"


def test_architecture_metadata_is_json_strings() -> None:
    metadata = architecture_metadata("dcgan", {"widths": (4, 2)}, (7, 1, 1), [-1, 1])
    assert metadata == {
        "gandoctor.arch": "dcgan",
        "gandoctor.arch_kwargs": '{"widths": [4, 2]}',
        "gandoctor.latent_shape": "[7, 1, 1]",
        "gandoctor.output_range": "[-1.0, 1.0]",
    }
    with pytest.raises(ConfigError):
        architecture_metadata("dcgan", {"x": object()})


def test_metadata_naming_an_import_path_is_refused(tmp_path: Path) -> None:
    metadata = architecture_metadata("evil_pkg_never_imported.mod:Gen", {"nz": 3})
    path = save(tmp_path / "g.safetensors", {"fc.weight": torch.zeros(2, 3)}, metadata)

    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)

    text = message(excinfo)
    assert "the file names architecture evil_pkg_never_imported.mod:Gen" in text
    assert "pass `arch` evil_pkg_never_imported.mod:Gen to use it" in text
    assert "evil_pkg_never_imported" not in sys.modules


def test_arch_confirming_the_metadata_uses_its_kwargs(
    tmp_path: Path, ckpt_custom: tuple[str, Path, Any]
) -> None:
    name, _, module = ckpt_custom
    saved = module.MLPGenerator(nz=5, hidden=7, out=3)
    arch = f"{name}:MLPGenerator"
    metadata = architecture_metadata(arch, {"nz": 5, "hidden": 7, "out": 3}, latent_shape=[5])
    path = save(tmp_path / "g.safetensors", saved.state_dict(), metadata)

    loaded = load_generator(path, LoadOptions(arch=arch))

    assert loaded.info.arch_kwargs == {"nz": 5, "hidden": 7, "out": 3}
    assert loaded.info.latent_shape == (5,) and loaded.info.latent_source == "architecture"
    assert same_output(saved, loaded.module, (5,))


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        ({"gandoctor.arch": "stylegan9"}, "unknown architecture 'stylegan9'; known: dcgan"),
        ({"gandoctor.arch": "dcgan", "gandoctor.arch_kwargs": "{nope"}, "not valid JSON"),
        ({"gandoctor.arch": "dcgan", "gandoctor.arch_kwargs": '{"bogus": 1}'}, "does not fit"),
        ({"gandoctor.arch": "dcgan", "gandoctor.latent_shape": "[0]"}, "positive integers"),
        ({"gandoctor.arch": "dcgan", "gandoctor.output_range": "[1, 0]"}, "low < high"),
    ],
)
def test_bad_metadata_is_reported(tmp_path: Path, metadata: dict[str, str], expected: str) -> None:
    path = save(tmp_path / "g.safetensors", {"w": torch.zeros(1)}, metadata)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert expected in message(excinfo)


# --- --arch --------------------------------------------------------------------------------


def test_arch_as_dotted_module(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    name, _, module = ckpt_custom
    saved = module.MLPGenerator()
    path = save(tmp_path / "g.safetensors", saved.state_dict())

    loaded = load_generator(path, LoadOptions(arch=f"{name}:MLPGenerator"))

    info = loaded.info
    assert info.arch_source == "--arch" and info.architecture == f"{name}:MLPGenerator"
    assert info.latent_shape == (16,) and info.latent_source == "first layer"
    assert info.output_shape == (12,)
    assert info.output_range == (0.0, 1.0) and info.range_source == "observed"
    assert info.parameters == sum(p.numel() for p in saved.parameters())
    assert same_output(saved, loaded.module, (16,))


def test_arch_as_file_path_with_kwargs(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    _, file, module = ckpt_custom
    saved = module.MLPGenerator(nz=6, hidden=9, out=4)
    path = save(tmp_path / "g.safetensors", saved.state_dict())
    options = LoadOptions(arch=f"{file}:MLPGenerator", arch_kwargs={"nz": 6, "hidden": 9, "out": 4})

    loaded = load_generator(path, options)

    assert loaded.info.arch_kwargs == {"nz": 6, "hidden": 9, "out": 4}
    assert loaded.info.latent_shape == (6,) and loaded.info.output_shape == (4,)
    assert same_output(saved, loaded.module, (6,))


def test_tied_weights_saved_once_load(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    name, _, module = ckpt_custom
    saved = module.TiedGenerator()
    path = tmp_path / "g.safetensors"
    save_model(saved, str(path))

    loaded = load_generator(path, LoadOptions(arch=f"{name}:TiedGenerator"))

    assert loaded.info.parameters == 16
    # torch.tanh in forward is invisible to the module tree: the range is observed.
    assert loaded.info.output_range == (-1.0, 1.0) and loaded.info.range_source == "observed"
    assert same_output(saved, loaded.module, (4,))


def test_arch_kwargs_without_arch_is_refused(tmp_path: Path) -> None:
    path = save(tmp_path / "g.safetensors", dcgan().state_dict())
    with pytest.raises(ConfigError) as excinfo:
        load_generator(path, LoadOptions(arch_kwargs={"nz": 3}))
    assert "`arch_kwargs` needs `arch`" in message(excinfo)


def test_latent_shape_option_overrides(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    name, _, module = ckpt_custom
    path = save(tmp_path / "g.safetensors", module.MLPGenerator(nz=16).state_dict())
    options = LoadOptions(arch=f"{name}:MLPGenerator", latent_shape=(16,), output_range=(-2, 2))

    info = load_generator(path, options).info

    assert info.latent_shape == (16,) and info.latent_source == "option"
    assert info.output_range == (-2.0, 2.0) and info.range_source == "option"


def test_latent_shape_from_attribute(tmp_path: Path, ckpt_custom: tuple[str, Path, Any]) -> None:
    name, _, module = ckpt_custom
    path = save(tmp_path / "g.safetensors", module.ConvGenerator(z_dim=8).state_dict())

    info = load_generator(path, LoadOptions(arch=f"{name}:ConvGenerator")).info

    assert info.latent_shape == (8, 1, 1) and info.latent_source == "attribute"
    assert info.output_shape == (3, 4, 4)


def test_latent_size_from_the_module_s_config_before_its_first_layer() -> None:
    """BigGAN keeps ``z_dim`` in ``self.config``; its first layer is the class embedding,
    whose input size (the number of classes) is not the latent's."""
    from types import SimpleNamespace

    from gandoctor.loading.generator.inspection import latent_from_attributes

    class ConfiguredGenerator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.config = SimpleNamespace(z_dim=32, num_classes=10)
            self.embeddings = nn.Linear(10, 16, bias=False)

    assert latent_from_attributes(ConfiguredGenerator()) == (32,)
    dict_config = ConfiguredGenerator()
    dict_config.config = {"latent_dim": 24}  # type: ignore[assignment]
    assert latent_from_attributes(dict_config) == (24,)


def test_wrong_latent_shape_option_reports_the_forward_failure(
    tmp_path: Path, ckpt_custom: tuple[str, Path, Any]
) -> None:
    name, _, module = ckpt_custom
    path = save(tmp_path / "g.safetensors", module.MLPGenerator().state_dict())
    options = LoadOptions(arch=f"{name}:MLPGenerator", latent_shape=(3,))
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, options)
    assert "forward failed on a latent of shape (4, 3): RuntimeError" in message(excinfo)


@pytest.mark.parametrize(
    ("arch", "kwargs", "expected"),
    [
        ("no_colon_here", {}, "must look like package.module:Class"),
        ("gd_no_such_module_xyz:Gen", {}, "cannot import module 'gd_no_such_module_xyz'"),
        ("/no/such/dir/gen.py:Gen", {}, "file /no/such/dir/gen.py not found"),
        ("{mod}:Missing", {}, "has no attribute 'Missing'"),
        ("{mod}:NOT_A_CLASS", {}, "not a class or function that returns a torch.nn.Module"),
        ("{mod}:MLPGenerator", {"bogus": 1}, "TypeError"),
        ("{mod}:Picky", {"size": 1000}, "ValueError: size too large"),
    ],
)
def test_bad_arch_is_a_config_error(
    tmp_path: Path,
    ckpt_custom: tuple[str, Path, Any],
    arch: str,
    kwargs: dict[str, Any],
    expected: str,
) -> None:
    name, _, _ = ckpt_custom
    path = save(tmp_path / "g.safetensors", {"fc.weight": torch.zeros(2, 2)})
    with pytest.raises(ConfigError) as excinfo:
        load_generator(path, LoadOptions(arch=arch.format(mod=name), arch_kwargs=kwargs))
    assert expected in message(excinfo)


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        ("RaisingGenerator", "forward failed on a latent of shape (4, 16): RuntimeError: boom"),
        ("TupleGenerator", "forward returned a tuple, not a tensor"),
        ("SequenceGenerator", "returned shape (4, 3, 4) for 4 latents; expected (4, D)"),
    ],
)
def test_unusable_forward_is_a_checkpoint_error(
    tmp_path: Path, ckpt_custom: tuple[str, Path, Any], cls: str, expected: str
) -> None:
    name, _, module = ckpt_custom
    path = save(tmp_path / "g.safetensors", getattr(module, cls)().state_dict())
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path, LoadOptions(arch=f"{name}:{cls}"))
    text = message(excinfo)
    assert expected in text and str(path) in text


def test_nan_output_without_final_layer_gets_default_range(
    tmp_path: Path, ckpt_custom: tuple[str, Path, Any]
) -> None:
    name, _, module = ckpt_custom
    state = module.PlainGenerator().state_dict()
    state["fc2.bias"] = torch.full_like(state["fc2.bias"], float("nan"))
    path = save(tmp_path / "g.safetensors", state)

    info = load_generator(path, LoadOptions(arch=f"{name}:PlainGenerator")).info

    assert info.output_range == (-1.0, 1.0) and info.range_source == "default"


# --- unreadable files ----------------------------------------------------------------------


def test_text_file_is_not_a_safetensors_file(tmp_path: Path) -> None:
    path = tmp_path / "notes.safetensors"
    path.write_text("these are not tensors\n" * 10)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    text = message(excinfo)
    assert text.startswith(str(path)) and "not a valid safetensors file" in text


def test_torch_save_file_of_unknown_layout_asks_for_arch(tmp_path: Path) -> None:
    path = tmp_path / "g.pt"
    torch.save({"w": torch.zeros(2)}, path)
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert "cannot tell the generator's architecture" in message(excinfo)
    assert "keys: w" in message(excinfo) and "`arch`" in message(excinfo)


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.safetensors"
    path.touch()
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert message(excinfo) == f"{path}: the file is empty, not a safetensors checkpoint"


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.safetensors"
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(path)
    assert message(excinfo) == f"{path}: checkpoint file not found"


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError) as excinfo:
        load_generator(tmp_path)
    assert message(excinfo).startswith(f"{tmp_path}: is a directory without model.safetensors")


def test_unknown_device_is_a_config_error(tmp_path: Path) -> None:
    path = save(tmp_path / "g.safetensors", dcgan().state_dict())
    with pytest.raises(ConfigError) as excinfo:
        load_generator(path, LoadOptions(device="warp-drive"))
    assert "warp-drive" in message(excinfo)


# --- inference helpers and the info object -------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([-0.5, 0.9], ((-1.0, 1.0), "observed")),
        ([-1.02, 1.01], ((-1.0, 1.0), "observed")),
        ([0.1, 0.9], ((0.0, 1.0), "observed")),
        ([0.0, 200.0], ((0.0, 255.0), "observed")),
        ([-3.0, 4.0], ((-3.0, 4.0), "observed")),
        ([float("nan"), float("nan")], ((-1.0, 1.0), "default")),
        ([float("nan"), -0.2, 0.3], ((-1.0, 1.0), "observed")),
    ],
)
def test_range_from_values(values: list[float], expected: Any) -> None:
    assert range_from_values(torch.tensor([values])) == expected


def test_sample_latents_is_seeded_standard_normal() -> None:
    first = sample_latents((100, 1, 1), 512, torch.Generator().manual_seed(3))
    again = sample_latents((100, 1, 1), 512, torch.Generator().manual_seed(3))
    assert first.shape == (512, 100, 1, 1) and torch.equal(first, again)
    assert abs(first.mean().item()) < 0.02 and abs(first.std().item() - 1) < 0.02


def test_info_to_dict_is_json_ready(tmp_path: Path) -> None:
    info = load_generator(save(tmp_path / "g.safetensors", dcgan().state_dict())).info
    data = info.to_dict()
    assert data["latent_shape"] == [100, 1, 1] and data["output_range"] == [-1.0, 1.0]
    assert json.loads(json.dumps(data)) == data
    assert isinstance(info, GeneratorInfo)
