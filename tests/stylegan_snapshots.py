"""Synthetic NVlabs-format training snapshots, for tests that must run without ../shared.

A real ``network-snapshot-*.pkl`` embeds NVIDIA-licensed source and stays out of the repo.
These files have the same pickle structure, made here without NVlabs' code:

- every network is pickled as a call of ``torch_utils.persistence._reconstruct_persistent_obj``
  with ``meta = dict(type, version, module_src, class_name, state)``, where ``state`` is the
  module's ``__dict__`` as NVlabs' persistent classes pickle it (``_parameters``,
  ``_buffers``, ``_modules`` of child objects, ``_init_args``, ``_init_kwargs``, plain
  attributes);
- tensors are pickled by torch itself: ``torch._utils._rebuild_tensor_v2`` /
  ``_rebuild_parameter`` with storages as ``torch.storage._load_from_bytes``;
- the weights come from gandoctor's own StyleGAN2, initialised at random, whose module tree
  has NVlabs' attribute names; the class names are NVlabs' (``MappingNetwork``, ...).

``module_src`` is whatever a test wants it to be: a loader that ran it would show it.
"""

from __future__ import annotations

import collections
import pickle
import sys
import types
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gandoctor.loading.layouts.architectures.stylegan2.generator import StyleGAN2Generator

NVLABS_NAMES = {
    "StyleGAN2Generator": "Generator",
    "Mapping": "MappingNetwork",
    "Synthesis": "SynthesisNetwork",
    "SynthesisBlock": "SynthesisBlock",
    "SynthesisLayer": "SynthesisLayer",
    "ToRGB": "ToRGBLayer",
    "FullyConnected": "FullyConnectedLayer",
    "Conv2dLayer": "Conv2dLayer",
}
HARMLESS_SOURCE = "import torch\n"


class Persistent:
    """Pickles as NVlabs' persistent objects do: a reconstruct call with ``meta``."""

    def __init__(self, class_name: str, state: dict[str, Any], source: str) -> None:
        self.meta = {"type": "class", "version": 6, "module_src": source,
                     "class_name": class_name, "state": state}  # fmt: skip

    def __reduce__(self) -> tuple[Any, ...]:
        return (_reconstruct_persistent_obj, (self.meta,))


def _reconstruct_persistent_obj(meta: dict[str, Any]) -> Any:  # pickled by reference only
    raise AssertionError("never called: the snapshot is read by gandoctor's unpickler")


def small_generator(seed: int = 0, c_dim: int = 0, architecture: str = "skip",
                    resolution: int = 8, channels: int = 1) -> StyleGAN2Generator:  # fmt: skip
    """A tiny StyleGAN2 with every parameter and noise buffer random (nothing left at its
    zero or one initialisation), so a wrongly wired load shows in the outputs."""
    torch.manual_seed(seed)
    g = StyleGAN2Generator(
        z_dim=8, c_dim=c_dim, w_dim=8, img_resolution=resolution, img_channels=channels,
        mapping_kwargs={"num_layers": 2},
        synthesis_kwargs={"channel_base": 64, "channel_max": 8, "num_fp16_res": 1,
                          "conv_clamp": 256, "architecture": architecture},
    )  # fmt: skip
    with torch.no_grad():
        for name, tensor in g.state_dict().items():
            if name.endswith("resample_filter"):
                continue
            # Mapping weights are stored divided by its learning-rate multiplier (0.01).
            scale = 100.0 if name.startswith("mapping.fc") and name.endswith("weight") else 1.0
            tensor.copy_(torch.randn_like(tensor) * (0.3 if "noise_strength" in name else scale))
    return g


