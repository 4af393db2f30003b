"""The gate: which findings turn the exit code to 1 (``--fail-on``). Pure Python.

``--fail-on`` is a comma-separated list; a finding fails the gate when any entry names it:

- a severity, ``fail`` / ``warn`` / ``info``: every finding of that severity or worse
  (``fail``, the default, fails on fail-severity findings; ``warn`` on warnings too);
- a finding code, ``saturation``: that code at any severity, a warning or a note included
  (naming a code opts into it; ``mode_mismatch`` is a note, or a fail where the
  generator works in train mode only);
- a code with a severity, ``saturation:fail``: that code at that severity or worse;
- ``borderline``: also let borderline findings fail the gate (below);
- ``none`` (alone): never fail on findings.

A *borderline* finding is one whose deciding figure lies within its own uncertainty of
the threshold (``Finding.margin``): another runner, thread count or seed may put it on
the other side. By default such findings are reported, and count in the verdict, but do
not fail the gate, so that a CI job does not pass and fail by turns on the same
generator; add ``borderline`` (``fail,borderline``) to let them fail it.

So ``fail,range_mismatch`` fails on every fail-severity finding and on any range mismatch,
and ``saturation:fail,vanishing`` fails on a saturated D or a vanishing gradient of any
severity, but not on a saturation warning.
"""

from __future__ import annotations

from dataclasses import dataclass

from gandoctor.enums import FindingCode, Severity
from gandoctor.errors import ConfigError
from gandoctor.results.outcome import Finding


@dataclass(frozen=True)
class FailOn:
    """Which findings make the gate fail: named codes at any severity, codes at or above a
    severity, and/or every finding at or above one severity."""

    codes: frozenset[FindingCode] = frozenset()
    """Codes that fail the gate at any severity."""
    min_severity: Severity | None = Severity.FAIL
    """Every finding of this severity or worse fails the gate; None = no such entry."""
    scoped: frozenset[tuple[FindingCode, Severity]] = frozenset()
    """``code:severity`` entries: that code at that severity or worse."""
    borderline: bool = False
    """Borderline findings fail the gate too (the ``borderline`` entry)."""

    def matches(self, finding: Finding) -> bool:
        if finding.borderline and not self.borderline:
            return False
        if finding.code in self.codes:
            return True
        if any(code == finding.code and finding.severity.at_least(floor)
               for code, floor in self.scoped):  # fmt: skip
            return True
        return self.min_severity is not None and finding.severity.at_least(self.min_severity)

    def __str__(self) -> str:
        """The canonical ``--fail-on`` text: parsing it gives this gate back."""
        parts = sorted([str(c) for c in self.codes] + [f"{c}:{f}" for c, f in self.scoped])
        if self.min_severity is not None:
            parts.append(str(self.min_severity))
        if self.borderline and parts:
            parts.append(BORDERLINE)
        return ",".join(parts) or "none"


def parse_fail_on(text: str) -> FailOn:
    """Parse ``--fail-on`` (see the module docstring); entries are case-insensitive.

    Entries another entry already covers are dropped, so ``str`` gives the shortest
    equivalent text: ``saturation:fail,saturation`` is ``saturation``, ``warn,fail`` is
    ``warn``, and ``vanishing:fail,warn`` is ``warn``.
    """
    tokens = [t.strip().lower() for t in text.split(",") if t.strip()]
    borderline = BORDERLINE in tokens
    tokens = [t for t in tokens if t != BORDERLINE] if len(tokens) > 1 else tokens
    if tokens == [BORDERLINE]:
        raise ConfigError(
            "{opt:fail_on}: 'borderline' only widens other entries, e.g. 'fail,borderline'"
        )
    if "none" in tokens:
        if len(tokens) > 1:
            raise ConfigError(
                f"{{opt:fail_on}}: 'none' cannot be combined with other entries: {text!r}"
            )
        return FailOn(min_severity=None)
    if not tokens:
        raise ConfigError("{opt:fail_on} is empty; use 'none' to never fail the gate")
    codes: set[FindingCode] = set()
    severities: list[Severity] = []
    scoped: dict[FindingCode, Severity] = {}
    for token in tokens:
        name, sep, level = (part.strip() for part in token.partition(":"))
        if sep:
            code, floor = _code(name, token), _severity(level, token)
            if floor == Severity.INFO:
                codes.add(code)  # info or worse is every severity
            elif code not in scoped or scoped[code].at_least(floor):
                scoped[code] = floor  # keep the lowest floor given for a code
        elif name in _SEVERITIES:
            severities.append(Severity(name))
        else:
            codes.add(_code(name, token))
    lowest = min(severities, key=lambda s: s.rank) if severities else None
    kept = {
        (code, floor)
        for code, floor in scoped.items()
        if code not in codes and not (lowest is not None and floor.at_least(lowest))
    }
    return FailOn(
        codes=frozenset(codes), min_severity=lowest, scoped=frozenset(kept), borderline=borderline
    )


BORDERLINE = "borderline"
_SEVERITIES = {s.value for s in Severity}
_CODES = {c.value for c in FindingCode}


def _code(name: str, token: str) -> FindingCode:
    if name in _CODES:
        return FindingCode(name)
    choices = sorted(_SEVERITIES) + sorted(_CODES) + [BORDERLINE, "none"]
    raise ConfigError(
        f"{{opt:fail_on}}: unknown entry {token!r}; choose from {', '.join(choices)}, or "
        "CODE:SEVERITY"
    )


def _severity(level: str, token: str) -> Severity:
    if level in _SEVERITIES:
        return Severity(level)
    raise ConfigError(
        f"{{opt:fail_on}}: {token!r} needs a severity after ':' ({', '.join(sorted(_SEVERITIES))})"
    )
