"""Checks on a checkpoint file before it is opened: that it is a regular file, and that its
weights fit in memory.

A FIFO named ``g.pt`` would block the first read forever, a symbolic link loop looks like a
missing file to ``Path.exists``, and a checkpoint larger than the memory left gets the
process killed with no message; each is said in one line instead.
"""

from __future__ import annotations

import errno
import os
import stat

from gandoctor.errors import CheckpointError
from gandoctor.messages import one_line
from gandoctor.runtime.resources import check_memory

COPIES_IN_MEMORY = 2
"""Copies of the weights held at once while loading: the tensors read from the file, and
the module's own parameters they are copied into (as float32)."""


def regular_file_size(name: str) -> int:
    """The size of the checkpoint file ``name``; :class:`CheckpointError` when it is missing,
    a link loop, unreachable, or not a regular file."""
    try:
        info = os.stat(name)
    except FileNotFoundError:
        raise CheckpointError(f"{name}: checkpoint file not found") from None
    except OSError as exc:
        reason = (
            "a loop of symbolic links" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
        )
        raise CheckpointError(f"{name}: cannot read the checkpoint ({one_line(reason)})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CheckpointError(f"{name}: not a regular file (a FIFO, socket or device?)")
    return info.st_size


def check_fits_in_memory(name: str, float32_bytes: int) -> None:
    """Refuse a checkpoint whose weights, as float32, would not fit in the memory available
    (:data:`COPIES_IN_MEMORY` copies of them)."""
    check_memory(
        COPIES_IN_MEMORY * float32_bytes,
        lambda needed, available: (
            f"{name}: loading the checkpoint needs about {needed} of memory (its weights as "
            f"float32, twice: as read and in the module) but only {available} is available"
        ),
        CheckpointError,
    )
