"""Finding the generator's weights inside a checkpoint, and the key prefix to remove.
Training scripts rarely save ``netG.state_dict()`` alone. They save dicts such as
``{"netG": ..., "netD": ..., "optimizerG": ..., "epoch": 24}``, Lightning's
``{"state_dict": {"generator.*": ..., "discriminator.*": ...}}``, or a DataParallel wrapper's
``module.*`` keys. A *candidate* is a mapping of names to tensors (or, in a trusted pickle, a
module) up to :data:`MAX_DEPTH` entries deep; names decide between candidates. Where names
cannot decide, the error lists the candidates as ``--key`` values rather than guessing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.selection.prefixes import (
    EMA_NAMES,
    WRAPPER_PREFIXES,
    Kind,
    apply_prefixes,
    classify,
    core_name,
)

MAX_DEPTH = 3
"""Deep enough for ``{"models": {"netG": {...}}}``; deeper dicts are optimizer internals."""

_SHOWN = 6  # candidates named in one message


@dataclass(frozen=True)
class Selected:
    """The generator's state dict (or module) and how it was found."""

    tensors: dict[str, torch.Tensor] | None
    module: nn.Module | None
    key: str | None
    """Dotted path of the entry used; None when the whole file was the state dict."""
    stripped_prefix: str | None
    holder: object = None
    """What holds the entry used (ProGAN's ``shadow_generator`` beside its ``conf``)."""


@dataclass(frozen=True)
class _Candidate:
    path: tuple[str, ...]
    value: Mapping[str, torch.Tensor] | nn.Module
    kind: Kind

    @property
    def name(self) -> str:
        return ".".join(self.path)

    def describe(self) -> str:
        size = f"{len(self.value)} tensors" if isinstance(self.value, Mapping) else "module"
        return f"{self.name} ({size})"


def select(path: str, root: object, key: str | None, strip_prefix: str | None) -> Selected:
    """The generator's weights in ``root`` (what ``torch.load`` returned, or a flat dict).

    ``key`` is ``--key``: a dotted entry path, optionally continued by a key prefix inside
    the state dict it reaches (``state_dict.generator``). ``strip_prefix`` is
    ``--strip-prefix``: None strips ``module.`` and a lone generator prefix automatically,
    ``""`` strips nothing.
    """
    entry: tuple[str, ...] = ()
    node = root
    remainder = ""
    if key:
        node, entry, remainder = _resolve(root, key)
    if not _is_usable(node):
        if not _children(node):
            raise CheckpointError(_not_a_state_dict(path, node, entry, key))
        # What is left of --key named no entry here: it may still be a key prefix (Lightning's
        # generator) in the state dict chosen as without --key. If it is neither, the error
        # says so, rather than what went wrong with the choice alone.
        searched, names = entry, _children(node)
        try:
            chosen = _choose(path, node, entry)
        except CheckpointError:
            if not remainder:
                raise
            raise CheckpointError(_no_match(path, key, remainder, searched, names)) from None
        entry, node = entry + chosen.path, chosen.value
        if remainder and not _has_prefix(node, remainder):
            raise CheckpointError(_no_match(path, key, remainder, searched, names, entry))
    label = ".".join(entry) or None
    if isinstance(node, nn.Module):
        if remainder:
            where = f"entry {label}" if label else "the file"
            raise CheckpointError(
                f"{path}: {{opt:key}} {key}: {where} holds a whole module, which has no entry "
                f"{remainder!r}; leave {{opt:key}} out"
            )
        return Selected(tensors=None, module=_unwrap(node), key=label, stripped_prefix=None)
    assert isinstance(node, Mapping)
    tensors, stripped = apply_prefixes(
        path, dict(node), entry=label, key=key, selector=remainder, strip_prefix=strip_prefix
    )
    return Selected(tensors=tensors, module=None, key=label, stripped_prefix=stripped,
                    holder=_holder(root, entry))  # fmt: skip


def _holder(root: object, entry: tuple[str, ...]) -> object:
    """The node that holds the entry at ``entry`` (``root`` for a top-level one)."""
    node = root
    for name in entry[:-1]:
        node = dict(_items(node)).get(name)
    return node


def _resolve(root: object, key: str) -> tuple[object, tuple[str, ...], str]:
    """Follow ``key`` through nested entries as far as it names them.

    Entry names may themselves hold dots, so at each level the longest run of parts that
    names an entry wins. Descent stops at a state dict: what is left of ``key`` is then a
    key prefix inside it (Lightning's ``generator``).
    """
    parts = key.split(".")
    node, index = root, 0
    used: tuple[str, ...] = ()
    while index < len(parts) and not _is_usable(node):
        children = dict(_items(node))
        for end in range(len(parts), index, -1):
            name = ".".join(parts[index:end])
            if name in children:
                node, used, index = children[name], (*used, name), end
                break
        else:
            break
    return node, used, ".".join(parts[index:])


def _choose(path: str, node: object, entry: tuple[str, ...]) -> _Candidate:
    """The one generator-like candidate under ``node``, or the only candidate at all."""
    candidates = list(_walk(node, ()))
    usable = [c for c in candidates if c.kind is not Kind.OTHER]
    generators = [c for c in usable if c.kind is Kind.GENERATOR]
    ema = _moving_average(generators)
    if ema is not None:
        return ema
    for group in (generators, usable):
        if len(group) == 1:
            return group[0]
        if len(group) > 1:
            what = "generator state dicts" if group is generators else "state dicts"
            raise CheckpointError(
                f"{path}: the checkpoint{_where(entry)} holds several {what}: "
                f"{', '.join(c.describe() for c in group[:_SHOWN])}; "
                f"pass {_alternatives(entry, [c.name for c in group])}"
            )
    others = [c for c in candidates if c.kind is Kind.OTHER]
    if others:
        names = ", ".join(c.describe() for c in others[:_SHOWN])
        raise CheckpointError(
            f"{path}: the checkpoint{_where(entry)} holds only state dicts named like a "
            f"discriminator's or an optimizer's: {names}; if one is the generator's, pass "
            f"{_alternatives(entry, [c.name for c in others])}"
        )
    raise CheckpointError(_not_a_state_dict(path, node, entry, None))


