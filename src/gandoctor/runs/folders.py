"""A training run's folder as a checkpoint argument: its snapshots in training order, its
options, and the data set they name.

Three layouts, as the packages write them:

- NVlabs stylegan2-ada-pytorch / stylegan3 (``training/training_loop.py``):
  ``network-snapshot-<kimg:06d>.pkl`` beside ``training_options.json``, ``stats.jsonl`` and
  ``metric-*.jsonl``. The number is thousands of real images shown (kimg).
- rosinality stylegan2-pytorch (``train.py``): ``checkpoint/<iteration:06d>.pt`` under the
  folder train.py ran in; each holds the parsed command line (``args``), its ``path`` the
  LMDB data set.
- PyTorch Lightning (``ModelCheckpoint``, ``TensorBoardLogger``):
  ``lightning_logs/version_<N>/`` with ``hparams.yaml``, event files and
  ``checkpoints/epoch=<e>-step=<s>.ckpt`` (and ``last.ckpt``, a copy of the latest).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gandoctor.errors import CheckpointError

NVLABS_SNAPSHOT = re.compile(r"^network-snapshot-(\d+)\.pkl$")
ROSINALITY_SNAPSHOT = re.compile(r"^(\d+)\.pt$")
LIGHTNING_EPOCH = re.compile(r"epoch=(\d+)")
LIGHTNING_STEP = re.compile(r"step=(\d+)")
LIGHTNING_LAST = "last.ckpt"

DATA_KEYS = ("data_dir", "data_path", "dataset_path", "dataset", "data", "path", "root")
"""hparams.yaml keys that name the data set in Lightning modules and data modules as people
write them (LightningDataModule examples use ``data_dir``); the first that names an
existing path wins."""


@dataclass(frozen=True)
class Snapshot:
    """One checkpoint of the run and where in training it was saved."""

    path: str
    kimg: float | None = None
    """NVlabs: thousands of real images shown, from the file name."""
    step: int | None = None
    """rosinality: the iteration; Lightning: the global step, where the name has it."""
    epoch: int | None = None
    """Lightning: the epoch, where the name has it."""

    @property
    def position(self) -> float | None:
        """Where in training: kimg for NVlabs runs, else the step (or the epoch)."""
        for value in (self.kimg, self.step, self.epoch):
            if value is not None:
                return float(value)
        return None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "kimg": self.kimg, "step": self.step, "epoch": self.epoch}


@dataclass(frozen=True)
class RunFolder:
    """A training run: its snapshots in training order, options and data set."""

    root: str
    kind: str
    """``nvlabs``, ``rosinality`` or ``lightning``."""
    snapshots: list[Snapshot]
    options: dict[str, Any] = field(default_factory=dict)
    """training_options.json, hparams.yaml or the saved ``args``; {} when none."""
    options_file: str | None = None
    data_path: str | None = None
    """The data set the options name, where that path exists here; None otherwise."""
    data_named: str | None = None
    """The data set the options name, as written, whether or not it exists here."""
    notes: tuple[str, ...] = ()
    """What was chosen on the user's behalf (a Lightning version, last.ckpt left out)."""


def find_run(path: str | os.PathLike[str]) -> RunFolder | None:
    """The run in ``path``, or None where it is not a run folder of a known layout."""
    root = Path(path)
    if not root.is_dir():
        return None
    for finder in (_nvlabs, _rosinality, _lightning):
        run = finder(root)
        if run is not None:
            return run
    return None


def _nvlabs(root: Path) -> RunFolder | None:
    found = [(NVLABS_SNAPSHOT.match(p.name), p) for p in root.iterdir() if p.is_file()]
    snapshots = sorted(
        (Snapshot(str(p), kimg=float(m.group(1))) for m, p in found if m),
        key=lambda s: s.kimg or 0.0,
    )
    if not snapshots:
        return None
    options_file = root / "training_options.json"
    options = _json_options(options_file)
    named = options.get("training_set_kwargs", {}).get("path") if options else None
    return RunFolder(
        str(root), "nvlabs", snapshots, options,
        str(options_file) if options_file.is_file() else None,
        _existing(named, root), named,
    )  # fmt: skip


