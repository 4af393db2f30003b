"""Output paths must not be inputs: a report is never written over a checkpoint or into the
real data.

``--json g.safetensors`` would replace the checkpoint with the report (atomically, so
completely), and ``--plot imgs/fig.png`` would add an image that the next probe reads as
real data. Both are refused before anything runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from gandoctor.errors import ConfigError

PathLike = str | os.PathLike[str]


def check_outputs_are_not_inputs(
    outputs: Mapping[str, PathLike | None],
    checkpoints: Iterable[PathLike],
    data: PathLike | None = None,
) -> None:
    """Raise :class:`ConfigError` when an output (option name -> path; None and ``-`` are
    skipped) is a checkpoint file or inside a checkpoint folder, is the data file or inside
    the data folder, or is also another option's output. ``checkpoints`` are the paths as
    loaded (folders of checkpoints and globs expanded). Symbolic links are resolved first."""
    inputs = {_real(path): os.fspath(path) for path in checkpoints}
    data_path, data_given = (None, "") if data is None else (_real(data), os.fspath(data))
    seen: dict[str, str] = {}
    for option, path in outputs.items():
        if path is None or os.fspath(path) == "-":
            continue
        target = _real(path)
        hit = inputs.get(target) or next(
            (given for real, given in inputs.items() if _inside(target, real)), None
        )  # a checkpoint file, or a file of a checkpoint folder (its config.json)
        if hit is not None:
            raise ConfigError(
                f"{option} {os.fspath(path)} would overwrite the checkpoint {hit}; "
                "write the report elsewhere"
            )
        if data_path is not None and (target == data_path or _inside(target, data_path)):
            raise ConfigError(
                f"{option} {os.fspath(path)} would write into the real data {data_given}; "
                "gandoctor never writes to its inputs, write the report elsewhere"
            )
        if target in seen:
            raise ConfigError(f"{option} and {seen[target]} name the same file {os.fspath(path)}")
        seen[target] = option


def _real(path: PathLike) -> str:
    return os.path.realpath(os.fspath(path))


def _inside(target: str, folder: str) -> bool:
    return Path(folder).is_dir() and target.startswith(folder.rstrip(os.sep) + os.sep)
