"""The checkpoint's own discriminator, where the file holds one gandoctor can build: the
``D`` of an NVlabs snapshot (read by the same restricted unpickler as G), the ``d`` of a
rosinality checkpoint, the ``D`` of a lucidrains stylegan2-pytorch Trainer checkpoint, or a
PyTorch-examples DCGAN ``netD`` (in the dict, or in a
``netD_epoch_N.pth`` beside ``netG_epoch_N.pth``). Weights load strictly; a D that does not
fit is one line, as for G."""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.discriminators import custom
from gandoctor.loading.formats.nvlabs_pickle import PersistentRecord, is_snapshot, read_snapshot
from gandoctor.loading.formats.safetensors_file import read_safetensors
from gandoctor.loading.formats.torch_file import load_torch_file
from gandoctor.loading.layouts.architectures import lucidrains_d
from gandoctor.loading.layouts.architectures.stylegan2 import rosinality_d
from gandoctor.loading.layouts.architectures.stylegan2.discriminator import NVlabsDiscriminator
from gandoctor.loading.layouts.nvlabs_snapshot import augment_p
from gandoctor.loading.layouts.state import load_state_strict
from gandoctor.loading.selection.prefixes import is_discriminator_name


@dataclass
class OwnD:
    module: nn.Module
    """Logits out (a final Sigmoid is left off), eval mode, on the device."""
    architecture: str
    source: str
    augment_p: float | None = None
    r1_gamma: float | None = None
    loss: str = "non-saturating (assumed)"
    """The loss the D trained with, where the repository has only one."""


class DCGANDiscriminator(nn.Module):
    """The PyTorch examples' DCGAN D: strided 4x4 convolutions, BatchNorm from the second,
    LeakyReLU(0.2), a last 4x4 convolution to one value; its Sigmoid is left off (logits)."""

    def __init__(self, layout: list[tuple[int, str, tuple[int, ...]]]) -> None:
        super().__init__()
        modules: list[nn.Module] = []
        convs = [entry for entry in layout if entry[1] == "conv"]
        for index, kind, shape in layout:
            while len(modules) < index:
                modules.append(nn.LeakyReLU(0.2))
            if kind == "conv":
                last = (index, kind, shape) == convs[-1]
                modules.append(nn.Conv2d(shape[1], shape[0], 4, 1 if last else 2,
                                         0 if last else 1, bias=False))  # fmt: skip
            else:
                modules.append(nn.BatchNorm2d(shape[0]))
        self.main = nn.Sequential(*modules)
        self.group_size = 1

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.main(x).flatten(1)


def dcgan_layout(tensors: Mapping[str, torch.Tensor]) -> list[tuple[int, str, tuple[int, ...]]]:
    """(index, "conv" | "bn", weight shape) of ``main.N`` layers; empty for another layout."""
    layout = []
    for key, tensor in tensors.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "main" and parts[1].isdigit() and parts[2] == "weight":
            kind = "conv" if tensor.dim() == 4 else "bn"
            layout.append((int(parts[1]), kind, tuple(tensor.shape)))
    layout.sort()
    convs = [e for e in layout if e[1] == "conv"]
    return layout if convs and convs[-1][2][0] == 1 else []


def find_own_discriminator(
    path: str,
    device: torch.device,
    disc_checkpoint: str | None = None,
    disc: str | None = None,
    disc_kwargs: Mapping[str, Any] | None = None,
) -> OwnD | None:
    """The checkpoint's D, or None where it holds none gandoctor can build.
    ``disc_checkpoint`` is a D saved in a file of its own (``--disc-checkpoint``), which
    must then be one of the layouts here unless ``disc`` (``--disc module:Class``, called
    with ``disc_kwargs``) names the architecture."""
    if disc is not None:
        return _custom(disc, disc_kwargs or {}, disc_checkpoint or path, device)
    if disc_checkpoint is not None:
        found = _from_file(disc_checkpoint, device)
        if found is None:
            raise CheckpointError(
                f"{disc_checkpoint}: not a discriminator gandoctor can build (NVlabs "
                "snapshot D, rosinality d, or the PyTorch examples' DCGAN netD)"
            )
        return found
    return _from_file(path, device, paired=True)


