"""JSON configs that describe a state dict's architecture, and checkpoint folders.

Two places hold them. A Hugging Face style folder (``PyTorchModelHubMixin.save_pretrained``)
keeps ``model.safetensors`` beside ``config.json``, the model's constructor arguments. A
plain checkpoint may have a *sidecar* in its folder, ``<stem>.json``,
``generator_config.json`` or ``config.json``, such as the PyTorch DCGAN example's settings
``{"nz": 100, "ngf": 64, "nc": 3, "imageSize": 64}``.

A config is used to build a registered architecture only when it names one: the
``gandoctor.*`` keys of :mod:`gandoctor.loading.layouts.registry`, an ``"architecture"`` key, or the
DCGAN example's ``nz`` and ``ngf``. The weights file's own metadata comes first.
"""

from __future__ import annotations

import inspect
import json
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from gandoctor.errors import CheckpointError
from gandoctor.loading.layouts.architectures.dcgan import DCGANGenerator
from gandoctor.loading.layouts.registry import (
    REGISTRY,
    MetadataFacts,
    lookup_registered,
    read_metadata_facts,
)
from gandoctor.messages import one_line

FOLDER_WEIGHTS = "model.safetensors"
FOLDER_CONFIG = "config.json"
FOLDER_TORCH_WEIGHTS = "pytorch_model.bin"
"""What older ``save_pretrained`` versions wrote instead of ``model.safetensors``."""

MAX_CONFIG_BYTES = 1 << 24
"""16 MiB: Hugging Face config files take kilobytes; a larger file is not read into memory."""
SIDECAR_NAMES = ("generator_config.json", "config.json")
"""Looked for after ``<checkpoint stem>.json``, most specific first."""

ARCHITECTURE_KEY = "architecture"
_GANDOCTOR_PREFIX = "gandoctor."
_DCGAN_SIZE_KEYS = ("imageSize", "image_size", "isize")
_DCGAN_DEFAULTS = {"nc": 3, "image_size": 64}
"""The PyTorch DCGAN example's values where a settings file leaves them out."""


@dataclass(frozen=True)
class ConfigFile:
    path: str
    values: dict[str, Any]
    constructor: bool
    """True for a checkpoint folder's ``config.json``: its values are the constructor
    arguments of the saved class, so they are ``--arch``'s kwargs too."""


def folder_weights(folder: Path) -> Path:
    """The weights file of a checkpoint folder."""
    preferred = folder / FOLDER_WEIGHTS
    if preferred.is_file():
        return preferred
    found = sorted(path for path in folder.glob("*.safetensors") if path.is_file())
    if len(found) == 1:
        return found[0]
    if found:
        names = ", ".join(path.name for path in found[:6])
        raise CheckpointError(
            f"{folder}: the folder holds {len(found)} .safetensors files ({names}) and no "
            f"{FOLDER_WEIGHTS}; pass the generator's file itself (sharded checkpoints are not "
            "supported)"
        )
    if (folder / FOLDER_TORCH_WEIGHTS).is_file():
        return folder / FOLDER_TORCH_WEIGHTS
    raise CheckpointError(
        f"{folder}: is a directory without {FOLDER_WEIGHTS}; a checkpoint folder holds "
        f"{FOLDER_WEIGHTS} (or one .safetensors file) beside {FOLDER_CONFIG}, as "
        "PyTorchModelHubMixin.save_pretrained writes it"
    )


def folder_config(folder: Path) -> ConfigFile | None:
    path = folder / FOLDER_CONFIG
    return _read(path, constructor=True) if path.is_file() else None


def find_sidecar(weights: Path) -> ConfigFile | None:
    """The first JSON file beside ``weights`` that names an architecture."""
    for name in (f"{weights.stem}.json", *SIDECAR_NAMES):
        path = weights.with_name(name)
        if path.is_file() and path != weights:
            config = _read(path, constructor=False)
            if config is not None and _described(config) is not None:
                return config
    return None


def config_facts(
    config: ConfigFile, file_facts: MetadataFacts, arch_option: str | None
) -> tuple[MetadataFacts, str | None]:
    """The architecture facts with ``config`` taken into account, and where they came from.

    The second value names the config when it chose the architecture, for
    ``GeneratorInfo.arch_source``; it is None when the config was not used or only supplied
    ``--arch``'s kwargs.
    """
    if file_facts.arch:
        return file_facts, None
    if arch_option:
        if any(key.startswith(_GANDOCTOR_PREFIX) for key in config.values):
            # The loader compares the config's architecture with --arch, as for metadata.
            return _merge(file_facts, _gandoctor_facts(config, check=False)), None
        if config.constructor:
            return _merge(file_facts, MetadataFacts(arch_kwargs=_plain_kwargs(config))), None
        return file_facts, None
    described = _described(config)
    if described is None:
        return file_facts, None
    kind = "folder config" if config.constructor else "sidecar config"
    return _merge(file_facts, described), f"{kind}: {config.path}"


