"""Architectures gandoctor can build by name, and the facts a checkpoint may carry about them.

A safetensors header has a free ``__metadata__`` map of strings. gandoctor reads four keys:

- ``gandoctor.arch``: a registered architecture name (see :data:`REGISTRY`);
- ``gandoctor.arch_kwargs``: its constructor arguments, JSON;
- ``gandoctor.latent_shape``: JSON list, one latent vector without the batch axis;
- ``gandoctor.output_range``: JSON list ``[low, high]``.

Only registered names are built from metadata. A file can name any ``module:Class``, but
importing it would run code that arrived with a download rather than code the user chose;
that takes an explicit ``--arch``.

A file without metadata is offered to each registered architecture's ``recognise`` in turn,
which reads the layout from key names and tensor shapes (``architectures``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn

from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading.layouts.architectures import (
    dcgan,
    fasgan,
    ganzoo_fc_skip,
    lightweight_gan,
    lucidrains,
    progan,
    pytorch_gan_dcgan,
    pytorch_gan_mlp,
    wgan_dcgan,
    wgan_mlp,
)
from gandoctor.loading.layouts.architectures.base import (
    BuiltinGenerator,
    LayoutMismatch,
    Recogniser,
)
from gandoctor.loading.layouts.architectures.stylegan2 import rosinality
from gandoctor.messages import check_latent_shape, check_output_range, one_line

ARCH_KEY = "gandoctor.arch"
ARCH_KWARGS_KEY = "gandoctor.arch_kwargs"
LATENT_SHAPE_KEY = "gandoctor.latent_shape"
OUTPUT_RANGE_KEY = "gandoctor.output_range"

OTHER_ARCH_HINT = (
    "if it is another architecture, pass {opt:arch} FILE.py:Class or {opt:adapter} FILE.py"
)
"""In every message about a file that looks like a known layout but does not fit, before the
details, so that a message cut to a readable length keeps it."""


@dataclass(frozen=True)
class ArchitectureSpec:
    """How to build a registered architecture, what it declares about itself, and how to
    recognise its checkpoints."""

    name: str
    build: Callable[..., nn.Module]
    """Called with the architecture's kwargs."""
    latent_shape: Callable[[nn.Module], tuple[int, ...]]
    """The latent shape of a built module."""
    output_range: tuple[float, float] | None
    """What the final layer guarantees; None when nothing bounds the output, so that the
    loader measures it instead."""
    recognise: Recogniser
    """Kwargs from the file's tensors, None for another layout (see ``Recogniser``)."""
    layout: str
    """The layout in words, as messages name it: ``the PyTorch DCGAN example's generator ...``."""
    settings_beside: Callable[[str], dict[str, Any]] | None = None
    """Kwargs the weights do not record, read from what its training code writes beside the
    checkpoint (lucidrains' ``.config.json``); None where there is nothing to read."""
    settings_saved: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None
    """``(kwargs, saved)`` -> kwargs, completed from the settings its training code saves
    in the checkpoint itself (ProGAN's ``conf``); None where it saves none."""

    def recognise_file(
        self,
        path: str,
        tensors: Mapping[str, torch.Tensor],
        saved: Mapping[str, Any] | None = None,
    ) -> dict[str, Any] | None:
        """:attr:`recognise`, with its mismatch turned into a whole one-line message about
        ``path``, and the settings beside it and ``saved`` in it (``saved_settings``) added."""
        try:
            kwargs = self.recognise(tensors)
            if kwargs is not None and self.settings_saved is not None:
                kwargs = self.settings_saved(kwargs, saved or {})
            if kwargs is None or self.settings_beside is None:
                return kwargs
            return {**kwargs, **self.settings_beside(path)}
        except LayoutMismatch as exc:
            # The advice before the detail: a message cut to a readable length keeps it.
            detail = exc.template.removeprefix("does not fit it: ")
            raise CheckpointError(
                f"{path}: the checkpoint looks like {self.layout} but does not fit it "
                f"({OTHER_ARCH_HINT}): {detail}"
            ) from exc


def _builtin(
    name: str,
    cls: type[BuiltinGenerator],
    recognise: Recogniser,
    layout: str,
    settings_beside: Callable[[str], dict[str, Any]] | None = None,
    settings_saved: Callable[[dict[str, Any], Mapping[str, Any]], dict[str, Any]] | None = None,
) -> ArchitectureSpec:
    def latent_shape(module: nn.Module) -> tuple[int, ...]:
        if not isinstance(module, cls):
            raise TypeError(f"expected a {cls.__name__}, got {type(module).__name__}")
        return module.latent_shape

    return ArchitectureSpec(
        name,
        cls,
        latent_shape,
        cls.output_range,
        recognise,
        layout,
        settings_beside,
        settings_saved,
    )


