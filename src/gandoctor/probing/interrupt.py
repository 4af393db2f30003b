"""Ctrl-C during a probe: keep what was measured, and never claim it is complete.

``run_probe`` turns a KeyboardInterrupt into :class:`ProbeInterrupted` carrying the outcome
of the steps that ran (``complete=False``). ``gandoctor.probe`` raises its subclass
``api.ProbeInterruptedWithReport``, which adds the report of every checkpoint so far; the
CLI writes the reports the user asked for and exits with 130. This module knows nothing of
reports: the probe comes before the report in the data flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gandoctor.results.outcome import ProbeOutcome

EXIT_INTERRUPTED = 130
"""128 + SIGINT, what shells report for a command ended by Ctrl-C."""


class ProbeInterrupted(KeyboardInterrupt):
    """A KeyboardInterrupt that carries what was measured before it; code that catches
    KeyboardInterrupt still sees it as one."""

    def __init__(self, outcome: ProbeOutcome | None = None):
        super().__init__("the probe was interrupted")
        self.outcome = outcome
        """The probe under way, cut short (``complete`` False); None before its first
        measurement of the generator."""


@contextmanager
def interruptible(partial: Callable[[], ProbeOutcome | None]) -> Iterator[None]:
    """Turn a KeyboardInterrupt inside the block into :class:`ProbeInterrupted` carrying
    ``partial()``, the outcome so far."""
    try:
        yield
    except ProbeInterrupted:
        raise
    except KeyboardInterrupt:
        raise ProbeInterrupted(partial()) from None
