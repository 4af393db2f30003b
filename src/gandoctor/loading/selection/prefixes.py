"""Names of checkpoint entries and key prefixes: whose weights are they, and what to strip.

The same judgement applies to an entry of a nested checkpoint (``netG_state_dict``) and to
the first part of the keys in one state dict (Lightning's ``generator.main.0.weight``): a
name is the generator's, someone else's (a discriminator, an optimizer, a loss network), or
says nothing.
"""

from __future__ import annotations

import re
from enum import Enum

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.messages import format_keys


class Kind(Enum):
    GENERATOR = "generator"
    NEUTRAL = "neutral"
    OTHER = "other"


# Words are split at underscores, dots, digits and lower-to-upper changes, so that netG,
# net_G, G_ema and optimizerG all come apart into their words.
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")

_OTHER_WORDS = frozenset(
    {
        "d", "dis", "disc", "discriminator", "discriminators", "critic",
        "optim", "optimizer", "optimizers", "opt", "sched", "scheduler", "schedulers", "lr",
        "scaler", "loss", "losses", "criterion", "metric", "metrics", "fid", "kid",
        "inception", "vgg", "lpips", "perceptual",
    }
)  # fmt: skip
"""Any of these words makes a name someone else's: ``netD``, ``optim_G``, ``fid.inception``."""

_FILLER_WORDS = frozenset(
    {"net", "model", "models", "state", "dict", "sd", "weights", "params", "module", "network"}
)
"""Words that say nothing about whose weights they are: ``netG_state_dict`` is ``G``."""

EMA_NAMES = frozenset(
    {"ema", "gema", "genema", "generatorema", "emag", "emagenerator", "ge", "gavg",
     "shadowgenerator", "gshadow", "grunning", "generatorrunning", "averagegenerator"}
)  # fmt: skip
"""Names of a moving average of the generator's weights, as GAN repositories save it
(StyleGAN ``G_ema``/``g_ema``, lightweight-gan ``GE``, ProGAN ``shadow_generator``, ...):
the copy their own samplers and metrics use."""

_GENERATOR_NAMES = frozenset({"g", "gen", "generator"}) | EMA_NAMES
"""What is left of a generator's name once filler words are dropped. Whole names only: a
generator's own submodule ``gen_block1`` is not a generator prefix."""

DISCRIMINATOR_NAMES = frozenset({"d", "dis", "disc", "discriminator", "critic", "c"})
"""What is left of a discriminator's name once filler words are dropped: ``netD``,
``net_D``, ``netD_state_dict``, ``discriminator``, ``critic``, ``netC``."""

WRAPPER_PREFIXES = ("module.", "_orig_mod.")
"""Added by ``nn.DataParallel``/``DistributedDataParallel`` and by ``torch.compile``: never
part of the generator's own names, so stripped whenever every key has one."""


def core_name(name: str) -> str:
    """``name`` without case, separators and filler words: ``netG_state_dict`` -> ``g``."""
    words = [word.lower() for word in _WORD.findall(name)]
    return "".join(word for word in words if word not in _FILLER_WORDS)


def is_discriminator_name(name: str) -> bool:
    """Whether an entry or key prefix is named as a discriminator's weights."""
    return core_name(name) in DISCRIMINATOR_NAMES


def classify(name: str) -> Kind:
    words = [word.lower() for word in _WORD.findall(name)]
    if any(word in _OTHER_WORDS for word in words):
        return Kind.OTHER
    core = "".join(word for word in words if word not in _FILLER_WORDS)
    return Kind.GENERATOR if core in _GENERATOR_NAMES else Kind.NEUTRAL


def generator_submodule(module: nn.Module) -> nn.Module:
    """The generator inside a module that holds G beside someone else's networks (a
    Lightning module with ``generator`` and ``discriminator``); ``module`` itself otherwise.

    The output range read off a final layer and the parameter count are G's own: a D's
    final Sigmoid says nothing about G's range. With G and its moving average side by side
    the average is taken, as for entries; with several unrelated generators, the whole.
    """
    children = dict(module.named_children())
    kinds = {name: classify(name) for name in children}
    if Kind.OTHER not in kinds.values():
        return module
    generators = [name for name, kind in kinds.items() if kind is Kind.GENERATOR]
    emas = [name for name in generators if core_name(name) in EMA_NAMES]
    chosen = generators if len(generators) == 1 else emas if len(emas) == 1 else []
    return children[chosen[0]] if chosen else module