def _from_file(path: str, device: torch.device, paired: bool = False) -> OwnD | None:
    if is_snapshot(path):
        snapshot = read_snapshot(path, device)
        record = snapshot.get("D")
        if not isinstance(record, PersistentRecord) or record.class_name != "Discriminator":
            return None
        nvlabs = NVlabsDiscriminator(*record.init_args, **record.init_kwargs)
        _load(nvlabs, record.state_dict(), path, "entry 'D'")
        return OwnD(nvlabs.to(device).eval(), "stylegan2 (NVlabs snapshot D)", "D",
                    augment_p(snapshot), _training_options_gamma(path),
                    "non-saturating logistic (NVlabs' StyleGAN2Loss)")  # fmt: skip
    stored = _read(path, device)
    if not isinstance(stored, Mapping):
        return _paired(path, device) if paired else None
    if dcgan_layout(stored):  # a file of D's weights alone
        return _dcgan(stored, path, Path(path).name, device)
    stored = {**_prefix_groups(stored.get("state_dict", stored)), **stored}
    if isinstance(stored.get("d"), Mapping) and rosinality_d.recognise(stored["d"]) is not None:
        kwargs = rosinality_d.recognise(stored["d"])
        assert kwargs is not None
        module = rosinality_d.RosinalityDiscriminator(**kwargs)
        _load(module, dict(stored["d"]), path, "entry 'd'")
        args = stored.get("args")
        gamma = getattr(args, "r1", None) if isinstance(args, argparse.Namespace) else None
        aug = stored.get("ada_aug_p")
        return OwnD(module.to(device).eval(), "rosinality_stylegan2 d", "d",
                    float(aug) if isinstance(aug, int | float) else None,
                    float(gamma) if isinstance(gamma, int | float) else None,
                    "non-saturating logistic (rosinality's train.py)")  # fmt: skip
    gan = stored.get("GAN")
    if isinstance(gan, Mapping) and (found := _lucidrains(gan, path, device)) is not None:
        return found
    # Named as a D's in any spelling: netD, netD_state_dict (the DCGAN tutorial's training
    # checkpoints), discriminator (Lightning's prefix, grouped above).
    for key, entry in stored.items():
        if is_discriminator_name(str(key)) and isinstance(entry, Mapping) and dcgan_layout(entry):
            return _dcgan(entry, path, str(key), device)
    return _paired(path, device) if paired else None


def _custom(disc: str, kwargs: Mapping[str, Any], path: str, device: torch.device) -> OwnD:
    """``--disc``'s module with the D weights of ``path``; a last Sigmoid is left off."""
    state = custom.disc_state(_read(path, device), path)
    module, had_sigmoid = custom.logits_out(custom.build_disc(disc, kwargs))
    _load(module, state, path, f"{{opt:disc}} {disc}")
    loss = "BCE on its sigmoid (assumed)" if had_sigmoid else "non-saturating (assumed)"
    return OwnD(module.to(device).eval(), f"{disc} (--disc)", Path(path).name, loss=loss)


def _lucidrains(gan: Mapping[str, object], path: str, device: torch.device) -> OwnD | None:
    """The ``D`` of a lucidrains stylegan2-pytorch Trainer checkpoint; None for another
    layout (lightweight-gan's D, one with vector-quantised layers)."""
    state = {str(k)[2:]: v for k, v in gan.items() if str(k).startswith("D.")}
    tensors = {k: v for k, v in state.items() if isinstance(v, torch.Tensor)}
    kwargs = lucidrains_d.recognise(tensors)
    if kwargs is None:
        return None
    module = lucidrains_d.LucidrainsDiscriminator(**kwargs)
    _load(module, tensors, path, "entry 'GAN', prefix 'D.'")
    return OwnD(module.to(device).eval(), "lucidrains_stylegan2 D", "GAN.D", loss=lucidrains_d.LOSS)


def _read(path: str, device: torch.device) -> object:
    """A ``torch.save`` file's content, or a safetensors file's tensors."""
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head.startswith((b"PK\x03\x04", b"\x80")):
        return load_torch_file(path, device, trust_pickle=False)
    return read_safetensors(path).tensors


def _prefix_groups(tensors: object) -> dict[str, dict[str, torch.Tensor]]:
    """A flat state dict's D entries by key prefix (Lightning's ``discriminator.``)."""
    if not isinstance(tensors, Mapping):
        return {}
    groups: dict[str, dict[str, torch.Tensor]] = {}
    for key, value in tensors.items():
        head, _, rest = str(key).partition(".")
        if is_discriminator_name(head) and rest and isinstance(value, torch.Tensor):
            groups.setdefault(head, {})[rest] = value
    return groups


def _paired(path: str, device: torch.device) -> OwnD | None:
    """``netD_epoch_N.pth`` beside ``netG_epoch_N.pth``, as the PyTorch examples write them."""
    name = Path(path).name
    if "netG" not in name:
        return None
    partner = Path(path).with_name(name.replace("netG", "netD"))
    if not partner.is_file():
        return None
    return _from_file(str(partner), device)


def _dcgan(tensors: Mapping[str, torch.Tensor], path: str, source: str,
           device: torch.device) -> OwnD:  # fmt: skip
    module = DCGANDiscriminator(dcgan_layout(tensors))
    _load(module, dict(tensors), path, f"{source}")
    return OwnD(module.to(device).eval(), "dcgan D (PyTorch examples)", source,
                loss="BCE on its sigmoid (the PyTorch examples' DCGAN)")  # fmt: skip


def _training_options_gamma(path: str) -> float | None:
    """R1's gamma from ``training_options.json``, which StyleGAN2-ADA writes beside its
    snapshots (``loss_kwargs.r1_gamma``); None where it is absent or unreadable."""
    options = Path(path).with_name("training_options.json")
    try:
        gamma = json.loads(options.read_text())["loss_kwargs"]["r1_gamma"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return float(gamma) if isinstance(gamma, int | float) else None


def _load(module: nn.Module, tensors: dict[str, torch.Tensor], path: str, what: str) -> None:
    load_state_strict(module, {k: v.float() for k, v in tensors.items()}, path=path,
                      context=f"{what}: the discriminator does not fit its layout")  # fmt: skip
    if any(not bool(torch.isfinite(p.detach()).all()) for p in module.parameters()):
        raise CheckpointError(f"{path}: {what}: the discriminator's weights hold NaN or Inf")
