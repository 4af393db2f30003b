"""Reading a safetensors checkpoint: tensors as float32 plus the file's string metadata.

safetensors is the preferred format: unlike a pickled ``torch.save`` file it cannot run code
when it is opened, so probing a downloaded checkpoint is safe. The file is opened read only
(safetensors memory-maps it) and never written. Other formats are read in
``gandoctor.loading.formats``, which sends a file here unless its first bytes say otherwise.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load, load_file

from gandoctor.errors import CheckpointError
from gandoctor.loading.formats.files import check_fits_in_memory, regular_file_size
from gandoctor.messages import one_line

FORMAT = "safetensors"

_ERROR_PREFIXES = ("Error while deserializing header: ", "Error while deserializing: ")
"""How safetensors begins its messages from files and from bytes; the rest says what."""
_INT_WIDTH = {"BOOL": 1, "U8": 1, "I8": 1, "U16": 2, "I16": 2, "U32": 4, "I32": 4}
"""Bytes per element of the non-float dtypes of the safetensors header (the rest: 8)."""


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
    """Read ``path``; raise :class:`CheckpointError` with one line if that is impossible.

    The header is read first: a file whose tensors would not fit in memory as float32 is
    refused before any tensor is read.
    """
    name = os.fspath(path)
    if Path(name).is_dir():
        raise CheckpointError(f"{name}: is a directory, not a checkpoint file")
    if regular_file_size(name) == 0:
        # Said plainly: an interrupted save is the usual cause, not a wrong format.
        raise CheckpointError(f"{name}: the file is empty, not a safetensors checkpoint")
    try:
        if not _utf8(name):
            return _read_from_bytes(name)
        with safe_open(name, framework="pt") as handle:
            metadata = dict(handle.metadata() or {})
            sizes = [_float32_bytes(handle.get_slice(key)) for key in handle.keys()]  # noqa: SIM118
            check_fits_in_memory(name, sum(sizes))
        tensors = load_file(name)
    except SafetensorError as exc:
        raise CheckpointError(_invalid(name, exc)) from exc
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise CheckpointError(f"{name}: cannot read the checkpoint ({reason})") from exc
    return Checkpoint(path=name, tensors=to_float32(name, tensors), metadata=metadata)


def _utf8(name: str) -> bool:
    """Whether the path is valid UTF-8: safetensors' reader takes no other file names."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # undecodable bytes of the name, kept as surrogates
        return False
    return True


def _read_from_bytes(name: str) -> Checkpoint:
    """Read a file whose name safetensors cannot open (not UTF-8) through Python's file
    API. The whole file is read at once, so its size is checked against memory first."""
    check_fits_in_memory(name, regular_file_size(name))
    with open(name, "rb") as handle:
        data = handle.read()
    tensors = load(data)  # validates the header and every offset, as load_file does
    # The header is valid JSON now; only its metadata is read from it.
    size = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + size])
    metadata = {str(k): str(v) for k, v in (header.get("__metadata__") or {}).items()}
    return Checkpoint(path=name, tensors=to_float32(name, tensors), metadata=metadata)


def _float32_bytes(tensor_slice: Any) -> int:
    """Bytes of one tensor once loaded: floats become float32, other dtypes keep their size."""
    dtype = tensor_slice.get_dtype()
    width = 4 if dtype.startswith(("F", "BF")) else _INT_WIDTH.get(dtype, 8)
    return math.prod(tensor_slice.get_shape()) * width


def _invalid(name: str, exc: BaseException) -> str:
    reason = one_line(str(exc))
    for prefix in _ERROR_PREFIXES:
        reason = reason.removeprefix(prefix)
    return f"{name}: not a valid safetensors file ({reason})"


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
