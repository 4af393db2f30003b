"""The original packages' own generators, built with ``families.settings``, to time beside
gandoctor's builds. ``reference(family, size, repos)`` returns one, or a line saying why not.

Tested on the CPU build of torch 2.13.0 (Python 3.11), with these commands::

    pip install --no-deps stylegan2-pytorch==1.9.0 lightweight-gan==1.2.1 einops==0.8.2 \\
        kornia==0.9.0 kornia-rs==0.2.0 fire==0.7.1 termcolor==3.3.0
    git clone https://github.com/NVlabs/stylegan2-ada-pytorch /tmp/nvlabs      # tested at d72cc7d
    git clone https://github.com/rosinality/stylegan2-pytorch /tmp/rosinality  # tested at bef283a
    python benchmarks/scale.py --nvlabs-repo /tmp/nvlabs --rosinality-repo /tmp/rosinality

``--no-deps`` matters: the packages' requirements would pull in torchvision and a CUDA build
of torch. What the generators never use is stubbed for the import instead (torchvision,
aim, vector_quantize_pytorch, adabelief_pytorch, where they are not installed), and the
import-time ``assert torch.cuda.is_available()`` of both lucidrains packages is answered
yes for the import alone. NVlabs' custom ops fall back to their reference code on the CPU
by themselves. rosinality's ``op`` compiles CUDA at import: that build is answered by a
placeholder, and op's own CPU paths (``upfirdn2d_native``, ``F.leaky_relu``,
``F.conv2d``) run. Nothing is written into the clones (no bytecode either).

The PyTorch DCGAN example is a training script, not an importable package: no reference.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import families
import torch
from torch import nn

from gandoctor.loading.layouts.architectures.lucidrains import NOISE_SEED

CLONES = {"nvlabs": "https://github.com/NVlabs/stylegan2-ada-pytorch",
          "rosinality": "https://github.com/rosinality/stylegan2-pytorch"}  # fmt: skip
_DEPS = "einops==0.8.2 kornia==0.9.0 kornia-rs==0.2.0"
PIP = {"lucidrains": f"pip install --no-deps stylegan2-pytorch==1.9.0 {_DEPS} fire==0.7.1 "
                     "termcolor==3.3.0",
       "lightweight_gan": f"pip install --no-deps lightweight-gan==1.2.1 {_DEPS}"}  # fmt: skip
_UNUSED: dict[str, dict[str, Any]] = {
    "torchvision": {},
    "aim": {},
    "vector_quantize_pytorch": {"VectorQuantize": object},
    "adabelief_pytorch": {"AdaBelief": object},
}
"""Modules the lucidrains packages import but their generators never use, with the names
they import from them."""


@dataclass(frozen=True)
class Reference:
    module: nn.Module
    forward: Callable[[torch.Tensor], torch.Tensor]
    parameters: int
    """nn.Parameters only, as for gandoctor's build: noise images, blur kernels, w_avg and
    BatchNorm statistics are buffers on both sides, so equal counts mean the same layers."""


def reference(family: str, size: int, repos: dict[str, str]) -> Reference | str:
    """The original package's generator for ``families.build(family, size)`` (random
    weights, eval mode), or why it is not available."""
    chosen = families.settings(family, size)
    if family == "dcgan":
        return "no package: the PyTorch DCGAN example is a training script"
    try:
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            return _LOADERS[family](size, chosen, repos)
    except ImportError as error:
        if family in PIP:
            return f"not installed ({error.name or error}): {PIP[family]}"
        return f"cannot import the clone's code: {error}"


def _made(module: nn.Module, forward: Callable[[torch.Tensor], torch.Tensor]) -> Reference:
    module.eval()
    return Reference(module, forward, sum(p.numel() for p in module.parameters()))


def _clone(repos: dict[str, str], key: str, marker: str) -> Path | str:
    given = repos.get(key)
    if not given:
        return f"no clone given: --{key}-repo (git clone {CLONES[key]})"
    path = Path(given).expanduser().resolve()
    if not (path / marker).is_file():
        return f"{path} is not a clone of {CLONES[key]}: it has no {marker}"
    return path


@contextlib.contextmanager
def _no_bytecode() -> Iterator[None]:
    """Imports from a clone leave no __pycache__ in it."""
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        yield
    finally:
        sys.dont_write_bytecode = before


def _nvlabs(size: int, s: dict[str, Any], repos: dict[str, str]) -> Reference | str:
    repo = _clone(repos, "nvlabs", "training/networks.py")
    if isinstance(repo, str):
        return repo
    if str(repo) not in sys.path:
        sys.path.insert(0, str(repo))  # its modules import each other as top-level packages
    with _no_bytecode():
        networks = importlib.import_module("training.networks")
    if not Path(networks.__file__ or "").resolve().is_relative_to(repo):
        return f"another 'training' package is imported already: {networks.__file__}"
    synthesis = {k: s[k] for k in ("channel_base", "channel_max", "num_fp16_res", "conv_clamp")}
    g = networks.Generator(z_dim=s["z_dim"], c_dim=s["c_dim"], w_dim=s["w_dim"],
                           img_resolution=size, img_channels=s["img_channels"],
                           mapping_kwargs={"num_layers": s["map"]},
                           synthesis_kwargs=synthesis)  # fmt: skip
    return _made(g, lambda z: g(z, z.new_zeros(len(z), s["c_dim"]), noise_mode="const",
                                force_fp32=True))  # fmt: skip


class _Unbuilt:
    """Stands for a CUDA extension that was not compiled; only its CUDA paths would use it."""

    def __init__(self, name: str, *args: object, **kwargs: object) -> None:
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        raise RuntimeError(f"rosinality's CUDA op {self.name!r} is not built (CPU only)")


def _exec_file(name: str, path: Path, package: bool = False) -> types.ModuleType:
    where = [str(path.parent)] if package else None
    spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=where)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


_ROSINALITY_MODELS: dict[Path, types.ModuleType] = {}


def _rosinality_model(repo: Path) -> types.ModuleType:
    """The clone's model.py (as a module of its own name), with the clone's ``op`` package in
    sys.modules as ``op`` only while it imports: a generic name that must not shadow another."""
    if repo in _ROSINALITY_MODELS:
        return _ROSINALITY_MODELS[repo]

    def ours(name: str) -> bool:
        return name == "op" or name.startswith("op.")

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    try:
        with _no_bytecode(), mock.patch("torch.utils.cpp_extension.load", _Unbuilt):
            _exec_file("op", repo / "op" / "__init__.py", package=True)
            model = _exec_file(f"_rosinality_model_{len(_ROSINALITY_MODELS)}", repo / "model.py")
    finally:
        for name in [name for name in sys.modules if ours(name)]:
            del sys.modules[name]
        sys.modules.update(saved)
    _ROSINALITY_MODELS[repo] = model
    return model


def _rosinality(size: int, s: dict[str, Any], repos: dict[str, str]) -> Reference | str:
    repo = _clone(repos, "rosinality", "model.py")
    if isinstance(repo, str):
        return repo
    g = _rosinality_model(repo).Generator(size, s["latent"], s["n_mlp"],
                                          channel_multiplier=s["channel_multiplier"],
                                          lr_mlp=s["lr_mlp"])  # fmt: skip
    # Its stored noise buffers (randomize_noise=False), as train.py samples and gandoctor runs.
    return _made(g, lambda z: g([z], randomize_noise=False)[0])


def _import_on_cpu(name: str) -> types.ModuleType:
    """A lucidrains package's module on a CPU-only torch (module docstring): stubs for the
    unused modules that are not installed, in sys.modules for the import alone."""
    if name in sys.modules:
        return sys.modules[name]
    importlib.import_module("einops")  # real dependencies, imported before the patch below
    importlib.import_module("kornia.filters")
    stubs: dict[str, types.ModuleType] = {}
    for top, names in _UNUSED.items():
        if top not in sys.modules and importlib.util.find_spec(top) is None:
            stubs[top] = types.ModuleType(top)
            vars(stubs[top]).update(names)
    if "torchvision" in stubs:
        for sub in ("transforms", "utils"):
            stubs[f"torchvision.{sub}"] = types.ModuleType(f"torchvision.{sub}")
            setattr(stubs["torchvision"], sub, stubs[f"torchvision.{sub}"])
    sys.modules.update(stubs)
    try:
        with mock.patch.object(torch.cuda, "is_available", return_value=True):
            return importlib.import_module(name)
    finally:
        for stub in stubs:
            del sys.modules[stub]


def _lucidrains(size: int, s: dict[str, Any], repos: dict[str, str]) -> Reference:
    lucid = _import_on_cpu("stylegan2_pytorch.stylegan2_pytorch")
    # S and G as StyleGAN2.__init__ makes them (without its D, EMA copies and .cuda()).
    pair = nn.ModuleDict({
        "S": lucid.StyleVectorizer(s["latent_dim"], s["style_depth"], lr_mul=s["lr_mlp"]),
        "G": lucid.Generator(size, s["latent_dim"], s["network_capacity"],
                             attn_layers=s["attn_layers"], no_const=s["no_const"],
                             fmap_max=s["fmap_max"]),
    })  # fmt: skip
    lucid.StyleGAN2._init_weights(pair)
    # One fixed noise image, the same as gandoctor's build, in place of image_noise()'s draw.
    noise = torch.rand(1, size, size, 1, generator=torch.Generator().manual_seed(NOISE_SEED))

    def forward(z: torch.Tensor) -> torch.Tensor:
        w = lucid.latent_to_w(pair["S"], [(z, pair["G"].num_layers)])
        images: torch.Tensor = pair["G"](lucid.styles_def_to_tensor(w),
                                         noise.expand(len(z), -1, -1, -1))  # fmt: skip
        return images  # unclamped, as gandoctor's build (the Trainer clamps samples to [0, 1])

    return _made(pair, forward)


def _lightweight_gan(size: int, s: dict[str, Any], repos: dict[str, str]) -> Reference:
    lw = _import_on_cpu("lightweight_gan.lightweight_gan")
    # Built directly, the module's Blur is the real low-pass filter (antialias=True): the
    # Trainer's default antialias=False would swap it for nn.Identity (families.settings).
    g = lw.Generator(image_size=size, latent_dim=s["latent_dim"], fmap_max=s["fmap_max"],
                     fmap_inverse_coef=s["fmap_inverse_coef"],
                     attn_res_layers=s["attn_res_layers"],
                     freq_chan_attn=s["freq_chan_attn"])  # fmt: skip
    g.apply(lambda m: lw.LightweightGAN._init_weights(g, m))  # LightweightGAN's own init
    # Its Noise layers draw fresh noise at every call and G offers no option to fix it.
    return _made(g, g)


_LOADERS: dict[str, Callable[[int, dict[str, Any], dict[str, str]], Reference | str]] = {
    "nvlabs": _nvlabs,
    "rosinality": _rosinality,
    "lucidrains": _lucidrains,
    "lightweight_gan": _lightweight_gan,
}
