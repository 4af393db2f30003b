"""Architectures gandoctor can build by name, and the facts a checkpoint may carry about them.

A safetensors header has a free ``__metadata__`` map of strings. gandoctor reads four keys:

- ``gandoctor.arch``: a registered architecture name (see :data:`REGISTRY`);
- ``gandoctor.arch_kwargs``: its constructor arguments, JSON;
- ``gandoctor.latent_shape``: JSON list, one latent vector without the batch axis;
- ``gandoctor.output_range``: JSON list ``[low, high]``.

Only registered names are built from metadata. A file can name any ``module:Class``, but
importing it would run code that arrived with a download rather than code the user chose;
that takes an explicit ``--arch``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading.common import check_latent_shape, check_output_range, one_line
from gandoctor.loading.dcgan import DCGANGenerator

ARCH_KEY = "gandoctor.arch"
ARCH_KWARGS_KEY = "gandoctor.arch_kwargs"
LATENT_SHAPE_KEY = "gandoctor.latent_shape"
OUTPUT_RANGE_KEY = "gandoctor.output_range"


@dataclass(frozen=True)
class ArchitectureSpec:
    """How to build a registered architecture and what it declares about itself."""

    name: str
    build: Callable[..., nn.Module]
    """Called with the architecture's kwargs."""
    latent_shape: Callable[[nn.Module], tuple[int, ...]]
    """The latent shape of a built module."""
    output_range: tuple[float, float]


def _dcgan_latent_shape(module: nn.Module) -> tuple[int, ...]:
    if not isinstance(module, DCGANGenerator):
        raise TypeError(f"expected a DCGANGenerator, got {type(module).__name__}")
    return module.latent_shape


REGISTRY: dict[str, ArchitectureSpec] = {
    "dcgan": ArchitectureSpec(
        name="dcgan",
        build=DCGANGenerator,
        latent_shape=_dcgan_latent_shape,
        output_range=DCGANGenerator.output_range,
    ),
}


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
    return MetadataFacts(
        arch=arch,
        arch_kwargs=kwargs,
        latent_shape=(
            None
            if latent is None
            else check_latent_shape(latent, f"{path}: metadata {LATENT_SHAPE_KEY}", CheckpointError)
        ),
        output_range=(
            None
            if bounds is None
            else check_output_range(bounds, f"{path}: metadata {OUTPUT_RANGE_KEY}", CheckpointError)
        ),
    )


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


def build_registered(
    path: str, name: str, kwargs: Mapping[str, Any]
) -> tuple[nn.Module, ArchitectureSpec]:
    """Build the registered architecture ``name``; the file's metadata chose it."""
    if ":" in name:
        raise CheckpointError(
            f"{path}: the file names architecture {name}; pass --arch {name} to use it "
            "(gandoctor does not import code named inside a checkpoint on its own)"
        )
    spec = REGISTRY.get(name)
    if spec is None:
        raise CheckpointError(
            f"{path}: metadata {ARCH_KEY} names unknown architecture {name!r}; "
            f"known: {', '.join(sorted(REGISTRY))}; or pass --arch module:Class"
        )
    try:
        module = spec.build(**kwargs)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(
            f"{path}: metadata {ARCH_KWARGS_KEY} {json.dumps(dict(kwargs))} does not fit "
            f"architecture {name}: {one_line(str(exc))}"
        ) from exc
    return module, spec
