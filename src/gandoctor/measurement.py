"""Moved: a re-export shim, kept for one release, for the import path the README used.

``run_probe`` now lives in ``gandoctor.probing.loop`` and ``ProbeOutcome`` in
``gandoctor.results.outcome``; ``gandoctor.run_probe`` is the stable name.
"""

from gandoctor.probing.loop import run_probe  # now gandoctor.probing.loop.run_probe
from gandoctor.results.outcome import ProbeOutcome  # now gandoctor.results.outcome

__all__ = ["ProbeOutcome", "run_probe"]
