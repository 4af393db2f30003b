"""Reading a safetensors checkpoint: tensors as float32 plus the file's string metadata.

safetensors is the preferred format: unlike a pickled ``torch.save`` file it cannot run code
when it is opened, so probing a downloaded checkpoint is safe. The file is opened read only
(safetensors memory-maps it) and never written. Other formats are read in
``gandoctor.loading.formats``, which sends a file here unless its first bytes say otherwise.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file

from gandoctor.errors import CheckpointError
from gandoctor.loading.common import one_line

FORMAT = "safetensors"

_HEADER_PREFIX = "Error while deserializing header: "


@dataclass(frozen=True)
class Checkpoint:
    """The contents of one checkpoint file."""

    path: str
    """The path as the user gave it, for messages."""
    tensors: dict[str, torch.Tensor]
    """Floating tensors converted to float32; integer and bool tensors kept as stored."""
    metadata: dict[str, str]
    """The safetensors header's ``__metadata__`` (empty when the file has none)."""


def read_safetensors(path: str | os.PathLike[str]) -> Checkpoint:
    """Read ``path``; raise :class:`CheckpointError` with one line if that is impossible."""
    name = os.fspath(path)
    file = Path(name)
    if not file.exists():
        raise CheckpointError(f"{name}: checkpoint file not found")
    if file.is_dir():
        raise CheckpointError(f"{name}: is a directory, not a checkpoint file")
    try:
        if file.stat().st_size == 0:
            # Said plainly: an interrupted save is the usual cause, not a wrong format.
            raise CheckpointError(f"{name}: the file is empty, not a safetensors checkpoint")
        with safe_open(name, framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
        tensors = load_file(name)
    except SafetensorError as exc:
        reason = one_line(str(exc)).removeprefix(_HEADER_PREFIX)
        raise CheckpointError(f"{name}: not a valid safetensors file ({reason})") from exc
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise CheckpointError(f"{name}: cannot read the checkpoint ({reason})") from exc
    return Checkpoint(path=name, tensors=to_float32(name, tensors), metadata=metadata)


def to_float32(name: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Bring every floating tensor to float32, the dtype the probe computes in.

    Half, bfloat16 and float64 checkpoints are common (mixed-precision training, exports from
    NumPy); the probe's gradient norms span many decades and need float32's range. Integer and
    bool tensors pass unchanged: they are legitimate only as buffers (BatchNorm's
    ``num_batches_tracked``), which the state-dict check enforces once the module is known.
    """
    converted: dict[str, torch.Tensor] = {}
    for key, tensor in tensors.items():
        if tensor.is_complex():
            raise CheckpointError(
                f"{name}: tensor {key!r} has complex dtype {tensor.dtype}; "
                "a generator's weights are real numbers"
            )
        converted[key] = tensor.float() if tensor.is_floating_point() else tensor
    return converted
