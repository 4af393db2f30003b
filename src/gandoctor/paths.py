"""Paths in and out: checkpoints named by the user expanded (folders, globs, natural order),
outputs that are never inputs, and outputs written atomically.

Output paths must not be inputs: a report is never written over a checkpoint or into the
real data.

``--json g.safetensors`` would replace the checkpoint with the report (atomically, so
completely), and ``--plot imgs/fig.png`` would add an image that the next probe reads as
real data. Both are refused before anything runs.
"""

from __future__ import annotations

import glob
import os
import re
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from gandoctor.errors import CheckpointError, ConfigError

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


@contextmanager
def atomic_output(path: PathLike) -> Iterator[Path]:
    """A temporary file beside ``path`` to write to; it replaces ``path`` when the block
    ends without error and is removed when it does not, so a failed run leaves no
    half-written output behind. Reports and plots are both written through it."""
    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, new_file_mode())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomically(path: PathLike, text: str) -> None:
    """Write ``text`` to ``path`` through ``atomic_output``."""
    # backslashreplace: a file name that is not valid UTF-8 (a lone surrogate in Python)
    # is written escaped instead of failing after the probe ran.
    with (
        atomic_output(path) as tmp,
        open(tmp, "w", encoding="utf-8", errors="backslashreplace") as handle,
    ):
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())  # the content is on disk before the name points to it


def new_file_mode() -> int:
    """The permissions an ordinary new file gets (0o666 less the umask); mkstemp's
    temporary files are private (0o600), which a report shared in CI should not be."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


CHECKPOINT_SUFFIXES = (".safetensors", ".pt", ".pth", ".tar", ".ckpt", ".pt2", ".ts")


# A folder holding one of these is one Hugging Face style checkpoint, not a list of them.
_SINGLE_CHECKPOINT_FOLDER = ("config.json", "model.safetensors")


def expand_checkpoints(given: Sequence[PathLike]) -> list[str]:
    """Checkpoint paths from what the user named: files as they are; a folder of
    checkpoints as its checkpoint files; a glob pattern (quoted, so the shell left it) as
    its matches. Folders and globs come in natural order (epoch2 before epoch10)."""
    paths: list[str] = []
    for item in given:
        text = os.fspath(item)
        folder = Path(text)
        if folder.is_dir() and not any((folder / n).exists() for n in _SINGLE_CHECKPOINT_FOLDER):
            found = [str(p) for p in folder.iterdir() if p.suffix in CHECKPOINT_SUFFIXES]
            if not found:
                raise CheckpointError(
                    f"{text}: folder holds no checkpoint ({', '.join(CHECKPOINT_SUFFIXES)})"
                )
            paths += sorted(found, key=natural_key)
        elif not folder.exists() and glob.has_magic(text):
            matches = glob.glob(text)
            if not matches:
                raise CheckpointError(f"{text}: no checkpoint matches this pattern")
            paths += sorted(matches, key=natural_key)
        else:
            paths.append(text)
    return paths


def natural_key(text: str) -> list[object]:
    """Sort key for natural order: epoch2 before epoch10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]
