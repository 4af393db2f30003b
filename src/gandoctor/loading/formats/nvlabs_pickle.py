"""Reading NVlabs training snapshots (``network-snapshot-*.pkl``) without running their code.

Every network in such a pickle is a ``torch_utils.persistence`` object: the pickle calls
``torch_utils.persistence._reconstruct_persistent_obj(meta)``, and NVlabs' version of that
function ``exec``s the module source stored in ``meta`` to recreate the class. Here the
same call returns a :class:`PersistentRecord`, plain data (class name, constructor
arguments, state), and ``module_src`` is never executed.

The unpickler resolves only the globals such a snapshot needs (:data:`ALLOWED`); any other
is refused with one line naming it. Tensor storages arrive as nested ``torch.save``
archives (``torch.storage._load_from_bytes``) and are read with ``weights_only=True``.
"""

from __future__ import annotations

import collections
import io
import pickle
import pickletools
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from gandoctor.errors import CheckpointError

PERSISTENCE = ("torch_utils.persistence", "_reconstruct_persistent_obj")


@dataclass(frozen=True)
class PersistentRecord:
    """One network of a snapshot, as data: what NVlabs' class was called, what it was
    constructed with, and its state (``_parameters``, ``_buffers``, ``_modules`` of child
    records, and plain attributes)."""

    class_name: str
    init_args: tuple[Any, ...]
    init_kwargs: dict[str, Any]
    state: dict[str, Any] = field(repr=False)

    def __setstate__(self, state: Any) -> None:
        # A record is made only by the reconstruct call; a pickle's BUILD on one is foreign.
        raise pickle.UnpicklingError("a persistent object cannot be given state by BUILD")

    @property
    def children(self) -> dict[str, PersistentRecord]:
        modules = self.state.get("_modules") or {}
        return {name: m for name, m in modules.items() if isinstance(m, PersistentRecord)}

    def attribute(self, name: str, default: Any = None) -> Any:
        return self.state.get(name, default)

    def walk(self) -> Iterator[PersistentRecord]:
        """This record and every record below it."""
        yield self
        for child in self.children.values():
            yield from child.walk()

    def state_dict(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Parameters and persistent buffers under their dotted names, as ``nn.Module``
        names them."""
        tensors: dict[str, torch.Tensor] = {}
        skipped = self.state.get("_non_persistent_buffers_set") or set()
        for kind in ("_parameters", "_buffers"):
            for name, value in (self.state.get(kind) or {}).items():
                if isinstance(value, torch.Tensor) and name not in skipped:
                    tensors[prefix + name] = value.detach()
        for name, child in self.children.items():
            tensors.update(child.state_dict(f"{prefix}{name}."))
        return tensors


def _reconstruct(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or not isinstance(meta.get("state"), dict):
        raise pickle.UnpicklingError("a persistent object without a state dict")
    state = meta["state"]
    args, kwargs = state.get("_init_args", ()), state.get("_init_kwargs", {})
    if not isinstance(args, tuple) or not isinstance(kwargs, dict):
        raise pickle.UnpicklingError("a persistent object with malformed init arguments")
    return PersistentRecord(str(meta.get("class_name")), args, dict(kwargs), state)


def _no_hooks(hooks: Any) -> None:
    # The rebuild functions attach these as backward hooks: callables would run later.
    if hooks:
        raise pickle.UnpicklingError("a tensor with backward hooks")


def _rebuild_tensor(storage: Any, offset: int, size: Any, stride: Any, requires_grad: bool,
                    hooks: Any, *metadata: Any) -> torch.Tensor:  # fmt: skip
    _no_hooks(hooks)
    return torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad,
                                           collections.OrderedDict(), *metadata)  # fmt: skip


def _rebuild_parameter(data: Any, requires_grad: bool, hooks: Any) -> torch.Tensor:
    _no_hooks(hooks)
    if not isinstance(data, torch.Tensor):
        raise pickle.UnpicklingError("a parameter that holds no tensor")
    return torch.nn.Parameter(data, requires_grad)


def _numpy_scalar(dtype: Any, data: Any = None) -> Any:
    # Object arrays hold pickled Python objects of their own: only plain numbers here.
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes):
        raise pickle.UnpicklingError("a numpy scalar that is not a plain number")
    return np.frombuffer(data, dtype=dtype)[0]


class _SnapshotUnpickler(pickle.Unpickler):
    def __init__(self, file: io.BufferedIOBase, device: torch.device) -> None:
        super().__init__(file)
        self.device = device

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) == ("torch.storage", "_load_from_bytes"):
            return self._load_from_bytes
        found = ALLOWED.get((module, name))
        if found is None:
            raise RefusedGlobal(f"{module}.{name}")
        return found

    def _load_from_bytes(self, data: bytes) -> Any:
        if not isinstance(data, bytes):
            raise pickle.UnpicklingError("a storage that is not bytes")
        return torch.load(io.BytesIO(data), map_location=self.device, weights_only=True)


class RefusedGlobal(pickle.UnpicklingError):
    """The pickle names a global outside :data:`ALLOWED`; the message is its dotted name."""


ALLOWED: dict[tuple[str, str], Callable[..., Any]] = {
    PERSISTENCE: _reconstruct,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    # numpy 2.x spells its core "numpy._core", numpy 1.x "numpy.core": snapshots of both.
    ("numpy._core.multiarray", "scalar"): _numpy_scalar,
    ("numpy.core.multiarray", "scalar"): _numpy_scalar,
    ("numpy", "dtype"): np.dtype,
}
"""Every global a StyleGAN2-ADA / StyleGAN3-repo snapshot references, and what stands in for
it (``torch.storage._load_from_bytes`` is the unpickler's own method)."""


def is_snapshot(path: str) -> bool:
    """Whether the pickle at ``path`` begins with an NVlabs persistent object: its first
    global, read without unpickling anything."""
    try:
        with open(path, "rb") as handle:
            strings: list[str] = []
            for opcode, arg, _ in pickletools.genops(handle):
                if opcode.name == "GLOBAL":
                    return tuple(str(arg).split(" ", 1)) == PERSISTENCE
                if opcode.name == "STACK_GLOBAL":
                    return tuple(strings[-2:]) == PERSISTENCE
                if isinstance(arg, str):
                    strings.append(arg)
    except Exception:  # not a pickle, or a damaged one: the ordinary reader explains it
        return False
    return False


def read_snapshot(path: str, device: torch.device) -> dict[str, Any]:
    """The snapshot's top-level dict, each network a :class:`PersistentRecord`."""
    try:
        with open(path, "rb") as handle:
            stored = _SnapshotUnpickler(handle, device).load()
    except RefusedGlobal as exc:
        raise CheckpointError(
            f"{path}: the StyleGAN snapshot names {exc}, which a snapshot does not need; "
            "it is refused so that no code from the file runs"
        ) from None
    except Exception as exc:
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise CheckpointError(f"{path}: cannot read the StyleGAN snapshot ({reason})") from exc
    if not isinstance(stored, dict):
        raise CheckpointError(
            f"{path}: a StyleGAN snapshot holds a dict of networks, this one a "
            f"{type(stored).__name__}"
        )
    return stored
