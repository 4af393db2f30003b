"""What the reading stage hands to the loader: a state dict to load, or a ready module.

Formats split in two. safetensors files, checkpoint folders and ``torch.save`` dicts hold
only weights: the loader still has to choose and build an architecture and load them
strictly. TorchScript archives, ``torch.export`` programs and pickled modules carry their
own architecture: the module is used as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gandoctor.errors import ConfigError
from gandoctor.loading.formats.safetensors_file import FORMAT, Checkpoint
from gandoctor.loading.layouts.registry import MetadataFacts
from gandoctor.messages import describe_exception

SAFETENSORS = FORMAT
HF_FOLDER = "hf-folder"
TORCH = "torch"
TORCHSCRIPT = "torchscript"
TORCH_EXPORT = "torch.export"
PICKLED_MODULE = "pickled-module"
STYLEGAN_SNAPSHOT = "stylegan-snapshot"
"""The values of ``GeneratorInfo.format``."""


@dataclass(frozen=True)
class StateSource:
    """A generator's state dict, its keys already selected and stripped."""

    checkpoint: Checkpoint
    """``path`` as the user gave it; ``tensors`` as the module will see them."""
    format: str
    facts: MetadataFacts
    """What the file's metadata, or a JSON config beside it, says about the architecture."""
    facts_origin: str | None = None
    """``"sidecar config: <file>"`` when ``facts.arch`` came from a JSON config, so that the
    report and mismatch messages name that file rather than the weights' metadata."""
    key: str | None = None
    """Dotted path of the entry of a nested checkpoint that held the state dict."""
    stripped_prefix: str | None = None
    """What was removed from the front of every key (``"module."``, ``"generator."``)."""
    details: dict[str, Any] = field(default_factory=dict)
    """What the checkpoint says about its training (formats.facts)."""


@dataclass(frozen=True)
class ModuleSource:
    """A module that carries its own architecture."""

    checkpoint: Checkpoint
    """``path`` as given; no tensors (the module holds its weights)."""
    format: str
    module: nn.Module
    architecture: str
    """The class name the file records."""
    arch_source: str
    """``"file"`` (TorchScript, torch.export) or ``"pickled module"``."""
    latent_shape: tuple[int, ...] | None = None
    """Known only when the format records its input shapes (torch.export)."""
    key: str | None = None
    """Dotted path of the entry that held the module (a pickled dict of modules)."""
    stripped_prefix: None = None
    """Always None: a module's own names are used as they are."""
    output_range: tuple[float, float] | None = None
    """Known where the architecture was built by gandoctor (a StyleGAN snapshot's)."""
    num_classes: int | None = None
    """Classes of a conditional generator, where the file declares them (c_dim)."""
    details: dict[str, Any] = field(default_factory=dict)
    """What the file says about the generator and its training, for ``inspect``."""


Source = StateSource | ModuleSource


def empty_checkpoint(path: str) -> Checkpoint:
    return Checkpoint(path=path, tensors={}, metadata={})


def check_usable_device(device: torch.device) -> None:
    """Fail on an unusable device before a file is deserialised onto it.

    ``torch.load`` with ``map_location="cuda"`` on a machine without CUDA fails with a long
    message about deserialising; the user's mistake is the option, and is said as such.
    """
    try:
        torch.empty(0, device=device)
    except (RuntimeError, AssertionError) as exc:  # AssertionError: CUDA not compiled in
        raise ConfigError(f"cannot use device {device}: {describe_exception(exc)}") from exc
