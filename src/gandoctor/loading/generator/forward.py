"""How the probe calls a generator, and how that becomes the call a generator wants.

The probe calls ``G(z)`` or ``G(z, labels)`` and expects the batch of samples back. For a
forward that needs more (``G(z, depth, alpha)``, a truncation argument) or returns more
(``(image, latents)``, a dict), ``--forward-kwargs`` and ``--output-index`` say what to add
and what to take, and ``--label-format onehot`` hands a conditional generator its labels as
one-hot vectors (BigGAN's ``class_label``), without an adapter file.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from gandoctor.errors import ConfigError

OutputIndex = int | str
"""A position in a returned tuple or list, or a key of a returned dict."""


class ForwardAdapter(nn.Module):
    """``generator(*inputs, **forward_kwargs)[output_index]``, as the probe's ``G(z)``.

    The wrapped generator keeps its parameters and names (under ``generator.``); its layer
    groups for ``--layers`` are its own."""

    def __init__(
        self,
        generator: nn.Module,
        forward_kwargs: Mapping[str, Any],
        output_index: OutputIndex | None,
        onehot_classes: int | None = None,
    ) -> None:
        super().__init__()
        self.generator = generator
        self.forward_kwargs = dict(forward_kwargs)
        self.output_index = output_index
        self.onehot_classes = onehot_classes

    def forward(self, *inputs: torch.Tensor) -> Any:
        if self.onehot_classes is not None and len(inputs) > 1:
            # The probe draws class indices (and passes them to a conditional own D as
            # such); this generator takes them one-hot, in z's dtype.
            z, labels, *rest = inputs
            onehot = F.one_hot(labels.long(), self.onehot_classes).to(z.dtype)
            inputs = (z, onehot, *rest)
        out = self.generator(*inputs, **self.forward_kwargs)
        if self.output_index is None:
            return out
        return pick(out, self.output_index)

    def layer_group(self, parameter: str) -> str:
        inner = parameter.removeprefix("generator.")
        group = getattr(self.generator, "layer_group", None)
        return group(inner) if callable(group) else inner.rpartition(".")[0]


def pick(out: Any, index: OutputIndex) -> Any:
    """``out[index]`` of a tuple, list or dict; a clear error where it has no such entry."""
    if isinstance(out, Mapping):
        if index not in out:
            raise KeyError(f"output index {index!r}: the output dict has keys {list(out)}")
        return out[index]
    if isinstance(out, tuple | list):
        if not isinstance(index, int) or not -len(out) <= index < len(out):
            raise IndexError(f"output index {index!r}: the output holds {len(out)} items")
        return out[index]
    raise TypeError(f"output index {index!r}: the output is a {type(out).__name__}, not a tuple")


def adapt_forward(
    module: nn.Module,
    forward_kwargs: Mapping[str, Any],
    output_index: OutputIndex | None,
    onehot_classes: int | None = None,
) -> nn.Module:
    """``module`` itself when nothing is asked, else wrapped in a :class:`ForwardAdapter`.
    ``onehot_classes``: labels go in one-hot over this many classes."""
    if not forward_kwargs and output_index is None and onehot_classes is None:
        return module
    return ForwardAdapter(module, forward_kwargs, output_index, onehot_classes)


def apply_truncation(module: nn.Module, psi: float, path: str) -> None:
    """Apply ``--truncation`` where the generator has a tracked or computable mean w."""
    set_truncation = getattr(module, "set_truncation", None)
    if callable(set_truncation):
        set_truncation(psi)
    elif psi != 1 and getattr(module, "truncation_psi", None) != psi:
        raise ConfigError(
            f"{{opt:truncation}} applies to StyleGAN generators; {path} holds a "
            f"{type(module).__name__}"
        )
