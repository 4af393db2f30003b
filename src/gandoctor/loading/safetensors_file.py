"""Reading a safetensors checkpoint: tensors as float32 plus the file's string metadata.

safetensors is the only format for now: unlike a pickled ``torch.save`` file it cannot run
code when it is opened, so probing a downloaded checkpoint is safe. The file is opened read
only (safetensors memory-maps it) and never written.
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

# The first bytes of the files people most often pass instead of a safetensors file, so that
# the error can say what to do rather than only "invalid header".
_ZIP_MAGIC = b"PK\x03\x04"  # torch.save since PyTorch 1.6 writes a zip archive
_PICKLE_MAGIC = b"\x80"  # legacy torch.save / plain pickle protocol 2+


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
        raise CheckpointError(
            f"{name}: not a valid safetensors file ({reason}){_format_hint(file)}"
        ) from exc
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise CheckpointError(f"{name}: cannot read the checkpoint ({reason})") from exc
    return Checkpoint(path=name, tensors=_to_float32(name, tensors), metadata=metadata)


def _format_hint(file: Path) -> str:
    try:
        with file.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return ""
    if head.startswith(_ZIP_MAGIC) or head.startswith(_PICKLE_MAGIC):
        return (
            "; it looks like a torch.save file: save the generator's state_dict() with "
            "safetensors.torch.save_file instead"
        )
    return ""


def _to_float32(name: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
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
