"""Real data from an LMDB of images, as rosinality/stylegan2-pytorch's ``prepare_data.py``
writes it.

prepare_data.py stores each image once per resolution, as JPEG bytes under the key
``f"{size}-{str(index).zfill(5)}"``, and the number of images under ``length``; its
dataset.py reads one resolution's records. Here the resolution is the generator's (its
larger side), else the nearest larger one (resized down), else the largest there is.

The LMDB is opened read-only without a lock file (``readonly=True, lock=False``), so nothing
is created or changed beside the data. LMDB maps its file into memory and trusts the page
numbers it holds; a file cut short would fault on a page past its end, so the file must hold
every page its header names before any record is read. ``lmdb`` is an optional dependency
(``pip install "gandoctor[runs]"``).
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, overload

from gandoctor.data import cache
from gandoctor.data.archives.zipped import MAX_MEMBER_BYTES
from gandoctor.data.common import one_line
from gandoctor.data.images import decode_bytes
from gandoctor.data.parallel import Damaged, Decoded
from gandoctor.data.pipeline import ImageSet
from gandoctor.errors import DataError

DATA_FILE = "data.mdb"
_KEY = re.compile(rb"(\d+)-\d{5,}")
_MAX_LENGTH = 10**9
"""A ``length`` above this is not a count of images (it would only list keys in vain)."""
_MAX_SCAN = 256
"""Keys visited while looking for resolutions: one per resolution plus the odd other key."""


def lmdb_layout(path: str, mode: int) -> bool | None:
    """How ``lmdb.open`` reaches the data: True for a folder holding data.mdb (what
    prepare_data.py makes), False for the .mdb file itself, None where it is no LMDB."""
    if stat.S_ISDIR(mode):
        return True if os.path.isfile(os.path.join(path, DATA_FILE)) else None
    return False if stat.S_ISREG(mode) and path.lower().endswith(".mdb") else None


def _open_env(path: str, subdir: bool) -> Any:
    """The environment, read-only and lock-free, its file checked to hold every page."""
    try:
        import lmdb
    except ImportError:
        raise DataError(
            f'{path} is an LMDB; reading it needs the lmdb package: pip install "gandoctor[runs]"'
        ) from None
    data_file = os.path.join(path, DATA_FILE) if subdir else path
    try:
        env = lmdb.open(path, subdir=subdir, readonly=True, lock=False, readahead=False,
                        meminit=False, create=False, max_readers=8)  # fmt: skip
    except lmdb.Error as exc:
        raise DataError(f"cannot read {path} as an LMDB: {_reason(path, exc)}") from None
    try:
        needed = (env.info()["last_pgno"] + 1) * env.stat()["psize"]
        size = os.path.getsize(data_file)
    except (lmdb.Error, OSError) as exc:
        env.close()
        raise DataError(f"cannot read {path} as an LMDB: {_reason(path, exc)}") from None
    if size < needed:
        env.close()
        raise DataError(f"{path} is cut short: {DATA_FILE} holds {size} of {needed} bytes")
    return env


def _lmdb_error() -> type[Exception]:
    """lmdb's base exception, for an ``except`` clause; only evaluated once an exception is
    on its way, by which time the environment is open and lmdb imported."""
    import lmdb

    return lmdb.Error


def _reason(path: str, exc: BaseException) -> str:
    """lmdb's message without the path it starts with (the error names it once)."""
    return one_line(exc).removeprefix(f"{path}: ")


def _length(txn: Any, path: str) -> int:
    raw = txn.get(b"length")
    if raw is None:
        raise DataError(
            f"{path}: the LMDB has no 'length' record; expected one made by rosinality's "
            "prepare_data.py"
        )
    text = bytes(raw[:32]).decode("ascii", "replace").strip()
    if not text.isdigit() or int(text) > _MAX_LENGTH:
        raise DataError(f"{path}: the LMDB's 'length' record is {text[:20]!r}, not a count")
    return int(text)


def _resolutions(txn: Any) -> list[int]:
    """The sizes with ``<size>-<index>`` records, found by jumping from one size's first
    key past all its keys (LMDB keeps keys sorted; "." sorts right after "-")."""
    found: set[int] = set()
    cursor, key = txn.cursor(), b""
    for _ in range(_MAX_SCAN):
        if not cursor.set_range(key):
            break
        current = bytes(cursor.key())
        match = _KEY.fullmatch(current)
        if match:
            found.add(int(match[1]))
            key = match[1] + b"."
        else:
            key = current + b"\0"
    return sorted(found)


