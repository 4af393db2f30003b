"""``load_generator``: from a checkpoint path to a frozen-ready generator and its facts."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import torch
from torch import nn

from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading.formats import ModuleSource, StateSource, read_source
from gandoctor.loading.formats.facts import saved_distribution, saved_settings
from gandoctor.loading.formats.safetensors_file import Checkpoint
from gandoctor.loading.generator import notes as said
from gandoctor.loading.generator.forward import adapt_forward, apply_truncation
from gandoctor.loading.generator.info import GeneratorInfo, LoadedGenerator, choose_distribution
from gandoctor.loading.generator.inspection import (
    detect_output_range,
    infer_latent_shape,
    latent_candidates,
    probe_first_working,
)
from gandoctor.loading.layouts.adapters import build_with_adapter
from gandoctor.loading.layouts.custom_arch import accepted_kwargs, split_arch
from gandoctor.loading.layouts.factories import build_arch_module
from gandoctor.loading.layouts.registry import (
    ARCH_KEY,
    OTHER_ARCH_HINT,
    REGISTRY,
    MetadataFacts,
    build_registered,
)
from gandoctor.loading.layouts.spectral import fold_spectral_norm, plain_names
from gandoctor.loading.layouts.state import load_state_strict
from gandoctor.loading.selection.prefixes import generator_submodule
from gandoctor.messages import (
    check_latent_shape,
    check_output_range,
    describe_exception,
    format_keys,
)
from gandoctor.runtime.devices import resolve_device

_DEFAULT_OPTIONS = LoadOptions()  # frozen, so one instance serves every call

_ARCH_HINT = "pass {opt:arch} module:Class {opt:arch_kwargs} '{...}'"


@dataclass(frozen=True)
class _Built:
    """An architecture chosen and constructed, before the weights are loaded."""

    module: nn.Module
    architecture: str
    source: str
    kwargs: dict[str, Any]
    latent_shape: tuple[int, ...] | None
    output_range: tuple[float, float] | None
    mismatch_context: str
    mismatch_hint: str
    weights_loaded: bool = False  # an adapter loaded them itself: no strict load after it
    num_classes: int | None = None  # classes the file or the adapter declares
    latent_distribution: str | None = None  # how z is drawn, where an adapter declares it
    notes: tuple[str, ...] = ()
    """What gandoctor changed itself to build it (loading.generator.notes)."""


def load_generator(
    path: str | os.PathLike[str], options: LoadOptions = _DEFAULT_OPTIONS
) -> LoadedGenerator:
    """Load the generator stored at ``path``, in any format of :mod:`.formats`.

    Files that hold a program or a pickled module bring their architecture. For state dicts
    it comes from ``options.arch``, else from the file's ``gandoctor.*`` metadata or a JSON
    config beside it, else from recognising a known layout (the PyTorch DCGAN example). The weights
    must fit it exactly. One forward pass on fixed latents then reveals the output shape and,
    unless declared, the output range. NaN or Inf weights load fine: they are a finding of
    the probe, not an unreadable file. Problems raise :class:`CheckpointError` (the file) or
    :class:`ConfigError` (the options), each with a one-line message.
    """
    device = _check_device(options.device)
    option_latent, option_range = _checked_options(options)
    source = read_source(path, options, device)
    checkpoint = source.checkpoint
    built, module = _built_module(source, options, device)
    if option_latent is not None:
        latent_shape, latent_source = option_latent, "option"
    elif built.latent_shape is not None:
        latent_shape, latent_source = built.latent_shape, "architecture"
    else:
        latent_shape, latent_source = infer_latent_shape(checkpoint.path, module)
    guessed = latent_source in ("attribute", "first layer")
    declared_classes = source.num_classes if isinstance(source, ModuleSource) else built.num_classes
    num_classes = options.num_classes or declared_classes
    latent_shape, output, tried = probe_first_working(
        checkpoint.path,
        module,
        latent_candidates(latent_shape) if guessed else [latent_shape],
        str(device),
        hint="if the latent shape is wrong, pass {opt:latent_shape}" if guessed else "",
        distribution=choose_distribution(options.latent_distribution, built.latent_distribution),
        num_classes=num_classes,
    )
    details = dict(source.details)
    said.record(details, said.prefix_note(source.stripped_prefix, options.strip_prefix),
                *built.notes)  # fmt: skip
    if tried:  # say what the guess took, so a wrong one is easy to spot
        details["latent_shape_tried"] = [*tried, f"{latent_shape} worked"]
    # Range and size are G's own where the built module holds a D too (a Lightning module).
    generator = generator_submodule(built.module)
    output_range, range_source = detect_output_range(
        generator, output, option_range, built.output_range
    )
    info = GeneratorInfo(
        checkpoint=checkpoint.path,
        format=source.format,
        architecture=built.architecture,
        arch_source=built.source,
        arch_kwargs=built.kwargs,
        latent_shape=latent_shape,
        latent_source=latent_source,
        output_shape=tuple(int(size) for size in output.shape[1:]),
        output_range=output_range,
        range_source=range_source,
        parameters=sum(parameter.numel() for parameter in generator.parameters()),
        key=source.key,
        stripped_prefix=source.stripped_prefix,
        num_classes=declared_classes,
        details=details,
        latent_distribution=built.latent_distribution,
    )
    return LoadedGenerator(module=module, info=info)


def _checked_options(
    options: LoadOptions,
) -> tuple[tuple[int, ...] | None, tuple[float, float] | None]:
    """The latent shape and output range the user gave, checked before the file is read."""
    if options.arch is not None:
        split_arch(options.arch)  # an empty or malformed --arch fails before the file is read
    if options.arch_kwargs and not (options.arch or options.adapter):
        # Silently ignoring them would probe a different generator than the user described.
        raise ConfigError(
            "{opt:arch_kwargs} needs {opt:arch} or {opt:adapter}: without them the "
            "architecture and its kwargs come from the checkpoint"
        )
    if options.arch and options.adapter:
        raise ConfigError("{opt:arch} and {opt:adapter} both build the generator: pass one")
    latent = options.latent_shape
    shown = options.output_range
    return (
        None if latent is None else check_latent_shape(latent, "{opt:latent_shape}", ConfigError),
        None if shown is None else check_output_range(shown, "{opt:output_range}", ConfigError),
    )


def _built_module(
    source: StateSource | ModuleSource, options: LoadOptions, device: torch.device
) -> tuple[_Built, nn.Module]:
    """The generator, with its weights, on ``device`` in eval mode; how it was found."""
    checkpoint = source.checkpoint
    if isinstance(source, ModuleSource):  # TorchScript, torch.export, a pickled module
        built = _Built(
            module=source.module,
            architecture=source.architecture,
            source=source.arch_source,
            kwargs={},
            latent_shape=source.latent_shape,
            output_range=source.output_range,
            mismatch_context="",
            mismatch_hint="",
        )
    else:
        built = _build(checkpoint, source.facts, options, source.details)
        if source.facts_origin and built.source == "metadata":  # a JSON config named it
            context = (
                f"does not fit architecture {built.architecture} (from the {source.facts_origin})"
            )
            built = replace(built, source=source.facts_origin, mismatch_context=context)
    module = built.module.float()
    if isinstance(source, StateSource) and not built.weights_loaded:
        tensors, folded = fold_spectral_norm(module, checkpoint.tensors)
        built = replace(built, notes=(*built.notes, folded)) if folded else built
        load_state_strict(
            module,
            tensors,
            path=checkpoint.path,
            context=said.prefix_context(built.mismatch_context, source.stripped_prefix),
            hint=built.mismatch_hint,
        )
    try:
        module = module.to(device)
    except (RuntimeError, AssertionError) as exc:  # torch asserts when CUDA is not compiled in
        raise ConfigError(f"cannot use device {device}: {describe_exception(exc)}") from exc
    apply_truncation(module, options.truncation, checkpoint.path)
    onehot = options.num_classes if options.label_format == "onehot" else None
    module = adapt_forward(module, options.forward_kwargs, options.output_index, onehot)
    return built, module.eval()


def _build(
    checkpoint: Checkpoint, facts: MetadataFacts, options: LoadOptions, details: dict[str, Any]
) -> _Built:
    """Choose the architecture (``--arch``, then metadata, then recognition) and build it."""
    path = checkpoint.path
    if options.adapter:
        adapted = build_with_adapter(options.adapter, checkpoint.tensors, options.arch_kwargs)
        return _Built(
            module=adapted.module,
            architecture=f"{type(adapted.module).__name__} (from {options.adapter})",
            source="--adapter",
            kwargs=dict(options.arch_kwargs),
            latent_shape=adapted.latent_shape or facts.latent_shape,
            output_range=adapted.output_range or facts.output_range,
            mismatch_context="",
            mismatch_hint="",
            weights_loaded=True,
            num_classes=adapted.num_classes,
            latent_distribution=adapted.latent_distribution,
        )
    if options.arch:
        # The file's declared shape and range still describe it when the user named the same
        # class the file names (the flow the metadata refusal suggests) or the file names none.
        same = facts.arch in (None, options.arch)
        kwargs = {**facts.arch_kwargs, **options.arch_kwargs} if same else dict(options.arch_kwargs)
        # Constructor arguments the checkpoint saved (Lightning's hyper_parameters) fill
        # in what the options leave out; the user's --arch-kwargs win.
        saved = saved_settings(details)
        filled = accepted_kwargs(options.arch, saved)
        note = said.settings_note(set(filled) - set(kwargs), details)
        kwargs = {**filled, **kwargs}
        try:
            module, how = build_arch_module(options.arch, kwargs, path, options.arch_kwargs)
        except ConfigError as error:
            raise said.with_note(error, note) from error
        return _Built(
            module=module,
            architecture=options.arch,
            source=f"--arch, {how}" if how else "--arch",
            kwargs=kwargs,
            latent_shape=facts.latent_shape if same else None,
            output_range=facts.output_range if same else None,
            mismatch_context=f"does not fit {{opt:arch}} {options.arch}",
            mismatch_hint="",
            latent_distribution=saved_distribution(saved),
            notes=(note,) if note else (),
        )
    if facts.arch:
        module, spec = build_registered(path, facts.arch, facts.arch_kwargs)
        return _Built(
            module=module,
            architecture=spec.name,
            source="metadata",
            kwargs=dict(facts.arch_kwargs),
            latent_shape=facts.latent_shape or spec.latent_shape(module),
            output_range=facts.output_range or spec.output_range,
            mismatch_context=f"does not fit architecture {spec.name} named in its metadata",
            mismatch_hint="",
        )
    # The layouts are disjoint (each recogniser checks attribute names and weight
    # dimensionality), so the registry's order only settles files that mix layouts.
    saved = saved_settings(details)  # ProGAN's conf: use_eql, which its weights cannot tell
    plain = plain_names(checkpoint.tensors)  # spectral norm's weight_orig read as weight
    for spec in REGISTRY.values():
        recognised = spec.recognise_file(path, plain, saved)
        if recognised is None:
            continue
        module = spec.build(**recognised)
        return _Built(
            module=module,
            architecture=spec.name,
            source="recognised",
            kwargs=recognised,
            latent_shape=facts.latent_shape or spec.latent_shape(module),
            output_range=facts.output_range or spec.output_range,
            mismatch_context=f"looks like {spec.layout} but does not fit it",
            mismatch_hint=OTHER_ARCH_HINT,
            # pytorch-gan-zoo's hyper_parameters say z_distribution: uniform, as with --arch.
            latent_distribution=saved_distribution(saved),
        )
    keys = format_keys(checkpoint.tensors, limit=5) if checkpoint.tensors else "none"
    raise CheckpointError(
        f"{path}: cannot tell the generator's architecture (no {{opt:arch}}, no "
        f"{ARCH_KEY} metadata, "
        f"and the keys match no known layout; keys: {keys}); {_ARCH_HINT}"
    )


def _check_device(device: str) -> torch.device:
    device = resolve_device(device)
    try:
        parsed = torch.device(device)
    except RuntimeError as exc:
        raise ConfigError(f"unknown device {device!r}: {describe_exception(exc)}") from exc
    if parsed.type == "meta":  # shapes without data: nothing can be measured on it
        raise ConfigError("cannot probe on device meta: its tensors hold no values; use cpu")
    return parsed