def _read(path: Path, constructor: bool) -> ConfigFile | None:
    try:
        if (size := path.stat().st_size) > MAX_CONFIG_BYTES:
            raise CheckpointError(
                f"{path}: {size} bytes is too large for a config (at most "
                f"{MAX_CONFIG_BYTES}); move it, it sits beside the checkpoint"
            )
        values = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise CheckpointError(f"{path}: cannot read the config ({reason})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        # A broken file beside the checkpoint may have been meant to describe it: say so
        # rather than probe a generator built without it.
        raise CheckpointError(
            f"{path}: not valid JSON ({one_line(str(exc))}); fix or move it, it sits beside "
            "the checkpoint as its config"
        ) from exc
    if isinstance(values, dict):
        return ConfigFile(path=str(path), values=values, constructor=constructor)
    if constructor:
        raise CheckpointError(
            f"{path}: must be a JSON object of constructor arguments, got a {type(values).__name__}"
        )
    return None  # a JSON list or number beside the checkpoint is not a generator config


def _described(config: ConfigFile) -> MetadataFacts | None:
    """The registered architecture the config names, with its kwargs; None if it names none."""
    values = config.values
    if any(key.startswith(_GANDOCTOR_PREFIX) for key in values):
        facts = _gandoctor_facts(config, check=True)
        return facts if facts.arch else None
    named = values.get(ARCHITECTURE_KEY)
    name = named.lower() if isinstance(named, str) else None
    if name is not None and name not in REGISTRY:
        return None  # e.g. a transformers config naming its own model class
    if "nz" in values and "ngf" in values and name in (None, "dcgan"):
        return MetadataFacts(arch="dcgan", arch_kwargs=_dcgan_kwargs(config))
    if name is None:
        return None
    kwargs = _plain_kwargs(config)
    _check_registered(config, name, kwargs)
    return MetadataFacts(arch=name, arch_kwargs=kwargs)


def _gandoctor_facts(config: ConfigFile, check: bool) -> MetadataFacts:
    # The same keys as safetensors metadata, which holds strings only: encode, then reuse
    # that parser and its checks.
    metadata = {
        key: value if isinstance(value, str) else json.dumps(value)
        for key, value in config.values.items()
        if key.startswith(_GANDOCTOR_PREFIX)
    }
    facts = read_metadata_facts(config.path, metadata)
    if facts.arch and check:
        _check_registered(config, facts.arch, facts.arch_kwargs)
    return facts


def _check_registered(config: ConfigFile, name: str, kwargs: dict[str, Any]) -> None:
    """Fail here, naming the config, on what the loader would otherwise blame on the weights.

    A ``module:Class`` name is not imported because a file says so (as for metadata); the
    kwargs are matched to the constructor's signature without building anything.
    """
    spec = lookup_registered(name, f"{config.path}: the config")
    try:
        inspect.signature(spec.build).bind(**kwargs)
    except TypeError as exc:
        raise CheckpointError(
            f"{config.path}: kwargs {json.dumps(kwargs)} do not fit architecture {name}: "
            f"{one_line(str(exc))}"
        ) from exc


def _plain_kwargs(config: ConfigFile) -> dict[str, Any]:
    return {
        key: value
        for key, value in config.values.items()
        if key != ARCHITECTURE_KEY and not key.startswith(_GANDOCTOR_PREFIX)
    }


def _dcgan_kwargs(config: ConfigFile) -> dict[str, Any]:
    """``DCGANGenerator`` kwargs from the PyTorch DCGAN example's argument names."""
    values = config.values
    size_key = next((key for key in _DCGAN_SIZE_KEYS if key in values), None)
    settings = {
        "nz": values["nz"],
        "ngf": values["ngf"],
        "nc": values.get("nc", _DCGAN_DEFAULTS["nc"]),
        "image_size": values[size_key] if size_key else _DCGAN_DEFAULTS["image_size"],
    }
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in settings.values()):
        raise CheckpointError(f"{config.path}: DCGAN settings must be integers, got {settings}")
    try:
        # standard() is where the example's width pattern lives; its arch_kwargs() are the
        # registry's kwargs for the same module.
        return DCGANGenerator.standard(**settings).arch_kwargs()
    except ValueError as exc:
        raise CheckpointError(
            f"{config.path}: DCGAN settings {settings} describe no generator: {one_line(str(exc))}"
        ) from exc


def _merge(file_facts: MetadataFacts, config: MetadataFacts) -> MetadataFacts:
    """The config's architecture; the weights file's declared shape and range where it has
    them."""
    return replace(
        config,
        arch_kwargs={**config.arch_kwargs, **file_facts.arch_kwargs},
        latent_shape=file_facts.latent_shape or config.latent_shape,
        output_range=file_facts.output_range or config.output_range,
    )