def _moving_average(generators: list[_Candidate]) -> _Candidate | None:
    """The one moving-average copy among generators that share its key set (G and G_ema of
    one training run); None where there is none, several, or the siblings differ (then
    they are different networks, and the user chooses with --key)."""
    emas = [c for c in generators if _entry_name(c.path) in EMA_NAMES]
    if len(emas) != 1 or len(generators) < 2:
        return None
    keys = set(_keys(emas[0]))
    return emas[0] if all(set(_keys(c)) == keys for c in generators) else None


def _entry_name(path: tuple[str, ...]) -> str:
    """The core of the innermost part of ``path`` that names something: ProGAN saves
    ``shadow_generator.state_dict`` beside ``generator.state_dict``, whose last parts
    (filler words only) say nothing about which copy is the average."""
    return next((core for part in reversed(path) if (core := core_name(part))), "")


def _keys(candidate: _Candidate) -> list[str]:
    value = candidate.value
    return list(value) if isinstance(value, Mapping) else [n for n, _ in value.named_parameters()]


def _walk(node: object, prefix: tuple[str, ...]) -> list[_Candidate]:
    found: list[_Candidate] = []
    for name, child in _items(node):
        child_path = (*prefix, name)
        kinds = [classify(part) for part in child_path]
        kind = (
            Kind.OTHER
            if Kind.OTHER in kinds
            else Kind.GENERATOR
            if Kind.GENERATOR in kinds
            else Kind.NEUTRAL
        )
        if _is_usable(child):
            found.append(_Candidate(child_path, child, kind))  # type: ignore[arg-type]
        elif kind is not Kind.OTHER and len(child_path) < MAX_DEPTH:
            # Optimizer and discriminator entries are not searched: their insides (Adam's
            # per-parameter state) would only add false candidates.
            found += _walk(child, child_path)
    return found


def _is_usable(node: object) -> bool:
    return _is_state_dict(node) or isinstance(node, nn.Module)


def _is_state_dict(node: object) -> bool:
    return (
        isinstance(node, Mapping)
        and len(node) > 0
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in node.items())
    )


def _items(node: object) -> list[tuple[str, object]]:
    if isinstance(node, Mapping):
        return [(str(name), value) for name, value in node.items()]
    if isinstance(node, list | tuple):
        return [(str(index), value) for index, value in enumerate(node)]
    return []


def _children(node: object) -> list[str]:
    return [name for name, _ in _items(node)]


def _has_prefix(node: object, selector: str) -> bool:
    if not isinstance(node, Mapping):
        return False
    starts = [f"{wrapper}{selector}." for wrapper in ("", *WRAPPER_PREFIXES)]
    return any(str(name).startswith(tuple(starts)) for name in node)


def _no_match(
    path: str,
    key: str | None,
    remainder: str,
    searched: tuple[str, ...],
    names: list[str],
    chosen: tuple[str, ...] | None = None,
) -> str:
    first = remainder.split(".")[0]
    entries = ", ".join(names[: _SHOWN * 2])
    prefix = f", nor a key prefix in entry {'.'.join(chosen)}" if chosen else ""
    return (
        f"{path}: {{opt:key}} {key}: no entry {first!r}{_where(searched)}{prefix}; "
        f"entries: {entries}"
    )


def _unwrap(module: nn.Module) -> nn.Module:
    """The model inside a pickled DataParallel or DistributedDataParallel wrapper."""
    wrappers = (nn.DataParallel, nn.parallel.DistributedDataParallel)
    while isinstance(module, wrappers):
        module = module.module
    return module


def _where(entry: tuple[str, ...]) -> str:
    return f" entry {'.'.join(entry)}" if entry else ""


def _alternatives(entry: tuple[str, ...], names: list[str]) -> str:
    """``--key a or --key b`` (with the entry prefix a full ``--key`` needs)."""
    keys = [f"{{opt:key}} {'.'.join((*entry, name))}" for name in names[:_SHOWN]]
    return keys[0] if len(keys) == 1 else f"{', '.join(keys[:-1])} or {keys[-1]}"


def _not_a_state_dict(path: str, node: object, entry: tuple[str, ...], key: str | None) -> str:
    what = _describe(node)
    if key:
        return (
            f"{path}: {{opt:key}} {key}: entry {'.'.join(entry) or key} is {what}, not a state dict"
        )
    entries = ", ".join(f"{name} ({_describe(value)})" for name, value in _items(node)[:_SHOWN])
    listing = f"; its entries: {entries}" if entries else ""
    return (
        f"{path}: no state dict (a dict of parameter names to tensors) in the checkpoint"
        f"{_where(entry)}, which is {what}{listing}; save the generator's state_dict(), or "
        "pass {opt:key} ENTRY if it lies deeper"
    )


def _describe(value: object) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, Mapping):
        return f"a dict of {len(value)} {'entry' if len(value) == 1 else 'entries'}"
    if isinstance(value, list | tuple):
        return f"a {type(value).__name__} of {len(value)} {'item' if len(value) == 1 else 'items'}"
    name = type(value).__name__
    return f"{'an' if name[0].lower() in 'aeiou' else 'a'} {name}"
