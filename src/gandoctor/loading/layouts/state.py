"""Strict state-dict loading with messages that say exactly which keys do not fit.

``nn.Module.load_state_dict`` reports problems as a multi-line RuntimeError listing every key;
for a checkpoint that belongs to another architecture that is hundreds of lines. Here the
comparison is done first, and the result is one line with the keys that matter.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.parameter import UninitializedBuffer, UninitializedParameter

from gandoctor.errors import CheckpointError
from gandoctor.messages import describe_exception, format_keys, format_shape
from gandoctor.paths import natural_key

_COUNTER_BUFFER = "num_batches_tracked"
"""BatchNorm's step counter: only used with ``momentum=None``, missing from many exported
checkpoints, and harmless to leave at zero; a file without it still fits."""


def load_state_strict(
    module: nn.Module,
    tensors: dict[str, torch.Tensor],
    *,
    path: str,
    context: str,
    hint: str = "",
) -> None:
    """Copy ``tensors`` into ``module`` or raise one :class:`CheckpointError` line.

    ``context`` says what was compared (``"does not fit architecture dcgan"``) and ``hint``,
    when given, is advice put before the details: a long list of keys, cut to a readable
    length on the terminal, then loses the details and keeps the advice. Every key of the
    module must be in the file except BatchNorm counters and tied (aliased) parameters, which
    safetensors stores once; the file may hold no key the module lacks; shapes must agree
    exactly.
    """
    expected = module.state_dict(keep_vars=True)
    provided = set(tensors)
    missing = {
        key
        for key in set(expected) - provided
        if key.rsplit(".", 1)[-1] != _COUNTER_BUFFER
        and not _is_alias_of_provided(key, expected, provided)
    }
    unexpected = provided - set(expected)
    advice = f" ({hint})" if hint else ""
    if missing or unexpected:
        parts = _spectral_forms(missing, unexpected, tensors, expected)  # first: the why
        if missing:
            parts.append(f"missing keys ({len(missing)}): {format_keys(missing)}")
        if unexpected:
            parts.append(f"unexpected keys ({len(unexpected)}): {format_keys(unexpected)}")
        raise CheckpointError(f"{path}: the checkpoint {context}{advice}: {'; '.join(parts)}")

    # In the module's own order, so the first mismatch named is the earliest layer's.
    mismatched = [
        key
        for key, wanted in expected.items()
        if key in provided and not _is_uninitialized(wanted) and tensors[key].shape != wanted.shape
    ]
    if mismatched:
        key = mismatched[0]
        more = (
            f" (and {len(mismatched) - 1} more mismatched tensors)" if len(mismatched) > 1 else ""
        )
        raise CheckpointError(
            f"{path}: the checkpoint {context}{advice}: shape mismatch for {key!r}: "
            f"checkpoint has {format_shape(tensors[key].shape)}, the module expects "
            f"{format_shape(expected[key].shape)}{more}"
        )

    parameter_names = {name for name, _ in module.named_parameters(remove_duplicate=False)}
    for key in sorted(provided & parameter_names, key=natural_key):
        if not tensors[key].is_floating_point():
            raise CheckpointError(
                f"{path}: tensor {key!r} has dtype {tensors[key].dtype} but is a parameter; "
                "only buffers such as num_batches_tracked may hold integers "
                "(quantised checkpoints are not supported)"
            )

    try:
        module.load_state_dict(tensors, strict=False)
    except (RuntimeError, ValueError) as exc:
        # The checks above cover what load_state_dict verifies; a module with a custom
        # _load_from_state_dict may still object, and its message becomes one line.
        raise CheckpointError(
            f"{path}: loading the state dict failed: {describe_exception(exc)}"
        ) from exc


def _is_alias_of_provided(key: str, expected: dict[str, torch.Tensor], provided: set[str]) -> bool:
    """True if ``key`` shares storage with a key the file has (tied weights).

    ``safetensors.torch.save_model`` drops all but one name of a shared tensor; loading must
    accept that, as ``safetensors.torch.load_model`` does.
    """
    tensor = expected[key]
    if _is_uninitialized(tensor) or tensor.numel() == 0:
        return False
    pointer = tensor.data_ptr()
    return any(
        other in expected
        and not _is_uninitialized(expected[other])
        and expected[other].numel() > 0
        and expected[other].data_ptr() == pointer
        and expected[other].shape == tensor.shape
        for other in provided
    )


def _is_uninitialized(tensor: torch.Tensor) -> bool:
    # Lazy modules (nn.LazyLinear, ...) hold placeholders whose shape comes from the file.
    return isinstance(tensor, UninitializedParameter | UninitializedBuffer)


def _spectral_forms(
    missing: set[str],
    unexpected: set[str],
    tensors: dict[str, torch.Tensor],
    expected: dict[str, torch.Tensor],
) -> list[str]:
    """A word on a missing ``weight`` that the file holds in spectral-norm form, whose saved
    weight could not stand for it (layouts.spectral reads those that fit)."""
    for key in sorted(missing, key=natural_key):
        path = key.removesuffix("weight")
        for saved in ("weight_orig", "parametrizations.weight.original"):
            if key.endswith("weight") and path + saved in unexpected:
                return [
                    f"{path.rstrip('.')} is in the file in spectral-norm form ({path}{saved} "
                    f"{format_shape(tensors[path + saved].shape)}, the module's weight is "
                    f"{format_shape(expected[key].shape)})"
                ]
    return []
