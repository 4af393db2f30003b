"""``--baseline``: compare a probe with an earlier JSON report and name its regressions.

A repository keeps a known-good report (``gandoctor.report/1``) in its tree; a later probe
of the same generator's successor fails the gate when its training signal got worse:

- the verdict got worse (healthy < warning < failing < broken) through findings that are
  not borderline;
- a fresh D saturates sooner: ``steps_to_saturation`` fell by more than
  ``Thresholds.regression_saturation_share``, or D now saturates where the baseline's D did
  not within as many steps;
- the minimax gradient loses more than ``Thresholds.regression_decades`` decades beyond
  the baseline's, or the -log D gradient gains more than ``regression_growth_decades``
  beyond the baseline's after the minimax peak;
- a finding code is at fail severity now, not borderline, but was not in the baseline
  (unless the baseline was broken: a broken generator gets no other finding).

Checkpoints are matched by path, then by file name; with one checkpoint on each side they
are matched whatever their names. Pure Python: the comparison reads plain records (the
saved report is read by ``report.saved``), so it needs neither torch nor the report.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

from gandoctor.enums import Severity, Verdict
from gandoctor.errors import ConfigError
from gandoctor.judge.verdict import overall
from gandoctor.results.baseline import (
    Baseline,
    BaselineCheckpoint,
    BaselineComparison,
    CheckpointComparison,
    Regression,
)
from gandoctor.results.readings import finite_or_none
from gandoctor.thresholds import Thresholds

if TYPE_CHECKING:
    from gandoctor.config import ProbeConfig
    from gandoctor.results.outcome import ProbeOutcome

# Settings that change no measured figure, or whose change the comparison already judges.
# The thread count changes figures by float rounding only, as another machine does; the
# plan that a budget chose is compared per checkpoint (_plans_differ), not as a setting.
_SETTINGS_IGNORED = {"device", "max_seconds", "early_stop", "thresholds", "threads", "plan",
                     "cpu_budget"}  # fmt: skip


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
            f"{{opt:baseline}} {baseline.path}: none of its checkpoints "
            f"({', '.join(theirs_short)}) matches a probed one ({', '.join(mine_short)})"
        )
    return sorted(pairs.items())


def compare(
    probed: Sequence[tuple[str, ProbeOutcome]], settings: ProbeConfig, baseline: Baseline
) -> BaselineComparison:
    """Compare every probed checkpoint, given as (name, outcome), that has a baseline entry
    (see the module docstring); ``settings`` are the probe's."""
    t = settings.thresholds
    names = [name for name, _ in probed]
    pairs = match(names, baseline)
    compared = [_compare_one(*probed[i], baseline.checkpoints[j], t) for i, j in pairs]
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
        settings_differ={
            **_settings_differ(baseline.settings, asdict(settings)),
            **_plans_differ(probed, baseline, pairs),
        },
    )


def _compare_one(
    name: str, now: ProbeOutcome, then: BaselineCheckpoint, t: Thresholds
) -> CheckpointComparison:
    s = now.summary
    sat = s.steps_to_saturation if s else None
    lost = finite_or_none(s.minimax_decades_lost) if s else None
    growth = finite_or_none(s.nonsat_growth_after_peak) if s else None
    fails = tuple(
        sorted(
            {str(f.code) for f in now.findings if f.severity == Severity.FAIL and not f.borderline}
        )
    )
    figures: dict[str, tuple[Any, Any]] = {
        "verdict": (str(then.verdict), str(now.verdict)),
        "steps_run": (then.steps_run, s.steps_run if s else 0),
        "steps_to_saturation": (then.steps_to_saturation, sat),
        "final_accuracy": (then.final_accuracy, finite_or_none(s.final_accuracy) if s else None),
        "final_d_fake": (then.final_d_fake, finite_or_none(s.final_d_fake) if s else None),
        "minimax_decades_lost": (then.minimax_decades_lost, lost),
        "nonsat_growth_after_peak": (then.nonsat_growth_after_peak, growth),
        "fail_findings": (list(then.fail_codes), list(fails)),
    }
    found: list[Regression] = []
    # A verdict that is worse only through borderline findings is no regression: on another
    # runner the same generator gets the baseline's verdict (judge.gate, "borderline").
    firm = overall(f for f in now.findings if not f.borderline)
    if firm.rank > then.verdict.rank:
        found.append(Regression("verdict", str(then.verdict), str(now.verdict),
                                f"verdict {then.verdict} -> {now.verdict}"))  # fmt: skip
    found += _saturation(then, sat, t.regression_saturation_share)
    for figure, label, before, after, tolerance in (
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
            found.append(Regression(figure, before, after, message))
    # A broken baseline was judged on nothing but being broken, so any other fail-level
    # finding now is news about a generator that works, not a regression.
    for code in fails if then.verdict != Verdict.BROKEN else ():
        if code not in then.fail_codes:
            found.append(Regression("finding", None, code, f"new fail-level finding: {code}"))
    return CheckpointComparison(name, then.checkpoint, figures, found)


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


def _plans_differ(probed: Sequence[tuple[str, ProbeOutcome]], baseline: Baseline,
                  pairs: list[tuple[int, int]]) -> dict[str, tuple[Any, Any]]:  # fmt: skip
    """A plan that differs from the baseline's is a setting that differs (results.plan):
    its figures were measured another way."""
    differ: dict[str, tuple[Any, Any]] = {}
    for i, j in pairs:
        name, outcome = probed[i]
        now = outcome.plan.settings() if outcome.plan is not None else None
        then = baseline.checkpoints[j].plan
        if now != then:
            differ[f"plan of {PurePath(name).name}"] = (_level(then), _level(now))
    return differ


def _level(plan: dict[str, Any] | None) -> str:
    return "full protocol" if plan is None else f"planned level {plan['level']}"


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
