"""``gandoctor preflight``: before a long training run, check in seconds that the
generator, the data and (optionally) the discriminator fit together and that a training
signal flows (DESIGN.md, issue 6)."""

from gandoctor.preflight.result import Check, PreflightReport, Status
from gandoctor.preflight.runner import run_preflight

__all__ = ["Check", "PreflightReport", "Status", "run_preflight"]