def as_persistent(module: nn.Module, source: str = HARMLESS_SOURCE,
                  init_kwargs: dict[str, Any] | None = None) -> Persistent:  # fmt: skip
    """``module`` as NVlabs would pickle it (its children likewise)."""
    state = {
        "training": module.training,
        "_parameters": collections.OrderedDict(module._parameters),
        "_buffers": collections.OrderedDict(module._buffers),
        "_non_persistent_buffers_set": set(),
        "_modules": {n: as_persistent(m, source) for n, m in module._modules.items() if m},
        "_init_args": (),
        "_init_kwargs": init_kwargs if init_kwargs is not None else {},
    }
    return Persistent(NVLABS_NAMES[type(module).__name__], state, source)


def generator_kwargs(g: StyleGAN2Generator) -> dict[str, Any]:
    """The NVlabs Generator's own constructor arguments (no truncation: that is a call
    argument there)."""
    kwargs = g.arch_kwargs()
    return {k: kwargs[k] for k in ("z_dim", "c_dim", "w_dim", "img_resolution", "img_channels",
                                   "mapping_kwargs", "synthesis_kwargs")}  # fmt: skip


def snapshot(
    g_ema: StyleGAN2Generator,
    g: StyleGAN2Generator | None = None,
    source: str = HARMLESS_SOURCE,
    augment_p: float | None = 0.25,
    **extra: Any,
) -> dict[str, Any]:
    """The training loop's ``dict(training_set_kwargs, G, D, G_ema, augment_pipe)``, without D
    (issue 16 reads it) unless given in ``extra``."""
    stored: dict[str, Any] = {
        "training_set_kwargs": {
            "class_name": "training.dataset.ImageFolderDataset",
            "path": "~/datasets/x.zip",
            "resolution": 8,
        },
        "G": as_persistent(g or g_ema, source, generator_kwargs(g or g_ema)),
        "G_ema": as_persistent(g_ema, source, generator_kwargs(g_ema)),
    }
    if augment_p is not None:
        pipe = {"_parameters": {}, "_buffers": {"p": torch.tensor(augment_p)}, "_modules": {},
                "_init_args": (), "_init_kwargs": {"xflip": 1}}  # fmt: skip
        stored["augment_pipe"] = Persistent("AugmentPipe", pipe, source)
    return {**stored, **extra}


def write_snapshot(path: Path, stored: dict[str, Any]) -> Path:
    """Pickle ``stored`` as NVlabs' training loop does (``pickle.dump``)."""
    path.write_bytes(snapshot_bytes(stored))
    return path


def snapshot_bytes(stored: dict[str, Any]) -> bytes:
    """The pickle of ``stored``, with the persistent objects' reconstruct function named
    ``torch_utils.persistence._reconstruct_persistent_obj``."""
    fake = types.ModuleType("torch_utils.persistence")
    fake._reconstruct_persistent_obj = _reconstruct_persistent_obj  # type: ignore[attr-defined]
    _reconstruct_persistent_obj.__module__ = "torch_utils.persistence"
    saved = {name: sys.modules.get(name) for name in ("torch_utils", "torch_utils.persistence")}
    sys.modules["torch_utils"] = types.ModuleType("torch_utils")
    sys.modules["torch_utils.persistence"] = fake
    try:
        return pickle.dumps(stored)
    finally:
        for name, module in saved.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module


ARCHITECTURES = Path(__file__).resolve().parent / "fixtures" / "stylegan2_architectures.npz"
"""NVlabs' outputs for the three architectures (fixtures/make_stylegan2_architectures.py)."""


def architecture_fixture(name: str) -> tuple[dict[str, Any], dict[str, torch.Tensor], Any]:
    """The constructor kwargs and state dict stored under ``name`` (``skip``, ``D/orig``,
    ...), and the whole archive (its inputs and outputs)."""
    import json

    import numpy as np

    stored = np.load(ARCHITECTURES)
    kwargs = json.loads(str(stored["kwargs"]))[name]
    prefix = f"{name}/state/"
    state = {k[len(prefix) :]: torch.from_numpy(stored[k]) for k in stored if k.startswith(prefix)}
    return kwargs, state, stored
