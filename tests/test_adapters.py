"""Generators as other repositories write them: normalised weights, factories, constructors
that take objects, forwards that need more than z or return more than images, and the
adapter protocol (``--adapter``, examples/adapters/)."""

from __future__ import annotations

import importlib.util
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import torch
from typer.testing import CliRunner

from gandoctor import GeneratorSpec
from gandoctor.cli import app
from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading import load_generator

runner = CliRunner()
HERE = Path(__file__).resolve().parent
ARCHS = HERE / "forward_archs.py"
ADAPTERS = HERE.parent / "examples" / "adapters"
PACKAGE = "lightweight_gan.lightweight_gan"
sys.path.insert(0, str(HERE))
import forward_archs  # noqa: E402


def saved(tmp_path: Path, module: torch.nn.Module, name: str = "g.pt") -> Path:
    path = tmp_path / name
    torch.save(module.state_dict(), path)
    return path


def same(a: torch.nn.Module, b: torch.nn.Module, *args: object) -> bool:
    z = torch.randn(4, 16, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        return torch.equal(a.eval()(z, *args), b.eval()(z, *args))


@pytest.mark.parametrize(
    "name", ["SpectralNormGenerator", "ParametrizedSpectralNormGenerator", "WeightNormGenerator"]
)
def test_normalised_generators_inspect_and_preflight_in_one_line(tmp_path: Path, name: str) -> None:
    """Spectral norm keeps weight_orig/weight_u (or parametrizations.weight.original), weight
    norm weight_g/weight_v: the latent size is still read off the first layer, and the
    preflight's train/eval check runs on the module itself."""
    torch.manual_seed(0)
    g = getattr(forward_archs, name)()
    path = saved(tmp_path, g)
    arch = f"{ARCHS}:{name}"
    loaded = load_generator(path, LoadOptions(arch=arch))
    assert loaded.info.latent_shape == (16,) and loaded.info.latent_source == "first layer"
    from conftest import _digits, write_pngs

    write_pngs(tmp_path / "imgs", _digits(16)[:300])
    data = ["--data", str(tmp_path / "imgs")]
    for command in (["inspect", str(path), "--arch", arch],
                    ["preflight", str(path), "--arch", arch, *data]):  # fmt: skip
        result = runner.invoke(app, command)
        assert result.exit_code in (0, 1), result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        assert ("Traceback" not in result.output and result.exception is None) or isinstance(
            result.exception, SystemExit
        )


def test_forward_kwargs_and_output_index_need_no_file(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = forward_archs.DepthAlphaGenerator()
    path = saved(tmp_path, g)
    with pytest.raises(CheckpointError, match=r"called without the forward kwargs|missing"):
        load_generator(path, LoadOptions(arch=f"{ARCHS}:DepthAlphaGenerator"))
    options = LoadOptions(arch=f"{ARCHS}:DepthAlphaGenerator",
                          forward_kwargs={"depth": 3, "alpha": 1.0})  # fmt: skip
    loaded = load_generator(path, options)
    z = torch.randn(2, 16)
    with torch.no_grad():
        assert torch.equal(loaded.module(z), g.eval()(z, depth=3, alpha=1.0))
    pair = load_generator(
        saved(tmp_path, forward_archs.TupleGenerator(), "t.pt"),
        LoadOptions(arch=f"{ARCHS}:TupleGenerator", output_index=0),
    )
    assert pair.info.output_shape == (1, 16, 16)
    result = runner.invoke(app, ["inspect", str(tmp_path / "t.pt"), "--arch",
                                 f"{ARCHS}:TupleGenerator"])  # fmt: skip
    assert result.exit_code == 2 and "--output-index" in result.stderr


def test_factories_and_constructor_objects(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = forward_archs.make_generator(32)
    path = saved(tmp_path, g)
    by_function = load_generator(path, LoadOptions(arch=f"{ARCHS}:make_generator",
                                                   arch_kwargs={"hidden": 32}))  # fmt: skip
    factory = f"{ARCHS}:ConfiguredGenerator.from_config"
    by_classmethod = load_generator(path, LoadOptions(arch=factory, arch_kwargs={"hidden": 32}))
    by_objects = load_generator(path, LoadOptions(
        arch=f"{ARCHS}:ConfiguredGenerator",
        arch_kwargs={"config": {"$call": f"{ARCHS}:GeneratorConfig", "hidden": 32},
                     "activation": {"$call": "torch.nn:ReLU"}},
    ))  # fmt: skip
    for loaded in (by_function, by_classmethod, by_objects):
        assert same(loaded.module, g)
    with pytest.raises(ConfigError, match=r"returned a dict, not a torch\.nn\.Module"):
        load_generator(path, LoadOptions(arch="builtins:dict", arch_kwargs={"a": 1}))


def test_latent_guess_never_adds_dimensions_the_forward_refuses(tmp_path: Path) -> None:
    """lightweight-gan's Generator starts with a ConvTranspose2d but takes z as (N, n): the
    guess (n, 1, 1) fails, (n,) is tried next, and the report says so."""

    class FlatInput(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.initial = torch.nn.ConvTranspose2d(16, 4, 4)
            self.out = torch.nn.Conv2d(4, 1, 1)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            assert z.dim() == 2, "z must be (N, latent)"
            return torch.tanh(self.out(self.initial(z[:, :, None, None])))

    module_file = tmp_path / "flat.py"
    module_file.write_text(
        textwrap.dedent("""
        import torch
        class FlatInput(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.initial = torch.nn.ConvTranspose2d(16, 4, 4)
                self.out = torch.nn.Conv2d(4, 1, 1)
            def forward(self, z):
                assert z.dim() == 2, "z must be (N, latent)"
                return torch.tanh(self.out(self.initial(z[:, :, None, None])))
    """)
    )
    path = saved(tmp_path, FlatInput())
    loaded = load_generator(path, LoadOptions(arch=f"{module_file}:FlatInput"))
    assert loaded.info.latent_shape == (16,)
    assert loaded.info.details["latent_shape_tried"] == ["(16, 1, 1) failed", "(16,) worked"]


def example(name: str) -> Any:
    """An adapter of examples/adapters, imported under a name of its own."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", ADAPTERS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_adapter_returns_a_module_or_a_spec(tmp_path: Path) -> None:
    torch.manual_seed(0)
    g = example("tuple_output").ListStyleGenerator(latent=64)
    path = saved(tmp_path, g)
    loaded = load_generator(path, LoadOptions(adapter=str(ADAPTERS / "tuple_output.py"),
                                              arch_kwargs={"latent": 64}))  # fmt: skip
    assert loaded.info.arch_source == "--adapter" and loaded.info.latent_shape == (64,)
    z = torch.randn(3, 64)
    with torch.no_grad():
        assert torch.equal(loaded.module(z), g([z])[0])
    result = runner.invoke(app, ["inspect", str(path), "--adapter",
                                 str(ADAPTERS / "tuple_output.py"), "--arch-kwargs",
                                 '{"latent": 32}'])  # fmt: skip
    assert result.exit_code == 2 and "build failed: RuntimeError" in result.stderr


def test_the_lightweight_gan_adapter_imports_a_package_that_asserts_cuda(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """lightweight-gan itself pulls torchvision and a CUDA build of torch, so it is not a test
    dependency: a stand-in package with its import-time assertion and its Generator's
    calling convention checks the adapter, and --arch on it gets the CUDA hint."""
    package = tmp_path / "lightweight_gan"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "lightweight_gan.py").write_text(
        textwrap.dedent("""
        import torch
        from torch import nn
        assert torch.cuda.is_available(), 'You need to have an Nvidia GPU with CUDA installed.'
        class Generator(nn.Module):
            def __init__(self, *, latent_dim, image_size, fmap_max=512):
                super().__init__()
                self.initial_conv = nn.ConvTranspose2d(latent_dim, 8, 4)
                self.out_conv = nn.Conv2d(8, 3, 1)
                self.image_size = image_size
            def forward(self, x):
                x = self.initial_conv(x[:, :, None, None])
                return nn.functional.interpolate(self.out_conv(x), size=self.image_size)
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("lightweight_gan", "lightweight_gan.lightweight_gan"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    with pytest.raises(ConfigError, match="demands CUDA when it is imported"):
        torch.save({"w": torch.zeros(1)}, tmp_path / "m.pt")
        load_generator(tmp_path / "m.pt", LoadOptions(arch=f"{PACKAGE}:Generator"))
    package = example("lightweight_gan").import_without_gpu(PACKAGE)
    stand_in = package.Generator(latent_dim=16, image_size=8)
    state = {f"GE.{k}": v for k, v in stand_in.state_dict().items()}
    state.update({f"G.{k}": v.clone() for k, v in stand_in.state_dict().items()})
    state["D.weight"] = torch.zeros(1)
    path = tmp_path / "model_100.pt"
    torch.save({"GAN": state, "version": "1.1.0"}, path)
    options = LoadOptions(adapter=str(ADAPTERS / "lightweight_gan.py"),
                          arch_kwargs={"latent_dim": 16, "image_size": 8})  # fmt: skip
    loaded = load_generator(path, options)
    assert loaded.info.stripped_prefix == "GE." and loaded.info.key == "GAN"
    assert loaded.info.output_range == (0.0, 1.0) and loaded.info.output_shape == (3, 8, 8)
    assert same(loaded.module, stand_in)


def test_the_biggan_adapter_probes_class_conditional_biggan(tmp_path: Path) -> None:
    biggan = pytest.importorskip("pytorch_pretrained_biggan")
    torch.manual_seed(0)
    config = {"num_classes": 10, "channel_width": 4}
    model = biggan.BigGAN(biggan.BigGANConfig(**config))
    with torch.no_grad():  # one training-mode pass sets spectral norm's u and v, as training does
        model(torch.randn(2, 128), torch.eye(10)[:2], 1.0)
    model.eval()
    path = saved(tmp_path, model)
    options = LoadOptions(adapter=str(ADAPTERS / "biggan.py"),
                          arch_kwargs={**config, "truncation": 0.5})  # fmt: skip
    loaded = load_generator(path, options)
    assert loaded.info.num_classes == 10 and loaded.info.latent_shape == (128,)
    assert loaded.info.output_shape == (3, 128, 128) and loaded.info.output_range == (-1.0, 1.0)
    z, labels = torch.randn(2, 128), torch.tensor([3, 7])
    with torch.no_grad():
        want = model(z, torch.nn.functional.one_hot(labels, 10).float(), 0.5)
        assert torch.equal(loaded.module(z, labels), want)


def test_a_spec_with_a_bad_shape_is_refused(tmp_path: Path) -> None:
    adapter = tmp_path / "bad.py"
    adapter.write_text(
        textwrap.dedent("""
        import torch
        from gandoctor import GeneratorSpec
        def build(state):
            return GeneratorSpec(torch.nn.Linear(2, 2), latent_shape=(0,))
    """)
    )
    path = saved(tmp_path, torch.nn.Linear(2, 2))
    with pytest.raises(ConfigError, match=r"GeneratorSpec\.latent_shape"):
        load_generator(path, LoadOptions(adapter=str(adapter)))
    assert GeneratorSpec(torch.nn.Linear(2, 2)).num_classes is None


class _EvalModeCollapses(torch.nn.Module):
    """An untrained BatchNorm generator whose running statistics shrink its eval-mode output
    to nothing (FasGAN-like: running_var huge), while train mode is fine."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = torch.nn.Linear(16, 256)
        self.bn = torch.nn.BatchNorm1d(256)
        with torch.no_grad():
            self.bn.running_var.fill_(1e14)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.bn(self.fc(z))).view(-1, 1, 16, 16)


def test_a_generator_fine_in_train_mode_is_not_called_broken() -> None:
    from conftest import _digits

    from gandoctor.config import ProbeConfig
    from gandoctor.enums import FindingCode, Severity
    from gandoctor.probing.loop import run_probe

    torch.manual_seed(0)
    eval_mode = run_probe(_EvalModeCollapses(), (16,), _digits(16).clone(), ProbeConfig(steps=5))
    (finding,) = eval_mode.findings
    assert (finding.code, finding.severity) == (FindingCode.MODE_MISMATCH, Severity.FAIL)
    assert "--train-mode" in finding.remedy and "in train mode the samples" in finding.message
    assert eval_mode.summary is None and "train mode only" in eval_mode.stop_reason
    train_mode = run_probe(_EvalModeCollapses(), (16,), _digits(16).clone(),
                           ProbeConfig(steps=5, train_mode=True))  # fmt: skip
    assert train_mode.summary is not None
    assert all(f.code != FindingCode.MODE_MISMATCH or f.severity != Severity.FAIL
               for f in train_mode.findings)  # fmt: skip


def test_an_observed_output_range_is_shown_as_a_guess(tmp_path: Path) -> None:
    """A generator without a final activation: the range the data are scaled to is read off
    its outputs, and the report says so and points to --output-range."""
    from conftest import _digits, write_pngs

    class Unbounded(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.fc = torch.nn.Linear(16, 256)

        def forward(self, z: torch.Tensor) -> torch.Tensor:
            return self.fc(z).view(-1, 1, 16, 16)

    module_file = tmp_path / "unbounded.py"
    module_file.write_text(
        textwrap.dedent("""
        import torch
        class Unbounded(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = torch.nn.Linear(16, 256)
            def forward(self, z):
                return self.fc(z).view(-1, 1, 16, 16)
    """)
    )
    path = saved(tmp_path, Unbounded())
    write_pngs(tmp_path / "imgs", _digits(16)[:300])
    result = runner.invoke(app, ["probe", str(path), "--arch", f"{module_file}:Unbounded",
                                 "--data", str(tmp_path / "imgs"), "--steps", "3"])  # fmt: skip
    assert result.exit_code in (0, 1), result.output
    assert "is a guess from the generator's own outputs" in " ".join(result.output.split())
    declared = runner.invoke(app, ["probe", str(path), "--arch", f"{module_file}:Unbounded",
                                   "--data", str(tmp_path / "imgs"), "--steps", "3",
                                   "--output-range", "-1,1"])  # fmt: skip
    assert "is a guess" not in declared.output


def test_saved_hyper_parameters_fill_the_constructor_and_the_latent(tmp_path: Path) -> None:
    """A Lightning checkpoint: ``hyper_parameters`` hold the constructor's arguments and the
    latent distribution; --arch picks up the ones its constructor names."""
    torch.manual_seed(0)
    g = forward_archs.make_generator(hidden=24)
    path = tmp_path / "epoch=3.ckpt"
    state = {f"generator.{k}": v for k, v in g.state_dict().items()}
    state["discriminator.w"] = torch.zeros(1)
    torch.save({"state_dict": state, "epoch": 3, "global_step": 120,
                "hyper_parameters": {"hidden": 24, "lr": 2e-4, "z_distribution": "uniform"}},
               path)  # fmt: skip
    loaded = load_generator(path, LoadOptions(arch=f"{ARCHS}:make_generator"))
    assert loaded.info.arch_kwargs == {"hidden": 24}  # lr is not the factory's
    assert loaded.info.latent_distribution == "uniform"
    assert loaded.info.details["epoch"] == 3 and loaded.info.details["global_step"] == 120
    result = runner.invoke(app, ["inspect", str(path), "--arch", f"{ARCHS}:make_generator",
                                 "--json", "-"])  # fmt: skip
    assert result.exit_code == 0 and '"latent_distribution": "uniform"' in result.stdout


LIT_GAN = '''
from torch import nn


class LitGAN(nn.Module):
    """A Lightning-style module holding G and D; its forward is G's."""

    def __init__(self, latent_dim=8):
        super().__init__()
        self.generator = nn.Sequential(nn.Linear(latent_dim, 48), nn.Tanh())
        self.discriminator = nn.Sequential(nn.Linear(48, 16), nn.LeakyReLU(0.2),
                                           nn.Linear(16, 1), nn.Sigmoid())

    def forward(self, z):
        return self.generator(z)
'''


def test_range_and_size_come_from_g_in_a_module_that_holds_d_too(tmp_path: Path) -> None:
    """D's final Sigmoid says nothing about G's range, and D's weights are not G's size."""
    module_file = tmp_path / "lit_gan.py"
    module_file.write_text(LIT_GAN)
    spec = importlib.util.spec_from_file_location("lit_gan", module_file)
    assert spec is not None and spec.loader is not None
    lit = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(lit)
    torch.manual_seed(0)
    model = lit.LitGAN()
    path = tmp_path / "lit.pt"
    torch.save(model.state_dict(), path)
    loaded = load_generator(path, LoadOptions(arch=f"{module_file}:LitGAN", strip_prefix=""))
    assert loaded.info.output_range == (-1.0, 1.0) and loaded.info.range_source == "architecture"
    assert loaded.info.parameters == sum(p.numel() for p in model.generator.parameters())