REGISTRY: dict[str, ArchitectureSpec] = {
    spec.name: spec
    for spec in (
        _builtin("dcgan", dcgan.DCGANGenerator, dcgan.recognise, dcgan.LAYOUT),
        _builtin(
            "wgan_dcgan", wgan_dcgan.WGANDCGANGenerator, wgan_dcgan.recognise, wgan_dcgan.LAYOUT
        ),
        _builtin("wgan_mlp", wgan_mlp.WGANMLPGenerator, wgan_mlp.recognise, wgan_mlp.LAYOUT),
        _builtin(
            "pytorch_gan_mlp",
            pytorch_gan_mlp.PyTorchGANMLPGenerator,
            pytorch_gan_mlp.recognise,
            pytorch_gan_mlp.LAYOUT,
            settings_saved=pytorch_gan_mlp.dropout_saved,
        ),
        _builtin(
            "pytorch_gan_dcgan",
            pytorch_gan_dcgan.PyTorchGANDCGANGenerator,
            pytorch_gan_dcgan.recognise,
            pytorch_gan_dcgan.LAYOUT,
        ),
        _builtin(
            "ganzoo_fc_skip",
            ganzoo_fc_skip.ZooFCSkipGenerator,
            ganzoo_fc_skip.recognise,
            ganzoo_fc_skip.LAYOUT,
            settings_saved=ganzoo_fc_skip.settings_saved,
        ),
        _builtin(
            "lucidrains_stylegan2",
            lucidrains.LucidrainsStyleGAN2,
            lucidrains.recognise,
            lucidrains.LAYOUT,
            lucidrains.trainer_settings,
        ),
        _builtin(
            "lightweight_gan",
            lightweight_gan.LightweightGANGenerator,
            lightweight_gan.recognise,
            lightweight_gan.LAYOUT,
        ),
        _builtin(
            "progan",
            progan.ProGANGenerator,
            progan.recognise,
            progan.LAYOUT,
            settings_saved=progan.conf_settings,
        ),
        _builtin("fasgan", fasgan.FasGANGenerator, fasgan.recognise, fasgan.LAYOUT),
        _builtin(
            "rosinality_stylegan2",
            rosinality.RosinalityGenerator,
            rosinality.recognise,
            rosinality.LAYOUT,
        ),
    )
}
"""Every architecture gandoctor builds by name. Recognition tries them in this order and takes
the first that claims a file; the layouts are told apart by attribute names and weight
dimensionality, so no file of one layout is claimed by another."""


@dataclass(frozen=True)
class MetadataFacts:
    """What a checkpoint's metadata says; every field is None/empty when the file is silent."""

    arch: str | None = None
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    latent_shape: tuple[int, ...] | None = None
    output_range: tuple[float, float] | None = None


def architecture_metadata(
    name: str,
    kwargs: Mapping[str, Any],
    latent_shape: Sequence[int] | None = None,
    output_range: Sequence[float] | None = None,
) -> dict[str, str]:
    """The ``metadata`` to pass to ``safetensors.torch.save_file`` so gandoctor can load it.

    ``name`` is a registered name (built automatically) or a ``module:Class`` string (which
    the loader will ask the user to confirm with ``--arch``). Values are checked here so a
    training script fails when it saves, not when someone probes the file later.
    """
    if not name:
        raise ConfigError("architecture name must not be empty")
    try:
        encoded_kwargs = json.dumps(dict(kwargs), sort_keys=True)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"architecture kwargs must be JSON-serialisable: {exc}") from exc
    metadata = {ARCH_KEY: name, ARCH_KWARGS_KEY: encoded_kwargs}
    if latent_shape is not None:
        shape = check_latent_shape(list(latent_shape), "latent_shape", ConfigError)
        metadata[LATENT_SHAPE_KEY] = json.dumps(list(shape))
    if output_range is not None:
        bounds = check_output_range(list(output_range), "output_range", ConfigError)
        metadata[OUTPUT_RANGE_KEY] = json.dumps(list(bounds))
    return metadata


def read_metadata_facts(path: str, metadata: Mapping[str, str]) -> MetadataFacts:
    """Parse the ``gandoctor.*`` keys; malformed values raise :class:`CheckpointError`."""
    arch = metadata.get(ARCH_KEY) or None
    kwargs = _json_value(path, metadata, ARCH_KWARGS_KEY, default={})
    if not isinstance(kwargs, dict):
        raise CheckpointError(f"{path}: metadata {ARCH_KWARGS_KEY} must be a JSON object")
    latent = _json_value(path, metadata, LATENT_SHAPE_KEY, default=None)
    bounds = _json_value(path, metadata, OUTPUT_RANGE_KEY, default=None)
    if latent is not None:
        latent = check_latent_shape(latent, f"{path}: metadata {LATENT_SHAPE_KEY}", CheckpointError)
    if bounds is not None:
        bounds = check_output_range(bounds, f"{path}: metadata {OUTPUT_RANGE_KEY}", CheckpointError)
    return MetadataFacts(arch=arch, arch_kwargs=kwargs, latent_shape=latent, output_range=bounds)


def _json_value(path: str, metadata: Mapping[str, str], key: str, default: Any) -> Any:
    text = metadata.get(key)
    if text is None or not text.strip():
        return default
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CheckpointError(
            f"{path}: metadata {key} is not valid JSON ({one_line(exc.msg)}): {text[:80]!r}"
        ) from exc
    except RecursionError:  # nested thousands deep
        raise CheckpointError(f"{path}: metadata {key} is nested too deeply") from None


def lookup_registered(name: str, named_by: str) -> ArchitectureSpec:
    """The registered architecture ``name``, which ``named_by`` (a file or config, for the
    message) names. An import path is refused: importing code because a downloaded file
    says so would run code the user did not choose."""
    if ":" in name:
        raise CheckpointError(
            f"{named_by} names architecture {name}; pass {{opt:arch}} {name} to use it "
            "(gandoctor does not import code named inside a file on its own)"
        )
    spec = REGISTRY.get(name)
    if spec is None:
        raise CheckpointError(
            f"{named_by} names unknown architecture {name!r}; known: "
            f"{', '.join(sorted(REGISTRY))}; or pass {{opt:arch}} module:Class"
        )
    return spec


def build_registered(
    path: str, name: str, kwargs: Mapping[str, Any]
) -> tuple[nn.Module, ArchitectureSpec]:
    """Build the registered architecture ``name``; the file's metadata chose it."""
    spec = lookup_registered(name, f"{path}: the file")
    try:
        module = spec.build(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: metadata {ARCH_KWARGS_KEY} {json.dumps(dict(kwargs))} does not fit "
            f"architecture {name}: {one_line(str(exc))}"
        ) from exc
    return module, spec
