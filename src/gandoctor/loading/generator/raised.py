"""Where a generator's forward raised: in its own code, or in a library it called, so that
a package broken by a newer torch is told from a wrong input (loading.generator.inspection)."""

from __future__ import annotations

import sysconfig
import traceback
import types
from pathlib import Path

import torch

from gandoctor.errors import CheckpointError

__all__ = ["ForwardFailed", "raising_frame"]


class ForwardFailed(CheckpointError):
    """The generator's forward raised on the latents it was given. ``bare``: the message
    without its hint; ``cause``: the exception, as :func:`describe_exception` words it."""

    def __init__(self, message: str, bare: str = "", cause: str = "") -> None:
        super().__init__(message)
        self.bare = bare or message
        self.cause = cause


_TORCH = Path(torch.__file__).resolve().parent
_GANDOCTOR = Path(__file__).resolve().parents[2]
_STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()
_SITE = tuple(Path(sysconfig.get_paths()[name]).resolve() for name in ("purelib", "platlib"))
"""Where installed packages live (inside the stdlib folder on some systems)."""


def _own_code(frame: types.FrameType) -> bool:
    """Whether ``frame`` runs the generator's own code: neither torch's, nor gandoctor's,
    nor Python's standard library."""
    file = Path(frame.f_code.co_filename).resolve()
    if file.is_relative_to(_TORCH) or file.is_relative_to(_GANDOCTOR):
        return False
    return any(file.is_relative_to(site) for site in _SITE) or not file.is_relative_to(_STDLIB)


def raising_frame(exc: BaseException) -> str:
    """Where in the generator's own code (a package's, or the user's) ``exc`` was raised:
    ``"; raised in the generator's own code, in Class.forward (package.module, line N)"``,
    or which of its frames called the library (torch) that raised; empty where no frame of
    its own is in the traceback (gandoctor's builds). A package's forward broken by a newer
    torch is then told from a wrong input."""
    frames = list(traceback.walk_tb(exc.__traceback__))
    own = [index for index, (frame, _) in enumerate(frames) if _own_code(frame)]
    if not own:
        return ""
    frame, line = frames[own[-1]]
    module = frame.f_globals.get("__name__", "?")
    where = f"{frame.f_code.co_qualname} ({module}, line {line})"
    if own[-1] == len(frames) - 1:
        return f"; raised in the generator's own code (not gandoctor's), in {where}"
    library = str(frames[-1][0].f_globals.get("__name__", "a library")).split(".")[0]
    return f"; raised in {library}, called from the generator's own code in {where}"
