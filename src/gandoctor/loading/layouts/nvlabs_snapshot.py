"""NVlabs StyleGAN2-ADA (and StyleGAN3-repo StyleGAN2) training snapshots: from the records
of ``unpickler`` to gandoctor's own StyleGAN2 generator, with what the snapshot says about
its training.

A snapshot is ``dict(training_set_kwargs, G, D, G_ema, augment_pipe)`` as the training loop
writes it. The generator is ``G_ema`` (the moving average of G's weights that NVlabs
evaluates and exports) unless ``--key G`` asks for the other.
"""

from __future__ import annotations

from typing import Any

import torch

from gandoctor.config import LoadOptions
from gandoctor.errors import CheckpointError
from gandoctor.loading.formats.facts import plain
from gandoctor.loading.formats.nvlabs_pickle import PersistentRecord, read_snapshot
from gandoctor.loading.layouts.architectures.stylegan2.generator import StyleGAN2Generator
from gandoctor.loading.layouts.state import load_state_strict

GENERATOR_KEYS = ("G_ema", "G")
"""Where a snapshot keeps generators, the preferred first."""
_STYLEGAN3_CLASSES = frozenset({"SynthesisInput"})
"""Classes only StyleGAN3's synthesis network (networks_stylegan3) has: its Fourier-feature
input layer."""
ARCHITECTURE = "stylegan2 (NVlabs snapshot)"


def load_snapshot_generator(
    path: str, options: LoadOptions, device: torch.device, as_trained: bool = False
) -> tuple[StyleGAN2Generator, str, dict[str, Any]]:
    """The snapshot's generator on ``device`` (float32, weights loaded strictly), the key
    it came from, and the snapshot's facts for ``inspect`` and the report. ``as_trained``
    runs it with NVlabs' inference numerics instead (``StyleGAN2Generator``)."""
    stored = read_snapshot(path, device)
    key = _generator_key(path, stored, options.key)
    record = stored[key]
    if not isinstance(record, PersistentRecord) or record.class_name != "Generator":
        found = record.class_name if isinstance(record, PersistentRecord) else type(record).__name__
        raise CheckpointError(
            f"{path}: entry {key!r} of the snapshot is a {found}, not a Generator"
        )
    if any(r.class_name in _STYLEGAN3_CLASSES for r in record.walk()):
        raise CheckpointError(
            f"{path}: a StyleGAN3 (networks_stylegan3) snapshot; gandoctor does not build "
            "StyleGAN3 generators yet (StyleGAN2 snapshots of the same repository load)"
        )
    try:
        kwargs = {**record.init_kwargs, "truncation_psi": options.truncation,
                  "as_trained": as_trained}  # fmt: skip
        module = StyleGAN2Generator(*record.init_args, **kwargs)
    except TypeError as exc:  # a constructor argument this generator does not take
        raise CheckpointError(f"{path}: the snapshot's Generator arguments do not fit "
                              f"StyleGAN2 ({' '.join(str(exc).split())})") from exc  # fmt: skip
    load_state_strict(
        module,
        record.state_dict(),
        path=path,
        context=f"entry {key!r} does not fit the StyleGAN2 built from its own init_kwargs",
        hint="",
    )
    return module.to(device), key, snapshot_facts(stored, module)


def _generator_key(path: str, stored: dict[str, Any], asked: str | None) -> str:
    if asked is not None:
        if asked not in stored:
            raise CheckpointError(
                f"{path}: the snapshot has no entry {asked!r} (it has: "
                f"{', '.join(map(str, stored))})"
            )
        return asked
    for key in GENERATOR_KEYS:
        if key in stored:
            return key
    raise CheckpointError(
        f"{path}: a StyleGAN snapshot without G_ema or G (it has: {', '.join(map(str, stored))})"
    )


def snapshot_facts(stored: dict[str, Any], module: StyleGAN2Generator) -> dict[str, Any]:
    """What the snapshot says about the generator and its training, JSON-ready."""
    kwargs = module.arch_kwargs()
    mapping = module.mapping
    facts: dict[str, Any] = {
        "z_dim": kwargs["z_dim"],
        "w_dim": kwargs["w_dim"],
        "c_dim": kwargs["c_dim"],
        "resolution": kwargs["img_resolution"],
        "channels": kwargs["img_channels"],
        "mapping_layers": mapping.num_layers,
        "synthesis_architecture": kwargs["synthesis_kwargs"].get("architecture", "skip"),
        "truncation_psi": kwargs["truncation_psi"],
        "noise": "constant (each layer's stored noise_const)",
        "entries": sorted(map(str, stored)),
        "augment_p": augment_p(stored),
    }
    training_set = stored.get("training_set_kwargs")
    if isinstance(training_set, dict):
        facts["training_set_kwargs"] = plain(training_set)
    return facts


def augment_p(stored: dict[str, Any]) -> float | None:
    """ADA's augmentation probability p at the snapshot (``augment_pipe.p``); None without
    an augmentation pipeline."""
    pipe = stored.get("augment_pipe")
    if not isinstance(pipe, PersistentRecord):
        return None
    p = pipe.state_dict().get("p")
    return float(p) if isinstance(p, torch.Tensor) and p.numel() == 1 else None
