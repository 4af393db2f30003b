"""A cache of decoded images, so that the second probe on the same data skips decoding.

Decoding and resizing thousands of images costs seconds to minutes; people probe the same
data many times (every checkpoint of a run, every CI job on a warm runner). The cache
holds the decoded uint8 pixels of the files chosen for one target shape and mode, keyed by
the decoding settings and, for a folder, the folder and each chosen file's path, size and
modification time; for an archive (a ZIP, an LMDB), the archive's path, size and
modification time and the chosen members' names. Any change to a file or a setting misses.

It lives in the user's cache folder (``$GANDOCTOR_CACHE_DIR``, else
``$XDG_CACHE_HOME/gandoctor``, else ``~/.cache/gandoctor``), never next to the data. Entries
are ``.npz`` files read with ``allow_pickle=False``; they are written atomically, and a
cache that cannot be read or written is skipped, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Bump when the decoding changes (crop, resize, mode conversion): old entries then miss.
DECODER_VERSION = 2  # 2: entries hold which chosen files decoded (for their labels)
# An entry above this size is not written: the cache must not fill a disk (10000 RGB images
# at 64x64 take 123 MB, at 128x128 about 490 MB).
MAX_ENTRY_BYTES = 512 * 2**20
# Oldest entries are removed once the folder holds more than this.
MAX_TOTAL_BYTES = 2 * 2**30


@dataclass(frozen=True)
class DecodedImages:
    """Pixels of the files that decoded, in file order, with what the report needs."""

    pixels: np.ndarray
    """uint8, (N, H, W) for mode L or (N, H, W, 3) for RGB."""
    stored: Counter[str]
    """How many files had each stored mode and size, e.g. "RGB 64x64"."""
    failures: list[str]
    """One line per file that could not be decoded."""
    kept: np.ndarray
    """bool, one per chosen file: whether it decoded (so labels can follow the pixels)."""


def cache_dir() -> Path:
    if os.environ.get("GANDOCTOR_CACHE_DIR"):
        return Path(os.environ["GANDOCTOR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gandoctor"


def cache_key(root: str, files: list[str], mode: str, size: tuple[int, int]) -> str | None:
    """A digest of everything the decoded pixels depend on; None when a file cannot be
    stat'ed (the decoder will report it)."""
    digest = hashlib.sha256()
    header = {"v": DECODER_VERSION, "root": os.path.abspath(root), "mode": mode, "size": size}
    digest.update(json.dumps(header, sort_keys=True).encode())
    for relative in files:
        try:
            info = os.stat(os.path.join(root, relative))
        except OSError:
            return None
        # surrogateescape: file names that are not valid UTF-8 still hash, and distinctly.
        digest.update(relative.encode("utf-8", "surrogateescape"))
        digest.update(f"\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:40]


def archive_key(
    archive: str,
    stat_path: str,
    members: list[str],
    mode: str,
    size: tuple[int, int],
    variant: str = "",
) -> str | None:
    """A digest for members of one archive file: its path, the size and modification time
    of ``stat_path`` (the ZIP, or an LMDB's data.mdb), the chosen members' names and the
    decoding settings; ``variant`` names what else picks the pixels (an LMDB's resolution).
    None when the archive cannot be stat'ed."""
    try:
        info = os.stat(stat_path)
    except OSError:
        return None
    header = {"v": DECODER_VERSION, "archive": os.path.abspath(archive), "mode": mode,
              "size": size, "variant": variant, "bytes": info.st_size,
              "mtime_ns": info.st_mtime_ns}  # fmt: skip
    digest = hashlib.sha256(json.dumps(header, sort_keys=True).encode())
    for member in members:
        digest.update(member.encode("utf-8", "surrogateescape") + b"\0")
    return digest.hexdigest()[:40]


def load(key: str) -> DecodedImages | None:
    path = cache_dir() / f"images-{key}.npz"
    try:
        with np.load(path, allow_pickle=False) as entry:
            stored = Counter(dict(zip(entry["stored_keys"].tolist(),
                                      entry["stored_counts"].tolist(), strict=True)))  # fmt: skip
            decoded = DecodedImages(entry["pixels"], stored, entry["failures"].tolist(),
                                    entry["kept"])  # fmt: skip
        os.utime(path)  # recently used: pruned last
        return decoded
    except (OSError, ValueError, KeyError, zipfile.BadZipFile):
        return None


def store(key: str, decoded: DecodedImages) -> None:
    if decoded.pixels.nbytes > MAX_ENTRY_BYTES:
        return
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".images-", suffix=".npz.tmp")
    except OSError:
        return  # no cache folder: the next run decodes again
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(
                handle,
                pixels=decoded.pixels,
                stored_keys=np.array(list(decoded.stored), dtype=str),
                stored_counts=np.array(list(decoded.stored.values()), dtype=np.int64),
                failures=np.array(decoded.failures, dtype=str),
                kept=decoded.kept,
            )
        os.replace(tmp, folder / f"images-{key}.npz")
        _prune(folder)
    except OSError:
        Path(tmp).unlink(missing_ok=True)


def _prune(folder: Path) -> None:
    entries = sorted(folder.glob("images-*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
    total = 0
    for entry in entries:
        total += entry.stat().st_size
        if total > MAX_TOTAL_BYTES:
            entry.unlink(missing_ok=True)
