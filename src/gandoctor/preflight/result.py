"""What ``gandoctor preflight`` found: one row per check, and the exit code they give."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from gandoctor.report.model import strict_json

SCHEMA = "gandoctor.preflight/1"


class Status(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    """Not run: an earlier check made it impossible (e.g. data that do not fit G)."""


_ORDER = (Status.SKIP, Status.PASS, Status.WARN, Status.FAIL)


@dataclass(frozen=True)
class Check:
    """One row of the preflight table."""

    name: str
    status: Status
    reason: str
    """One line with the numbers behind the status."""
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.name,
            "status": str(self.status),
            "reason": self.reason,
            "evidence": self.evidence,
        }


@dataclass(frozen=True)
class PreflightReport:
    generator: dict[str, Any]
    data: dict[str, Any]
    checks: list[Check]
    settings: dict[str, Any]
    version: str
    seconds: float

    @property
    def status(self) -> Status:
        """The worst status among the checks."""
        return max((c.status for c in self.checks), key=_ORDER.index, default=Status.PASS)

    @property
    def exit_code(self) -> int:
        """1 when a check failed, else 0 (warnings do not fail the gate)."""
        return 1 if self.status == Status.FAIL else 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "version": self.version,
            "status": str(self.status),
            "exit_code": self.exit_code,
            "seconds": self.seconds,
            "generator": self.generator,
            "data": self.data,
            "settings": self.settings,
            "checks": [c.to_dict() for c in self.checks],
        }

    def to_json(self, indent: int | None = 2) -> str:
        # Strict JSON: NaN and infinities become null, as in the probe's report.
        return strict_json(self.to_dict(), indent)
