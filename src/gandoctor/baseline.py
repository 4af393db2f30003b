"""``--baseline``: compare a probe with an earlier JSON report and name its regressions.

A repository keeps a known-good report (``gandoctor.report/1``) in its tree; a later probe
of the same generator's successor fails the gate when its training signal got worse:

- the verdict got worse (healthy < warning < failing < broken);
- a fresh D saturates sooner: ``steps_to_saturation`` fell by more than
  ``Thresholds.regression_saturation_share``, or D now saturates where the baseline's D did
  not within as many steps;
- the minimax gradient loses more than ``Thresholds.regression_decades`` decades beyond
  the baseline's, or the -log D gradient gains more than ``regression_growth_decades``
  beyond the baseline's after the minimax peak;
- a finding code is at fail severity now but was not in the baseline (unless the baseline
  was broken: a broken generator gets no other finding).

Checkpoints are matched by path, then by file name; with one checkpoint on each side they
are matched whatever their names. Pure Python: the baseline is plain JSON.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any

from gandoctor.config import Severity, Thresholds, Verdict
from gandoctor.errors import ConfigError

if TYPE_CHECKING:
    from gandoctor.report import CheckpointReport, Report

SCHEMA = "gandoctor.report/1"  # report.SCHEMA; repeated so that this module needs no torch
_ORDER = [Verdict.HEALTHY, Verdict.WARNING, Verdict.FAILING, Verdict.BROKEN]
# Settings that change no measured figure, or whose change the comparison already judges.
_SETTINGS_IGNORED = {"device", "max_seconds", "early_stop", "thresholds"}


@dataclass(frozen=True)
class BaselineCheckpoint:
    """What the comparison reads from one checkpoint of the baseline report."""

    checkpoint: str
    verdict: Verdict
    steps_run: int
    steps_to_saturation: int | None
    final_accuracy: float | None
    final_d_fake: float | None
    minimax_decades_lost: float | None
    nonsat_growth_after_peak: float | None
    fail_codes: tuple[str, ...]
    complete: bool


@dataclass(frozen=True)
class Baseline:
    path: str
    checkpoints: list[BaselineCheckpoint]
    settings: dict[str, Any]


@dataclass(frozen=True)
class Regression:
    figure: str
    """``verdict``, ``steps_to_saturation``, ``minimax_decades_lost``,
    ``nonsat_growth_after_peak`` or ``finding``."""
    baseline: Any
    current: Any
    message: str


@dataclass(frozen=True)
class CheckpointComparison:
    checkpoint: str
    baseline_checkpoint: str
    figures: dict[str, tuple[Any, Any]]
    """Figure name -> (baseline, now), as the report shows them."""
    regressions: list[Regression]


@dataclass(frozen=True)
class BaselineComparison:
    """The whole comparison; ``regressed`` turns the exit code to 1."""

    path: str
    tolerances: dict[str, float]
    checkpoints: list[CheckpointComparison]
    unmatched: list[str] = field(default_factory=list)
    """Probed checkpoints the baseline has no entry for (not compared)."""
    missing: list[str] = field(default_factory=list)
    """Baseline checkpoints that were not probed this time."""
    settings_differ: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    """Probe settings that differ, name -> (baseline, now): figures may differ for that."""

    @property
    def regressions(self) -> list[tuple[str, Regression]]:
        return [(c.checkpoint, r) for c in self.checkpoints for r in c.regressions]

    @property
    def regressed(self) -> bool:
        return bool(self.regressions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "regressed": self.regressed,
            "tolerances": self.tolerances,
            "checkpoints": [
                {
                    "checkpoint": c.checkpoint,
                    "baseline_checkpoint": c.baseline_checkpoint,
                    "figures": {k: {"baseline": b, "now": n} for k, (b, n) in c.figures.items()},
                    "regressions": [asdict(r) for r in c.regressions],
                }
                for c in self.checkpoints
            ],
            "unmatched": self.unmatched,
            "missing": self.missing,
            "settings_differ": {k: {"baseline": b, "now": n}
                                for k, (b, n) in self.settings_differ.items()},
        }  # fmt: skip


def load_baseline(path: str | os.PathLike[str]) -> Baseline:
    """Read a saved report; a missing or malformed file raises ConfigError with one line."""
    name = os.fspath(path)
    try:
        data = json.loads(Path(name).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"--baseline {name}: file not found") from None
    except OSError as error:
        raise ConfigError(f"--baseline {name}: cannot read it: {error.strerror}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"--baseline {name}: not a JSON report ({error})") from None
    if not isinstance(data, dict) or data.get("schema") != SCHEMA:
        found = data.get("schema") if isinstance(data, dict) else type(data).__name__
        raise ConfigError(f"--baseline {name}: schema is {found!r}, expected {SCHEMA!r}")
    entries = data.get("checkpoints")
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"--baseline {name}: the report lists no checkpoints")
    try:
        checkpoints = [_checkpoint(entry) for entry in entries]
    except (KeyError, TypeError, ValueError) as error:
        raise ConfigError(f"--baseline {name}: malformed checkpoint entry ({error!r})") from None
    settings = data.get("settings")
    return Baseline(name, checkpoints, settings if isinstance(settings, dict) else {})


def _checkpoint(entry: dict[str, Any]) -> BaselineCheckpoint:
    summary = entry.get("summary") or {}
    sat = summary.get("steps_to_saturation")
    return BaselineCheckpoint(
        checkpoint=str(entry["checkpoint"]),
        verdict=Verdict(entry["verdict"]),
        steps_run=int(summary.get("steps_run", 0)),
        steps_to_saturation=None if sat is None else int(sat),
        final_accuracy=_number(summary.get("final_accuracy")),
        final_d_fake=_number(summary.get("final_d_fake")),
        minimax_decades_lost=_number(summary.get("minimax_decades_lost")),
        nonsat_growth_after_peak=_number(summary.get("nonsat_growth_after_peak")),
        fail_codes=tuple(
            sorted({str(f["code"]) for f in entry["findings"] if f["severity"] == "fail"})
        ),
        complete=bool(entry.get("probe", {}).get("complete", True)),
    )


def _number(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def match(names: list[str], baseline: Baseline) -> list[tuple[int, int]]:
    """Pairs (probed index, baseline index): one on each side; else equal paths, else equal
    file names where the name is unique on both sides. Raises ConfigError when none match."""
    theirs = [c.checkpoint for c in baseline.checkpoints]
    if len(names) == 1 and len(theirs) == 1:
        return [(0, 0)]
    pairs: dict[int, int] = {i: theirs.index(n) for i, n in enumerate(names) if n in theirs}
    mine_short = [PurePath(n).name for n in names]
    theirs_short = [PurePath(n).name for n in theirs]
    for i, short in enumerate(mine_short):
        if i in pairs or mine_short.count(short) > 1 or theirs_short.count(short) != 1:
            continue
        j = theirs_short.index(short)
        if j not in pairs.values():
            pairs[i] = j
    if not pairs:
        raise ConfigError(
            f"--baseline {baseline.path}: none of its checkpoints "
            f"({', '.join(theirs_short)}) matches a probed one ({', '.join(mine_short)})"
        )
    return sorted(pairs.items())


def compare(report: Report, baseline: Baseline) -> BaselineComparison:
    """Compare every probed checkpoint that has a baseline entry (see the module docstring)."""
    t = report.settings.thresholds
    names = [c.checkpoint for c in report.checkpoints]
    pairs = match(names, baseline)
    compared = [_compare_one(report.checkpoints[i], baseline.checkpoints[j], t) for i, j in pairs]
    matched_mine, matched_theirs = {i for i, _ in pairs}, {j for _, j in pairs}
    return BaselineComparison(
        path=baseline.path,
        tolerances={
            "regression_saturation_share": t.regression_saturation_share,
            "regression_decades": t.regression_decades,
            "regression_growth_decades": t.regression_growth_decades,
        },
        checkpoints=compared,
        unmatched=[n for i, n in enumerate(names) if i not in matched_mine],
        missing=[
            c.checkpoint for j, c in enumerate(baseline.checkpoints) if j not in matched_theirs
        ],
        settings_differ=_settings_differ(baseline.settings, asdict(report.settings)),
    )


def _compare_one(
    now: CheckpointReport, then: BaselineCheckpoint, t: Thresholds
) -> CheckpointComparison:
    s = now.outcome.summary
    sat = s.steps_to_saturation if s else None
    lost = _number(s.minimax_decades_lost) if s else None
    growth = _number(s.nonsat_growth_after_peak) if s else None
    fails = tuple(
        sorted({str(f.code) for f in now.outcome.findings if f.severity == Severity.FAIL})
    )
    figures: dict[str, tuple[Any, Any]] = {
        "verdict": (str(then.verdict), str(now.verdict)),
        "steps_run": (then.steps_run, s.steps_run if s else 0),
        "steps_to_saturation": (then.steps_to_saturation, sat),
        "final_accuracy": (then.final_accuracy, _number(s.final_accuracy) if s else None),
        "final_d_fake": (then.final_d_fake, _number(s.final_d_fake) if s else None),
        "minimax_decades_lost": (then.minimax_decades_lost, lost),
        "nonsat_growth_after_peak": (then.nonsat_growth_after_peak, growth),
        "fail_findings": (list(then.fail_codes), list(fails)),
    }
    found: list[Regression] = []
    if _ORDER.index(now.verdict) > _ORDER.index(then.verdict):
        found.append(Regression("verdict", str(then.verdict), str(now.verdict),
                                f"verdict {then.verdict} -> {now.verdict}"))  # fmt: skip
    found += _saturation(then, sat, t.regression_saturation_share)
    for name, label, before, after, tolerance in (
        ("minimax_decades_lost", "the minimax gradient lost", then.minimax_decades_lost, lost,
         t.regression_decades),
        ("nonsat_growth_after_peak", "the -log D gradient grew after the minimax peak",
         then.nonsat_growth_after_peak, growth, t.regression_growth_decades),
    ):  # fmt: skip
        if before is not None and after is not None and after - before > tolerance:
            message = (
                f"{label} {after:.2f} decades against {before:.2f} in the baseline "
                f"(tolerance +{tolerance:g})"
            )
            found.append(Regression(name, before, after, message))
    # A broken baseline was judged on nothing but being broken, so any other fail-level
    # finding now is news about a generator that works, not a regression.
    for code in fails if then.verdict != Verdict.BROKEN else ():
        if code not in then.fail_codes:
            found.append(Regression("finding", None, code, f"new fail-level finding: {code}"))
    return CheckpointComparison(now.checkpoint, then.checkpoint, figures, found)


def _saturation(then: BaselineCheckpoint, sat: int | None, share: float) -> list[Regression]:
    """D saturates sooner. A baseline D that did not saturate counts only up to the steps it
    ran: saturating at step 350 says nothing against a baseline of 200 steps."""
    if sat is None:
        return []
    before = then.steps_to_saturation
    if before is None:
        if sat > then.steps_run:
            return []
        message = (
            f"D now saturates at step {sat}; in the baseline it did not within "
            f"{then.steps_run} steps"
        )
        return [Regression("steps_to_saturation", None, sat, message)]
    if sat < before * (1 - share):
        fell = 1 - sat / before if before else 0.0
        message = (
            f"D saturates at step {sat} against step {before} in the baseline, {fell:.0%} "
            f"sooner (tolerance {share:.0%})"
        )
        return [Regression("steps_to_saturation", before, sat, message)]
    return []


def _settings_differ(then: dict[str, Any], now: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    differ: dict[str, tuple[Any, Any]] = {}
    for key, value in now.items():
        if key in _SETTINGS_IGNORED or key not in then:
            continue
        current = list(value) if isinstance(value, tuple) else value
        if then[key] != current:
            differ[key] = (then[key], current)
    # Thresholds decide the findings compared above; the tolerances themselves do not count.
    before, after = then.get("thresholds") or {}, now.get("thresholds") or {}
    for key, value in after.items():
        if not key.startswith("regression_") and key in before and before[key] != value:
            differ[f"thresholds.{key}"] = (before[key], value)
    return differ
