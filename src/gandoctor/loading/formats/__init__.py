"""Checkpoint formats: from a path to a generator's state dict, or to a ready module.

:func:`read_source` is the loader's reading stage. The file's first bytes decide how it is
read, not its suffix: ``torch.save`` writes ``.pt``, ``.pth``, ``.tar`` and ``.ckpt`` files
alike, and a renamed file should still load. A directory is a Hugging Face style checkpoint
folder.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import torch
from torch import nn

from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError, ConfigError
from gandoctor.loading.formats.configs import (
    ConfigFile,
    config_facts,
    find_sidecar,
    folder_config,
    folder_weights,
)
from gandoctor.loading.formats.facts import training_facts
from gandoctor.loading.formats.files import check_fits_in_memory, regular_file_size
from gandoctor.loading.formats.nvlabs_pickle import is_snapshot
from gandoctor.loading.formats.programs import load_exported, load_torchscript, untrusted_program
from gandoctor.loading.formats.safetensors_file import Checkpoint, read_safetensors, to_float32
from gandoctor.loading.formats.source import (
    HF_FOLDER,
    PICKLED_MODULE,
    SAFETENSORS,
    STYLEGAN_SNAPSHOT,
    TORCH,
    TORCH_EXPORT,
    TORCHSCRIPT,
    ModuleSource,
    Source,
    StateSource,
    check_usable_device,
    empty_checkpoint,
)
from gandoctor.loading.formats.torch_file import load_torch_file
from gandoctor.loading.layouts.architectures.lucidrains import ema_pair
from gandoctor.loading.layouts.registry import read_metadata_facts
from gandoctor.loading.selection.entries import select
from gandoctor.messages import one_line

__all__ = ["ModuleSource", "Source", "StateSource", "read_source"]

TORCH_SUFFIXES = frozenset({".pt", ".pth", ".tar", ".ckpt", ".bin", ".ts", ".pt2"})
"""Suffixes of files torch writes; unreadable content under one of them is explained as a
torch file rather than as an invalid safetensors header."""

_ZIP_MAGIC = b"PK\x03\x04"  # torch.save since PyTorch 1.6, torch.jit.save, torch.export.save
_PICKLE_MAGIC = b"\x80"  # legacy torch.save and plain pickles (protocol 2 and later)
_PICKLED_MODULE_SOURCE = "pickled module"


def read_source(path: str | os.PathLike[str], options: LoadOptions, device: torch.device) -> Source:
    """Read the checkpoint at ``path``: a state dict with its architecture facts, or a module.

    ``options.key``, ``strip_prefix`` and ``trust_pickle`` apply here; tensors are mapped to
    ``device`` as they are read.
    """
    name = os.fspath(path)
    file = Path(name)
    if file.is_dir():
        weights = folder_weights(file)
        config = folder_config(file)
        if weights.suffix == ".safetensors":
            checkpoint = read_safetensors(weights)
            return _state(name, HF_FOLDER, checkpoint.tensors, checkpoint.metadata, options, config)
        check_usable_device(device)
        check_fits_in_memory(str(weights), regular_file_size(str(weights)))
        stored = load_torch_file(str(weights), device, options.trust_pickle)
        return _state(name, HF_FOLDER, stored, {}, options, config)

    size = regular_file_size(name)  # before any read: a FIFO would block it
    kind = _detect(name, file)
    if kind == SAFETENSORS:
        checkpoint = read_safetensors(name)
        sidecar = _sidecar(file, checkpoint.metadata, options)
        return _state(name, SAFETENSORS, checkpoint.tensors, checkpoint.metadata, options, sidecar)
    check_usable_device(device)
    if kind in (TORCH_EXPORT, TORCHSCRIPT) and not options.trust_pickle:
        raise untrusted_program(name, kind)
    # These readers load every tensor at once and the dtypes are unknown until then, so the
    # file's size stands for the weights' float32 size.
    check_fits_in_memory(name, size)
    if kind == TORCH_EXPORT:
        return _refuse_arch(load_exported(name), options)
    if kind == TORCHSCRIPT:
        return _refuse_arch(load_torchscript(name, device), options)
    if kind == STYLEGAN_SNAPSHOT:
        return _refuse_arch(_stylegan_snapshot(name, options, device), options)
    stored = load_torch_file(name, device, options.trust_pickle)
    return _state(name, TORCH, stored, {}, options, _sidecar(file, {}, options))


def _state(
    name: str,
    file_format: str,
    stored: object,
    metadata: dict[str, str],
    options: LoadOptions,
    config: ConfigFile | None,
) -> Source:
    # lucidrains' Trainer keeps G with its mapping network and both moving averages in one
    # state dict: the pair is chosen here, which key prefixes alone cannot do.
    stored, key, copy = ema_pair(stored, options.key)
    selected = select(name, stored, key, options.strip_prefix)
    if selected.module is not None:
        return _refuse_arch(_pickled_module(name, selected.module, selected.key), options)
    assert selected.tensors is not None
    facts = read_metadata_facts(name, metadata)
    origin = None
    if config is not None:
        facts, origin = config_facts(config, facts, options.arch)
    return StateSource(
        checkpoint=Checkpoint(
            path=name, tensors=to_float32(name, selected.tensors), metadata=metadata
        ),
        format=file_format,
        facts=facts,
        facts_origin=origin,
        key=copy or selected.key,
        stripped_prefix=selected.stripped_prefix,
        details=_details(stored, selected.holder),
    )


def _details(stored: object, holder: object) -> dict[str, Any]:
    """The training facts of the file's top level and, where the entry used lies deeper, of
    the dict that holds it: ProGAN saves each network's ``conf`` beside its state dict,
    which then wins over a top-level one for this network."""
    facts = training_facts(stored)
    if holder is not None and holder is not stored:
        facts.update(training_facts(holder))
    return facts


def _sidecar(file: Path, metadata: dict[str, str], options: LoadOptions) -> ConfigFile | None:
    # Only looked for when it could matter: an architecture named by the weights file or by
    # --arch leaves a sidecar nothing to decide (and a broken one nothing to object to).
    if options.arch or read_metadata_facts(str(file), metadata).arch:
        return None
    return find_sidecar(file)


def _pickled_module(name: str, module: nn.Module, key: str | None) -> ModuleSource:
    cls = type(module)
    return ModuleSource(
        checkpoint=empty_checkpoint(name),
        format=PICKLED_MODULE,
        module=module,
        architecture=f"{cls.__module__}.{cls.__qualname__}",
        arch_source=_PICKLED_MODULE_SOURCE,
        key=key,
    )


def _stylegan_snapshot(name: str, options: LoadOptions, device: torch.device) -> ModuleSource:
    from gandoctor.loading.layouts.nvlabs_snapshot import ARCHITECTURE, load_snapshot_generator

    module, key, details = load_snapshot_generator(name, options, device)
    return ModuleSource(
        checkpoint=empty_checkpoint(name),
        format=STYLEGAN_SNAPSHOT,
        module=module,
        architecture=ARCHITECTURE,
        arch_source="built from the snapshot's init_kwargs (no code from the file runs)",
        latent_shape=module.latent_shape,
        key=key,
        output_range=module.output_range,
        num_classes=details["c_dim"] or None,
        details=details,
    )


def _refuse_arch(source: ModuleSource, options: LoadOptions) -> ModuleSource:
    if options.adapter:
        raise ConfigError(
            f"{{opt:adapter}} does not apply to {source.checkpoint.path}: it is a "
            f"{source.format} file that carries its own architecture ({source.architecture})"
        )
    if options.arch:
        # Building --arch and ignoring the file's module, or the reverse, would both probe
        # something other than what the user believes.
        raise ConfigError(
            f"{{opt:arch}} does not apply to {source.checkpoint.path}: it is a "
            f"{source.format} file "
            f"that carries its own architecture ({source.architecture}); leave {{opt:arch}} out"
        )
    return source


def _detect(name: str, file: Path) -> str:
    """The format the content shows: one of the ``GeneratorInfo.format`` values."""
    try:
        with file.open("rb") as handle:
            head = handle.read(9)
    except OSError as exc:
        reason = one_line(exc.strerror or str(exc))
        raise CheckpointError(f"{name}: cannot read the checkpoint ({reason})") from exc
    suffix = file.suffix.lower()
    if head.startswith(_ZIP_MAGIC):
        entries = _zip_entries(name, file)
        if suffix == ".pt2" or "archive_format" in entries:
            return TORCH_EXPORT
        if "constants.pkl" in entries or "code" in entries:
            return TORCHSCRIPT
        if "data.pkl" not in entries:
            # Any other zip (a folder of images, a NumPy .npz): torch.load would fail with a
            # message about its own archive reader.
            raise CheckpointError(
                f"{name}: a zip archive but not a torch checkpoint: torch.save, TorchScript "
                "and torch.export archives hold a data.pkl, this one does not"
            )
        return TORCH
    if _is_safetensors(file, head):
        return SAFETENSORS
    if head.startswith(_PICKLE_MAGIC):
        # A plain pickle whose first object is an NVlabs persistent one: read by the
        # restricted unpickler of loading.snapshots, never by torch.load or pickle.
        return STYLEGAN_SNAPSHOT if is_snapshot(name) else TORCH
    if suffix not in TORCH_SUFFIXES:
        return SAFETENSORS  # its reader explains an empty or foreign file as such
    if not head:
        raise CheckpointError(f"{name}: the file is empty (an interrupted save leaves this)")
    raise CheckpointError(
        f"{name}: not a checkpoint gandoctor can read: torch writes {suffix} files as zip "
        f"archives or pickles, and this one starts with {head[:8]!r}"
    )


def _is_safetensors(file: Path, head: bytes) -> bool:
    """safetensors begins with its JSON header's length, 8 bytes little-endian, then ``{``.

    Checked before the pickle magic: a header of 128 to 255 bytes begins with ``\\x80`` too.
    """
    if len(head) < 9 or head[8:9] != b"{":
        return False
    return int.from_bytes(head[:8], "little") + 8 <= file.stat().st_size


def _zip_entries(name: str, file: Path) -> set[str]:
    """Names of the archive's first level below its root folder (``data.pkl``, ``code``)."""
    try:
        with zipfile.ZipFile(file) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise CheckpointError(
            f"{name}: cannot read the torch.save file (a damaged zip archive: "
            f"{one_line(str(exc))}); a truncated download or copy leaves this"
        ) from exc
    return {parts[1] for entry in names if len(parts := entry.split("/")) > 1}