def choose_resolution(available: list[int], side: int) -> int:
    """The generator's size where stored, else the nearest larger, else the largest."""
    larger = [size for size in available if size >= side]
    return min(larger) if larger else max(available)


def record_key(resolution: int, index: int) -> str:
    return f"{resolution}-{str(index).zfill(5)}"


class RecordKeys(Sequence[str]):
    """The keys of one resolution's records, made when asked for: ``length`` comes from the
    file, and a list of a billion keys would not fit in memory."""

    def __init__(self, resolution: int, length: int) -> None:
        self.resolution, self.length = resolution, length

    def __len__(self) -> int:
        return self.length

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> list[str]: ...
    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self.length))]
        if not -self.length <= index < self.length:
            raise IndexError(index)
        return record_key(self.resolution, index % self.length)


@dataclass
class _Reader:
    """The environment, opened on first use in each process (an LMDB environment must not
    cross a fork)."""

    path: str
    subdir: bool
    _env: Any = field(default=None, repr=False)
    _pid: int = -1

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "subdir": self.subdir, "_env": None, "_pid": -1}

    def read(self, key: str) -> bytes | Damaged:
        try:
            if self._env is None or self._pid != os.getpid():
                self._env, self._pid = _open_env(self.path, self.subdir), os.getpid()
            with self._env.begin(buffers=True) as txn:
                value = txn.get(key.encode("utf-8"))
                if value is None:
                    return Damaged(f"record {key} is missing")
                if len(value) > MAX_MEMBER_BYTES:
                    return Damaged(f"record {key} holds {len(value)} bytes, more than an image")
                return bytes(value)
        except DataError as exc:  # the file changed since it was listed
            return Damaged(str(exc).removeprefix(f"{self.path}: "))
        except _lmdb_error() as exc:
            return Damaged(f"damaged record {key}: {one_line(exc)}")

    def close(self) -> None:
        if self._env is not None and self._pid == os.getpid():
            self._env.close()
        self._env = None


def _decode_record(reader: _Reader, mode: str, size: tuple[int, int], key: str) -> Decoded:
    content = reader.read(key)
    return content if isinstance(content, Damaged) else decode_bytes(key, content, mode, size)


@dataclass(frozen=True)
class LmdbImages(ImageSet):
    """One resolution's records of an LMDB."""

    reader: _Reader
    resolution: int
    available: tuple[int, ...]

    kind = "lmdb"

    def decoder(self, mode: str, size: tuple[int, int]) -> Callable[[str], Decoded]:
        return partial(_decode_record, self.reader, mode, size)

    def cache_key(self, chosen: list[str], mode: str, size: tuple[int, int]) -> str | None:
        stat_path = os.path.join(self.source, DATA_FILE) if self.reader.subdir else self.source
        variant = f"lmdb {self.resolution}"
        return cache.archive_key(self.source, stat_path, chosen, mode, size, variant)

    def stored(self) -> str:
        sizes = ", ".join(str(size) for size in self.available)
        return f" (the {self.resolution} px records; the LMDB holds {sizes})"

    def stored_bytes(self, name: str) -> bytes | None:
        content = self.reader.read(name)
        return None if isinstance(content, Damaged) else content

    def finish(self) -> None:
        self.reader.close()


def list_lmdb(path: str, subdir: bool, side: int, chosen: Callable[[int], list[int]]) -> LmdbImages:
    """The records of the resolution for a generator of ``side`` pixels; ``chosen(n)``
    gives the indices the probe will read of ``n``, each checked to be there."""
    env = _open_env(path, subdir)
    try:
        with env.begin(buffers=True) as txn:
            length = _length(txn, path)
            available = _resolutions(txn)
            if not available:
                raise DataError(
                    f"{path}: the LMDB holds no '<size>-<index>' image records (as made by "
                    "rosinality's prepare_data.py)"
                )
            resolution = choose_resolution(available, side)
            names = RecordKeys(resolution, length)
            cursor = txn.cursor()
            missing = [names[i] for i in chosen(length) if not cursor.set_key(names[i].encode())]
    except _lmdb_error() as exc:
        raise DataError(f"cannot read {path} as an LMDB: {_reason(path, exc)}") from None
    finally:
        env.close()
    if missing:
        raise DataError(
            f"{path}: 'length' is {length}, but {len(missing)} of its {resolution} px records "
            f"are missing (first: {missing[0]})"
        )
    if not names:
        raise DataError(f"{path}: the LMDB's 'length' is 0; it holds no images")
    return LmdbImages(path, names, None, _Reader(path, subdir), resolution, tuple(available))
