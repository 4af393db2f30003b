"""Real data from a ZIP of images, as stylegan2-ada-pytorch's ``dataset_tool.py`` writes them.

NVlabs' data sets are uncompressed ZIPs of PNGs (``00000/img00000000.png``, ...) with a
``dataset.json`` of labels at the top (training/dataset.py reads them the same way). The
members are streamed: each chosen image is read into memory and decoded like a file of a
folder; nothing is extracted, and the archive is opened for reading only.

A ZIP is an untrusted file: its central directory states every member's sizes and offsets,
and this module believes none of them before checking. An archive is refused in one line
where a member's name climbs out of it (``../``, absolute), where members overlap (the
"non-recursive" zip bomb, one compressed run shared by many members), where a member to be
read is encrypted, uses a method Python cannot read, declares more than MAX_MEMBER_BYTES, or
expands more than MAX_RATIO-fold. Reading stops at the declared size, so a member that lies
about it is damaged, as is one whose bytes fail their CRC.
"""

from __future__ import annotations

import lzma
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from gandoctor.data import cache
from gandoctor.data.common import one_line, printable
from gandoctor.data.images import decode_bytes, image_extensions, looked_for
from gandoctor.data.labels import DATASET_JSON, MAX_JSON_BYTES, find_labels
from gandoctor.data.parallel import Damaged, Decoded
from gandoctor.data.pipeline import ImageSet
from gandoctor.errors import DataError

MAX_MEMBER_BYTES = 256 * 2**20
"""An image member declaring more is refused: Pillow's own limit (89.5 million pixels) puts
any image it decodes below this even uncompressed, and data sets hold far smaller ones."""
MAX_RATIO = 200
"""Declared size over compressed size above which a member is a bomb. Deflate packs photos
and PNGs (already compressed) by 1-3x, and even a flat-colour uncompressed PNG of 1 MiB by
well under 200x at the sizes data sets use; bombs reach 1000x (one level) and far more."""
RATIO_FLOOR = 2**20
"""Members declaring less than this are not held to MAX_RATIO: they cannot hurt."""
_METHODS = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_LOCAL_HEADER = 30
"""Bytes of a local file header before its name: the least room each member takes."""
# What a damaged archive or member raises while read: zipfile's own errors, a cut or
# corrupt compressed stream (zlib, bz2's OSError, lzma), a struct of the wrong length.
_READ_ERRORS = (zipfile.BadZipFile, zlib.error, lzma.LZMAError, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError, struct.error)  # fmt: skip


def is_zip(path: str) -> bool:
    return path.lower().endswith(".zip")


def _climbs(name: str) -> bool:
    """Whether a member name would leave the archive's folder if extracted: absolute, a
    drive letter, or a ``..`` step (either slash, as Windows tools write them)."""
    parts = name.replace("\\", "/").split("/")
    return name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts


def _member_problem(info: zipfile.ZipInfo) -> str | None:
    """Why a member is not to be read, from the central directory alone; None if it may be."""
    name, size, packed = printable(info.filename), info.file_size, info.compress_size
    if info.flag_bits & 0x1:
        return f"member {name} is encrypted"
    if info.compress_type not in _METHODS:
        return f"member {name} uses compression method {info.compress_type}, which is not read"
    limit = MAX_JSON_BYTES if info.filename == DATASET_JSON else MAX_MEMBER_BYTES
    if size > limit:
        return f"member {name} declares {size} bytes, more than {limit >> 20} MiB"
    if size > RATIO_FLOOR and size > MAX_RATIO * max(packed, 1):
        return (
            f"zip bomb: member {name} declares {size} bytes from {packed} compressed "
            f"(over {MAX_RATIO}x)"
        )
    return None


def _archive_problem(archive: zipfile.ZipFile, size: int) -> str | None:
    """Members whose stored bytes overlap, or reach past the end of the file: each must
    lie between its header's offset and the next member's."""
    infos = sorted(archive.infolist(), key=lambda info: info.header_offset)
    followers: list[zipfile.ZipInfo | None] = [*infos[1:], None]
    for info, after in zip(infos, followers, strict=False):  # an empty ZIP has no pairs
        end = after.header_offset if after is not None else size
        needed = _LOCAL_HEADER + len(info.orig_filename.encode("utf-8", "replace"))
        if info.header_offset + needed + info.compress_size > end:
            overlap = "members overlap" if after is not None else "a member runs past the end"
            return f"zip bomb or damage: {overlap} ({printable(info.filename)})"
    return None


def _open(path: str) -> zipfile.ZipFile:
    """The archive opened for reading, its directory checked; DataError otherwise."""
    try:
        archive = zipfile.ZipFile(path, mode="r")
    except _READ_ERRORS as exc:
        raise DataError(f"cannot read {path} as a ZIP archive: {_why(path, exc)}") from None
    try:
        problem = _archive_problem(archive, os.path.getsize(path))
    except OSError as exc:
        problem = one_line(exc)
    if problem is not None:
        archive.close()
        raise DataError(f"{path}: {problem}")
    return archive


