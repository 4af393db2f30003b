"""The gate: which findings turn the exit code to 1 (``--fail-on``). Pure Python."""

from __future__ import annotations

from dataclasses import dataclass

from gandoctor.config import FindingCode, Severity
from gandoctor.errors import ConfigError
from gandoctor.verdict import Finding

_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARN: 1, Severity.FAIL: 2}


@dataclass(frozen=True)
class FailOn:
    """Which findings make the gate fail: named codes, and/or severities at or above one."""

    codes: frozenset[FindingCode] = frozenset()
    min_severity: Severity | None = Severity.FAIL

    def matches(self, finding: Finding) -> bool:
        if finding.code in self.codes:
            return True
        if self.min_severity is None:
            return False
        return _SEVERITY_RANK[finding.severity] >= _SEVERITY_RANK[self.min_severity]

    def __str__(self) -> str:
        parts = sorted(str(c) for c in self.codes)
        if self.min_severity is not None:
            parts.append(str(self.min_severity))
        return ",".join(parts) or "none"


def parse_fail_on(text: str) -> FailOn:
    """Parse ``--fail-on``: comma-separated codes and severities, or ``none``.

    ``fail`` (the default) fails on every fail-severity finding; ``warn`` on warnings too;
    ``saturation,vanishing`` only on those codes, whatever their severity.
    """
    tokens = [t.strip().lower() for t in text.split(",") if t.strip()]
    if tokens == ["none"]:
        return FailOn(min_severity=None)
    codes: set[FindingCode] = set()
    severities: list[Severity] = []
    for token in tokens:
        if token in {s.value for s in Severity}:
            severities.append(Severity(token))
        elif token in {c.value for c in FindingCode}:
            codes.add(FindingCode(token))
        else:
            choices = [s.value for s in Severity] + [c.value for c in FindingCode] + ["none"]
            raise ConfigError(f"--fail-on: unknown entry {token!r}; choose from {choices}")
    if not codes and not severities:
        raise ConfigError("--fail-on is empty; use 'none' to never fail the gate")
    lowest = min(severities, key=_SEVERITY_RANK.__getitem__) if severities else None
    return FailOn(codes=frozenset(codes), min_severity=lowest)
