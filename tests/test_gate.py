"""``--fail-on``: which findings fail the gate, on findings of every code and severity."""

import pytest

from gandoctor.enums import FindingCode, Severity
from gandoctor.errors import ConfigError
from gandoctor.judge.gate import parse_fail_on
from gandoctor.results.outcome import Finding


def finding(code: str, severity: str) -> Finding:
    return Finding(FindingCode(code), Severity(severity), "message", "remedy")


SATURATION_FAIL = finding("saturation", "fail")
SATURATION_WARN = finding("saturation", "warn")
VANISHING_FAIL = finding("vanishing", "fail")
VANISHING_WARN = finding("vanishing", "warn")
RANGE_WARN = finding("range_mismatch", "warn")
MODE_INFO = finding("mode_mismatch", "info")
ALL = [SATURATION_FAIL, SATURATION_WARN, VANISHING_FAIL, VANISHING_WARN, RANGE_WARN, MODE_INFO]


@pytest.mark.parametrize(
    ("text", "failing"),
    [
        # A severity: every finding of that severity or worse.
        ("fail", [SATURATION_FAIL, VANISHING_FAIL]),
        ("warn", [SATURATION_FAIL, SATURATION_WARN, VANISHING_FAIL, VANISHING_WARN, RANGE_WARN]),
        ("info", ALL),
        # A code: that code at any severity, a note included.
        ("saturation", [SATURATION_FAIL, SATURATION_WARN]),
        (
            "saturation,vanishing",
            [SATURATION_FAIL, SATURATION_WARN, VANISHING_FAIL, VANISHING_WARN],
        ),
        ("mode_mismatch", [MODE_INFO]),
        # CODE:SEVERITY: that code at that severity or worse.
        ("saturation:fail", [SATURATION_FAIL]),
        ("vanishing:warn", [VANISHING_FAIL, VANISHING_WARN]),
        # Entries add up.
        ("fail,range_mismatch", [SATURATION_FAIL, VANISHING_FAIL, RANGE_WARN]),
        ("saturation:fail,vanishing", [SATURATION_FAIL, VANISHING_FAIL, VANISHING_WARN]),
        ("none", []),
        (" Saturation : FAIL ", [SATURATION_FAIL]),  # case and spaces do not matter
    ],
)
def test_fail_on_selects_findings(text: str, failing: list[Finding]) -> None:
    gate = parse_fail_on(text)
    assert [f for f in ALL if gate.matches(f)] == failing


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("fail", "fail"),
        ("warn,fail", "warn"),
        ("saturation:fail,saturation", "saturation"),
        ("vanishing:fail,warn", "warn"),  # covered by warn
        ("vanishing:warn,fail", "vanishing:warn,fail"),
        ("saturation:warn,saturation:fail", "saturation:warn"),  # the lower floor
        ("range_mismatch:info", "range_mismatch"),  # info or worse = any severity
        ("vanishing, saturation", "saturation,vanishing"),
        ("none", "none"),
    ],
)
def test_canonical_text_round_trips(text: str, canonical: str) -> None:
    gate = parse_fail_on(text)
    assert str(gate) == canonical
    assert parse_fail_on(str(gate)) == gate


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("bogus", "unknown entry 'bogus'"),
        ("saturation:bad", "needs a severity"),
        ("bogus:fail", "unknown entry 'bogus:fail'"),
        ("none,fail", "'none' cannot be combined"),
        (" , ", "empty"),
    ],
)
def test_bad_fail_on_is_one_clear_error(text: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle) as error:
        parse_fail_on(text)
    assert "\n" not in str(error.value)