def _why(path: str, exc: BaseException) -> str:
    """zipfile's reason, with the likely cause where a ZIP's start has no end."""
    try:
        with open(path, "rb") as handle:
            starts_like_a_zip = handle.read(4) == b"PK\x03\x04"
    except OSError:
        starts_like_a_zip = False
    if starts_like_a_zip and isinstance(exc, zipfile.BadZipFile):
        return f"{one_line(exc)}; it starts as one but has no directory at its end (cut short?)"
    return one_line(exc)


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    """A member's bytes, never more than it declares (checked first); its CRC is checked
    by zipfile once the last byte is read."""
    problem = _member_problem(info)
    if problem is not None:
        raise DataError(problem)
    with archive.open(info) as member:
        content = member.read(info.file_size + 1)
    if len(content) != info.file_size:
        raise zipfile.BadZipFile(f"{len(content)} bytes where {info.file_size} were declared")
    return content


@dataclass
class _Reader:
    """The archive of a data set, opened on first use in each process: worker processes
    (data.parallel) must not share one open file and its position."""

    path: str
    _archive: zipfile.ZipFile | None = field(default=None, repr=False)
    _pid: int = -1

    def __getstate__(self) -> dict[str, object]:
        return {"path": self.path, "_archive": None, "_pid": -1}

    def read(self, name: str) -> bytes | Damaged:
        try:
            if self._archive is None or self._pid != os.getpid():
                self._archive, self._pid = _open(self.path), os.getpid()
            return _read(self._archive, self._archive.getinfo(name))
        except KeyError:
            return Damaged(f"member {printable(name)} is no longer in the archive")
        except DataError as exc:  # the archive changed since it was listed
            return Damaged(str(exc).removeprefix(f"{self.path}: "))
        except _READ_ERRORS as exc:
            return Damaged(f"damaged member {printable(name)}: {one_line(exc)}")

    def close(self) -> None:
        if self._archive is not None and self._pid == os.getpid():
            self._archive.close()
        self._archive = None


def _decode_member(reader: _Reader, mode: str, size: tuple[int, int], name: str) -> Decoded:
    content = reader.read(name)
    return content if isinstance(content, Damaged) else decode_bytes(name, content, mode, size)


@dataclass(frozen=True)
class ZipImages(ImageSet):
    """The image members of a ZIP."""

    reader: _Reader

    kind = "zip"

    def decoder(self, mode: str, size: tuple[int, int]) -> Callable[[str], Decoded]:
        return partial(_decode_member, self.reader, mode, size)

    def cache_key(self, chosen: list[str], mode: str, size: tuple[int, int]) -> str | None:
        return cache.archive_key(self.source, self.source, chosen, mode, size)

    def stored_bytes(self, name: str) -> bytes | None:
        content = self.reader.read(name)
        return None if isinstance(content, Damaged) else content

    def finish(self) -> None:
        self.reader.close()


def _is_image(name: str, extensions: frozenset[str]) -> bool:
    """An image member: not a folder, not hidden (no part starts with "."), as in folders."""
    if name.endswith("/") or any(part.startswith(".") for part in name.split("/")):
        return False
    return os.path.splitext(name)[1].lower() in extensions


def list_zip(path: str, on_warning: Callable[[str], None] | None) -> ZipImages:
    """The image members of a ZIP (sorted by name, as training/dataset.py sorts them) and
    their labels; one-line DataError for an archive that is damaged or hostile."""
    with _open(path) as archive:
        infos = archive.infolist()
        climbing = next((info.filename for info in infos if _climbs(info.filename)), None)
        if climbing is not None:
            shown = printable(climbing)
            raise DataError(f"{path}: member {shown} climbs out of the archive; refused")
        latest = {info.filename: info for info in infos}  # a later duplicate wins, as in zipfile
        extensions = image_extensions()
        names = sorted(name for name in latest if _is_image(name, extensions))
        if not names:
            raise DataError(f"no image files found in {path} (looked for {looked_for()})")
        wanted = [*names, DATASET_JSON] if DATASET_JSON in latest else names
        problem = next(filter(None, (_member_problem(latest[name]) for name in wanted)), None)
        if problem is not None:
            raise DataError(f"{path}: {problem}")
        raw = None
        if DATASET_JSON in latest:
            try:
                raw = _read(archive, latest[DATASET_JSON])
            except _READ_ERRORS as exc:
                raise DataError(f"{path}: damaged member {DATASET_JSON}: {one_line(exc)}") from None
    labels = find_labels(names, raw, path, on_warning)
    return ZipImages(path, names, labels, _Reader(path))
