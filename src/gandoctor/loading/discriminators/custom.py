"""``--disc module:Class`` with ``--disc-kwargs``: the checkpoint's own D for a layout
gandoctor does not recognise, built as ``--arch`` builds G (loading.custom_arch) and filled
with the D weights found in the checkpoint or in ``--disc-checkpoint``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import nn

from gandoctor.errors import CheckpointError, ConfigError, GanDoctorError
from gandoctor.loading.layouts.custom_arch import build_arch
from gandoctor.loading.selection.prefixes import is_discriminator_name

DISC_ENTRIES = ("netD", "discriminator", "D", "critic")
"""Examples of the names that hold a D, for messages: any entry or key prefix whose name
is a discriminator's once filler words are dropped (``netD_state_dict``, ``net_D``, ``d``,
``netC``: ``selection.prefixes.is_discriminator_name``)."""


def build_disc(arch: str, kwargs: Mapping[str, Any]) -> nn.Module:
    """The ``--disc`` module, with ``--arch``'s one-line errors worded for ``--disc``."""
    try:
        return build_arch(arch, kwargs)
    except GanDoctorError as error:
        template = error.template.replace("{opt:arch_kwargs}", "{opt:disc_kwargs}")
        raise ConfigError(template.replace("{opt:arch}", "{opt:disc}")) from error


def disc_state(stored: object, path: str) -> dict[str, torch.Tensor]:
    """The D's state dict in what a file holds: the file itself where it is one, else an
    entry named as a D's (or keys with such a prefix); ``module.`` (DataParallel)
    is removed where every key has it."""
    if not isinstance(stored, Mapping):
        raise CheckpointError(f"{path}: holds no state dict for {{opt:disc}}")
    stored = stored.get("state_dict", stored) if _tensors(stored) is None else stored
    state = _tensors(stored) if isinstance(stored, Mapping) else None
    if state is None or _prefixed(state):
        names = [str(name) for name in stored] + sorted({str(k).partition(".")[0] for k in stored})
        found = (_entry(stored, n) for n in dict.fromkeys(names) if is_discriminator_name(n))
        state = next(filter(None, found), None)
    if not state:
        raise CheckpointError(
            f"{path}: no discriminator weights for {{opt:disc}} (looked for a state dict, or "
            f"entries or key prefixes named like {', '.join(DISC_ENTRIES)}); name the file with "
            "{opt:disc_checkpoint}"
        )
    if all(key.startswith("module.") for key in state):
        state = {key.removeprefix("module."): value for key, value in state.items()}
    return state


def logits_out(module: nn.Module) -> tuple[nn.Module, bool]:
    """``module`` with a last ``nn.Sigmoid`` (the last module it registers) made an identity,
    so that it returns logits, and whether it had one. A sigmoid applied in ``forward`` by
    a function cannot be seen; its outputs are then read as logits."""
    named = list(module.named_modules())
    name, last = named[-1]
    if not name or not isinstance(last, nn.Sigmoid):
        return module, False
    parent_name, _, child = name.rpartition(".")
    parent = module.get_submodule(parent_name) if parent_name else module
    setattr(parent, child, nn.Identity())
    return module, True


def _tensors(value: Mapping[Any, Any]) -> dict[str, torch.Tensor] | None:
    if value and all(isinstance(v, torch.Tensor) for v in value.values()):
        return {str(k): v for k, v in value.items()}
    return None


def _prefixed(state: Mapping[str, torch.Tensor]) -> bool:
    """A flat state dict of several networks (``generator.*``, ``discriminator.*``)."""
    heads = {key.partition(".")[0] for key in state}
    return any(is_discriminator_name(head) for head in heads) and len(heads) > 1


def _entry(stored: Mapping[Any, Any], name: str) -> dict[str, torch.Tensor] | None:
    entry = stored.get(name)
    if isinstance(entry, Mapping):
        return _tensors(entry)
    grouped = {
        str(key)[len(name) + 1 :]: value
        for key, value in stored.items()
        if str(key).startswith(name + ".") and isinstance(value, torch.Tensor)
    }
    return grouped or None
