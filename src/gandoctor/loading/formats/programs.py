"""Files that carry their own architecture as a program: TorchScript and ``torch.export``.

Neither needs ``--arch``: the file holds the computation as well as the weights. Both are
read with pickle inside (``torch.jit.load`` and ``torch.export.load`` each warn: only load
files you trust), so like a pickled module they need ``--trust-pickle``.
"""

from __future__ import annotations

import warnings
from typing import Any

import torch
from torch import nn

from gandoctor.errors import CheckpointError
from gandoctor.loading.formats.source import (
    TORCH_EXPORT,
    TORCHSCRIPT,
    ModuleSource,
    empty_checkpoint,
)
from gandoctor.loading.generator.inspection import latent_from_attributes
from gandoctor.messages import describe_exception, format_shape

FROM_FILE = "file"
"""``arch_source`` of modules whose architecture the file itself holds."""

NEEDED_BATCHES = (1, 64)
"""Batch sizes the probe feeds the generator: single samples, and the default --batch-size
(the output probe uses 4). An exported program must accept at least this range."""

_DYNAMIC_HINT = (
    "export it with a dynamic batch axis, e.g. torch.export.export(G, (z,), "
    "dynamic_shapes=({0: torch.export.Dim('batch')},))"
)


class ExportedGenerator(nn.Module):
    """A ``torch.export`` program as a module the probe can put in eval or train mode.

    ``ExportedProgram.module()`` refuses ``train()`` and ``eval()``: the mode was fixed when
    the program was exported (a BatchNorm traced in eval mode uses its running statistics
    whatever the flag says). The probe still switches modes, so the flag is kept here and the
    program runs as exported.
    """

    def __init__(self, program: nn.Module) -> None:
        super().__init__()
        self.program = program

    def train(self, mode: bool = True) -> ExportedGenerator:
        self.training = mode
        return self

    def forward(self, *inputs: Any) -> Any:
        return self.program(*inputs)


def untrusted_program(path: str, file_format: str) -> CheckpointError:
    """The refusal for a program file read without ``--trust-pickle``."""
    what = "TorchScript archive" if file_format == TORCHSCRIPT else "torch.export program"
    return CheckpointError(
        f"{path}: is a {what}; loading one can run code from the file (PyTorch warns to load "
        "only files you trust). Pass {opt:trust_pickle} for a file you trust, or save the "
        "generator's state_dict() with safetensors.torch.save_file"
    )


def load_torchscript(path: str, device: torch.device) -> ModuleSource:
    try:
        with warnings.catch_warnings():
            # torch deprecates TorchScript for authors of new models; a user probing an
            # existing archive can do nothing about it, so the warning is not passed on.
            warnings.simplefilter("ignore", DeprecationWarning)
            module = torch.jit.load(path, map_location=device)
    except Exception as exc:
        # The archive is user input; torch.jit.load reports damage as several error types.
        raise CheckpointError(
            f"{path}: cannot load the TorchScript archive ({describe_exception(exc)})"
        ) from exc
    return ModuleSource(
        checkpoint=empty_checkpoint(path),
        format=TORCHSCRIPT,
        module=module,
        architecture=str(getattr(module, "original_name", type(module).__name__)),
        arch_source=FROM_FILE,
        latent_shape=_script_latent_shape(module),
    )


def load_exported(path: str) -> ModuleSource:
    try:
        program = torch.export.load(path)
    except Exception as exc:
        raise CheckpointError(
            f"{path}: cannot load the torch.export program ({describe_exception(exc)})"
        ) from exc
    shapes = _input_shapes(program)
    for name, shape in shapes:
        _check_batch_axis(path, program, name, shape)
    first = shapes[0][1] if shapes else ()
    latent = tuple(int(size) for size in first[1:]) if _all_static(first[1:]) else None
    return ModuleSource(
        checkpoint=empty_checkpoint(path),
        format=TORCH_EXPORT,
        module=ExportedGenerator(program.module()),
        architecture=_exported_class(program),
        arch_source=FROM_FILE,
        latent_shape=latent or None,
    )


def _script_latent_shape(module: nn.Module) -> tuple[int, ...] | None:
    """The latent shape of a TorchScript module, where the loader's own inference falls short.

    The loader reads a first ``nn.Linear`` or ``nn.ConvTranspose2d`` from its weight and
    shapes a size attribute (``nz``) after that layer, but a loaded TorchScript module's
    layers are all ``RecursiveScriptModule``: their ``original_name`` still tells the type.
    None leaves the loader to find an attribute itself and report it as one.
    """
    first = _first_layer(module)
    kind, weight = first if first is not None else ("", None)
    declared = latent_from_attributes(module)
    if declared is not None:
        # A bare size before a transposed convolution is a 1x1 "image" of that many channels.
        return (declared[0], 1, 1) if len(declared) == 1 and kind == "ConvTranspose2d" else None
    if kind == "Linear" and weight is not None and weight.dim() == 2:
        return (int(weight.shape[1]),)
    if kind == "ConvTranspose2d" and weight is not None and weight.dim() == 4:
        return (int(weight.shape[0]), 1, 1)
    return None


def _first_layer(module: nn.Module) -> tuple[str, torch.Tensor | None] | None:
    """The type name and weight of the first submodule that owns parameters."""
    for layer in module.modules():
        own = dict(layer.named_parameters(recurse=False))
        if own:
            return str(getattr(layer, "original_name", type(layer).__name__)), own.get("weight")
    return None


def _input_shapes(program: torch.export.ExportedProgram) -> list[tuple[str, tuple[Any, ...]]]:
    """Names and traced shapes (ints, or SymInts for dynamic axes) of the tensor inputs."""
    wanted = list(program.graph_signature.user_inputs)
    values = {
        node.name: node.meta.get("val") for node in program.graph.nodes if node.op == "placeholder"
    }
    return [
        (name, tuple(values[name].shape))
        for name in wanted
        if isinstance(values.get(name), torch.Tensor)
    ]


def _check_batch_axis(
    path: str, program: torch.export.ExportedProgram, name: str, shape: tuple[Any, ...]
) -> None:
    if not shape:
        return
    batch = shape[0]
    if not isinstance(batch, torch.SymInt):
        raise CheckpointError(
            f"{path}: the torch.export program was exported with a fixed batch size of "
            f"{int(batch)} (input {name} has shape {format_shape(shape)}), but the probe calls "
            f"the generator with other batch sizes; {_DYNAMIC_HINT}"
        )
    bounds = program.range_constraints.get(batch.node.expr)
    if bounds is None:
        return
    low, high = NEEDED_BATCHES
    if bounds.lower > low or bounds.upper < high:
        raise CheckpointError(
            f"{path}: the torch.export program accepts batch sizes {bounds.lower} to "
            f"{bounds.upper} only (input {name}), but the probe calls the generator with "
            f"{low} to {high} or more; {_DYNAMIC_HINT}"
        )


def _all_static(sizes: tuple[Any, ...]) -> bool:
    return all(isinstance(size, int) for size in sizes)


def _exported_class(program: torch.export.ExportedProgram) -> str:
    """The exported module's class, which the graph keeps as its root in module stacks."""
    for node in program.graph.nodes:
        stack = node.meta.get("nn_module_stack") or {}
        for module_path, class_name in stack.values():
            if module_path == "":
                return str(class_name)
    return "exported program"