def _rosinality(root: Path) -> RunFolder | None:
    folder = root / "checkpoint" if (root / "checkpoint").is_dir() else root
    found = [(ROSINALITY_SNAPSHOT.match(p.name), p) for p in folder.iterdir() if p.is_file()]
    snapshots = sorted(
        (Snapshot(str(p), step=int(m.group(1))) for m, p in found if m), key=lambda s: s.step or 0
    )
    if not snapshots or (folder == root and root.name != "checkpoint"):
        return None  # a folder of 000100.pt files elsewhere is a plain folder of checkpoints
    options = _saved_arguments(snapshots[-1].path)
    named = options.get("path") if isinstance(options.get("path"), str) else None
    return RunFolder(
        str(root), "rosinality", snapshots, options, None, _existing(named, root), named
    )


def _lightning(root: Path) -> RunFolder | None:
    notes: list[str] = []
    base = root / "lightning_logs" if (root / "lightning_logs").is_dir() else root
    versions = sorted(
        (p for p in base.iterdir() if p.is_dir() and re.fullmatch(r"version_\d+", p.name)),
        key=lambda p: int(p.name.split("_")[1]),
    )
    version = versions[-1] if versions else root
    if len(versions) > 1:
        notes.append(f"{len(versions)} Lightning versions; the latest, {version.name}, read")
    folder = version / "checkpoints"
    if not folder.is_dir():
        return None
    files = sorted(p for p in folder.iterdir() if p.suffix == ".ckpt")
    named = [p for p in files if p.name != LIGHTNING_LAST]
    if len(named) < len(files) and named:
        notes.append(f"{LIGHTNING_LAST} left out: it copies the latest epoch's checkpoint")
    snapshots = sorted((_lightning_snapshot(p) for p in (named or files)), key=_training_order)
    if not snapshots:
        return None
    options_file = version / "hparams.yaml"
    options = _yaml_options(options_file)
    data = next((options[k] for k in DATA_KEYS if isinstance(options.get(k), str)), None)
    return RunFolder(
        str(version), "lightning", snapshots, options,
        str(options_file) if options_file.is_file() else None,
        _existing(data, version), data, tuple(notes),
    )  # fmt: skip


def _lightning_snapshot(path: Path) -> Snapshot:
    epoch, step = LIGHTNING_EPOCH.search(path.name), LIGHTNING_STEP.search(path.name)
    return Snapshot(
        str(path),
        step=int(step.group(1)) if step else None,
        epoch=int(epoch.group(1)) if epoch else None,
    )


def _training_order(snapshot: Snapshot) -> tuple[float, float, str]:
    step = snapshot.step if snapshot.step is not None else -1
    epoch = snapshot.epoch if snapshot.epoch is not None else -1
    return (float(epoch), float(step), snapshot.path)


def _existing(named: object, root: Path) -> str | None:
    """The data set path, where it exists: as written, or relative to the run folder (a
    run copied from elsewhere with its data beside it)."""
    if not isinstance(named, str) or not named:
        return None
    for candidate in (Path(named), root / named, root / Path(named).name):
        if candidate.exists():
            return str(candidate)
    return None


def _json_options(path: Path) -> dict[str, Any]:
    if not path.is_file():
        return {}
    try:
        options = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(f"{path}: not readable as JSON ({error})") from None
    return options if isinstance(options, dict) else {}


def _yaml_options(path: Path) -> dict[str, Any]:
    """hparams.yaml, read with yaml.safe_load (no Python objects are built). Lightning
    writes it with PyYAML, which is needed here too (the ``runs`` extra)."""
    if not path.is_file():
        return {}
    try:
        import yaml
    except ImportError:
        raise CheckpointError(
            f"{path}: reading hparams.yaml needs PyYAML: pip install 'gandoctor[runs]'"
        ) from None
    try:
        options = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        reason = " ".join(str(error).split())
        raise CheckpointError(f"{path}: not readable as YAML ({reason})") from None
    return options if isinstance(options, dict) else {}


def _saved_arguments(path: str) -> dict[str, Any]:
    """rosinality's ``args``: the parsed command line train.py saved with the weights, read
    without running code (loading.formats.torch_file); {} where there is none."""
    import argparse

    import torch

    from gandoctor.loading.formats.torch_file import load_torch_file

    try:
        stored = load_torch_file(path, torch.device("cpu"), trust_pickle=False)
    except CheckpointError:
        return {}  # the snapshot's own error is reported when it is probed
    args = stored.get("args") if isinstance(stored, dict) else None
    return dict(vars(args)) if isinstance(args, argparse.Namespace) else {}
