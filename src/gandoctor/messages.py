"""Small helpers shared by loading and preflight: one-line messages and value checks.

Every error of this package ends up as a single line on stderr (see ``gandoctor.errors``), so
text that comes from libraries or user code is flattened before it goes into a message.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from gandoctor.errors import GanDoctorError
from gandoctor.paths import natural_key

_TORCHSCRIPT_TRACE = "Traceback of TorchScript"

KEY_LIST_LIMIT = 10
"""Keys shown in one message before the rest is summarised: enough to recognise a pattern
(a prefix, a renamed block), short enough to stay one readable line."""


def one_line(text: str) -> str:
    """Collapse all whitespace, newlines included, so ``text`` fits on one line."""
    return " ".join(text.split())


def describe_exception(exc: BaseException) -> str:
    """``ExcType: message`` on one line, the way the user would recognise it."""
    message = one_line(str(exc))
    name = type(exc).__name__
    if _TORCHSCRIPT_TRACE in message:
        # TorchScript puts its serialised code and two tracebacks before the error itself,
        # which is the last line: ``builtins.RuntimeError: boom``.
        lines = [line for line in str(exc).splitlines() if line.strip()]
        return f"TorchScript {one_line(lines[-1]).removeprefix('builtins.')}"
    return f"{name}: {message}" if message else name


def format_keys(keys: Iterable[str], limit: int = KEY_LIST_LIMIT) -> str:
    """Sorted keys joined by commas, cut to ``limit`` with an ``and N more`` tail."""
    ordered = sorted(keys, key=natural_key)
    shown = ", ".join(ordered[:limit])
    rest = len(ordered) - limit
    return f"{shown} and {rest} more" if rest > 0 else shown


def format_shape(shape: Sequence[int]) -> str:
    """``(4, 100, 1, 1)``, also for one-element shapes (no trailing comma)."""
    return "(" + ", ".join(str(int(size)) for size in shape) + ")"


def check_latent_shape(value: Any, what: str, error: type[GanDoctorError]) -> tuple[int, ...]:
    """Return ``value`` as a tuple of positive ints, or raise ``error`` naming ``what``."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,)
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) == 0
        or not all(isinstance(size, int) and not isinstance(size, bool) for size in value)
        or not all(size > 0 for size in value)
    ):
        raise error(f"{what} must be a non-empty list of positive integers, got {value!r}")
    return tuple(int(size) for size in value)


def check_output_range(value: Any, what: str, error: type[GanDoctorError]) -> tuple[float, float]:
    """Return ``value`` as ``(low, high)`` with finite ``low < high``, or raise ``error``."""
    if (
        not isinstance(value, Sequence)
        or isinstance(value, str)
        or len(value) != 2
        or not all(
            isinstance(bound, int | float) and not isinstance(bound, bool) for bound in value
        )
    ):
        raise error(f"{what} must be two numbers [low, high], got {value!r}")
    low, high = float(value[0]), float(value[1])
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise error(f"{what} must be finite with low < high, got [{low}, {high}]")
    return low, high