def apply_prefixes(
    path: str,
    tensors: dict[str, torch.Tensor],
    *,
    entry: str | None,
    key: str | None,
    selector: str,
    strip_prefix: str | None,
) -> tuple[dict[str, torch.Tensor], str | None]:
    """The generator's keys of ``tensors`` without their prefix, and the prefix removed.

    ``selector`` is what was left of ``--key`` (``key``) once it reached this state dict
    (Lightning's ``generator``): only keys under it are kept. ``strip_prefix`` is
    ``--strip-prefix``: exactly that prefix is removed and nothing else; None removes
    wrapper prefixes and a generator prefix (``generator.``, ``netG.``, ``G.``) where that
    is unambiguous.
    """
    stripped = ""
    automatic = strip_prefix is None
    if automatic:
        tensors, removed = _strip_wrappers(tensors)
        stripped += removed
    if selector:
        tensors = _take(path, tensors, f"{selector}.", entry, f"{{opt:key}} {key}")
        stripped += f"{selector}."
    if automatic:
        tensors, removed = _strip_generator_prefix(path, tensors, entry)
        stripped += removed
    elif strip_prefix:
        prefix = strip_prefix
        if not prefix.endswith(".") and any(key.startswith(f"{prefix}.") for key in tensors):
            prefix += "."  # --strip-prefix module means the module. of the keys
        tensors = _take(path, tensors, prefix, entry, f"{{opt:strip_prefix}} {strip_prefix}")
        stripped += prefix
    return tensors, stripped or None


def _strip_wrappers(tensors: dict[str, torch.Tensor]) -> tuple[dict[str, torch.Tensor], str]:
    stripped = ""
    while True:
        prefix = next((p for p in WRAPPER_PREFIXES if all(k.startswith(p) for k in tensors)), None)
        if prefix is None or not tensors:
            return tensors, stripped
        tensors = {key[len(prefix) :]: value for key, value in tensors.items()}
        stripped += prefix


def _strip_generator_prefix(
    path: str, tensors: dict[str, torch.Tensor], entry: str | None
) -> tuple[dict[str, torch.Tensor], str]:
    """Keep the keys under the one generator prefix, when the names make it unambiguous.

    That is when the state dict holds someone else's keys too (``discriminator.*``: a
    Lightning module) or nothing but generator prefixes. A generator whose own submodules
    merely include one called ``gen`` beside others keeps all its keys.
    """
    groups = {key.split(".", 1)[0] if "." in key else "" for key in tensors}
    kinds = {group: classify(group) if group else Kind.NEUTRAL for group in groups}
    generators = sorted(group for group, kind in kinds.items() if kind is Kind.GENERATOR)
    decidable = Kind.OTHER in kinds.values() or len(generators) == len(groups)
    if not decidable or not generators:
        return tensors, ""
    emas = [group for group in generators if core_name(group) in EMA_NAMES]
    if len(generators) > 1 and len(emas) == 1 and _same_keys(tensors, generators):
        generators = emas  # G and G_ema of one run: the moving average, as for entries
    if len(generators) > 1:
        keys = [
            f"{{opt:key}} {entry}.{group}" if entry else f"{{opt:key}} {group}"
            for group in generators
        ]
        where = f" in entry {entry}" if entry else ""
        raise CheckpointError(
            f"{path}: the state dict{where} holds several generators' weights, under the key "
            f"prefixes {', '.join(f'{group}.' for group in generators)}; pass "
            f"{', '.join(keys[:-1])} or {keys[-1]}"
        )
    prefix = f"{generators[0]}."
    kept = {key[len(prefix) :]: value for key, value in tensors.items() if key.startswith(prefix)}
    kept, wrappers = _strip_wrappers(kept)
    return kept, prefix + wrappers


def _same_keys(tensors: dict[str, torch.Tensor], groups: list[str]) -> bool:
    """Whether every prefix group holds the same keys below its prefix (copies of one net)."""
    below = [{k.split(".", 1)[1] for k in tensors if k.startswith(f"{g}.")} for g in groups]
    return all(keys == below[0] for keys in below)


def _take(
    path: str, tensors: dict[str, torch.Tensor], prefix: str, entry: str | None, option: str
) -> dict[str, torch.Tensor]:
    kept = {
        key[len(prefix) :]: value
        for key, value in tensors.items()
        if key.startswith(prefix) and len(key) > len(prefix)
    }
    if not kept:
        where = f" in entry {entry}" if entry else ""
        prefixes = {key.split(".", 1)[0] + "." if "." in key else key for key in tensors}
        raise CheckpointError(
            f"{path}: no key{where} starts with {prefix!r} ({option}); the keys start with "
            f"{format_keys(prefixes, limit=6)}"
        )
    return kept
